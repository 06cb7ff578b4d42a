"""Progress reporting from stage callbacks into the Dagster run log, and to ``ocr_pipeline.progress``
(a Python logger the command line prints, so a long document shows its pages going by)."""

import logging
import time

import dagster as dg

from ocr_pipeline.stages.rendered_pages import Progress

PROGRESS = logging.getLogger("ocr_pipeline.progress")


def log_progress(context: dg.AssetExecutionContext, what: str, every_seconds: float = 5.0) -> Progress:
    """A progress callback that logs ``what`` at most every few seconds, and at the end."""
    last = [time.monotonic()]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= every_seconds:
            last[0] = now
            message = f"{what}: {done}/{total or '?'} pages"
            context.log.info(message)
            PROGRESS.info(message)

    return report
