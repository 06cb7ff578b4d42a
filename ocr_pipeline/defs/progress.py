"""Progress reporting from stage callbacks into the Dagster run log."""

import time

import dagster as dg

from ocr_pipeline.stages.render import Progress


def log_progress(context: dg.AssetExecutionContext, what: str, every_seconds: float = 5.0) -> Progress:
    """A progress callback that logs ``what`` at most every few seconds, and at the end."""
    last = [time.monotonic()]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= every_seconds:
            last[0] = now
            context.log.info(f"{what}: {done}/{total or '?'} pages")

    return report
