"""``ocr-pipeline serve``: run the OCR service with uvicorn.

The default host is 127.0.0.1 so a developer machine does not expose the service; in a
SageMaker (or any) container pass ``--host 0.0.0.0`` (SageMaker sends traffic to port 8080).
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from ocr_pipeline.ocr.registry import DEFAULT_CPU_ENGINE, ENGINES, build_engine
from ocr_pipeline.serve.config import MB, FetchPolicy, ServiceConfig


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ocr-pipeline serve",
        description="Serve an OCR engine over HTTP (SageMaker contract: GET /ping, POST /invocations).",
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address; 0.0.0.0 in a container (default %(default)s)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--engine", default=DEFAULT_CPU_ENGINE, choices=sorted(ENGINES))
    p.add_argument("--model-path", help="model directory or id, passed to the engine as model_path")
    p.add_argument(
        "--option",
        action="append",
        type=_option,
        default=[],
        metavar="KEY=VALUE",
        help="engine option (value parsed as JSON when possible); repeatable",
    )
    p.add_argument("--dpi", type=int, default=144, help="default PDF render DPI")
    p.add_argument("--max-body-mb", type=float, default=64)
    p.add_argument("--max-pages", type=int, default=50, help="most PDF pages per request")
    p.add_argument("--max-pixels", type=int, default=40_000_000, help="image cap; PDF pages render at a lower DPI")
    p.add_argument(
        "--max-request-pixels",
        type=int,
        default=120_000_000,
        help="all pages of one request together, checked before rendering (413 above)",
    )
    p.add_argument(
        "--max-queue",
        type=int,
        default=16,
        help="requests admitted beyond the one on the engine; more get 503 before any work",
    )
    p.add_argument("--max-batch-pages", type=int, help="pages per engine call (default: the engine's batch_size)")
    p.add_argument("--batch-wait-ms", type=float, default=5.0)
    p.add_argument("--allowed-host", action="append", default=[], help="host exempt from the SSRF guard")
    p.add_argument("--allow-loopback", action="store_true", help="let URLs point at loopback (testing only)")
    p.add_argument("--max-download-mb", type=float, default=50)
    p.add_argument("--fetch-timeout", type=float, default=30.0)
    p.add_argument(
        "--allow-s3",
        action="append",
        default=[],
        metavar="BUCKET[/PREFIX]",
        help="where s3:// sources may come from (repeatable; none: s3:// is refused)",
    )
    p.add_argument("--s3-endpoint-url", help="S3 endpoint for s3:// sources (trusted, not SSRF-checked)")
    p.add_argument("--log-level", default="info")
    return p


def config_from(args: argparse.Namespace) -> ServiceConfig:
    fetch = FetchPolicy(
        allowed_hosts=frozenset(h.lower() for h in args.allowed_host),
        allow_loopback=args.allow_loopback,
        max_bytes=int(args.max_download_mb * MB),
        timeout=args.fetch_timeout,
        s3_endpoint_url=args.s3_endpoint_url,
        s3_prefixes=tuple(args.allow_s3),
    )
    return ServiceConfig(
        max_body_bytes=int(args.max_body_mb * MB),
        max_pages=args.max_pages,
        max_pixels=args.max_pixels,
        max_request_pixels=args.max_request_pixels,
        dpi=args.dpi,
        max_queue=args.max_queue,
        max_batch_pages=args.max_batch_pages,
        batch_wait_ms=args.batch_wait_ms,
        fetch=fetch,
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; returns the exit status."""
    import uvicorn

    from ocr_pipeline.serve.app import create_app

    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = dict(args.option)
    if args.model_path:
        options["model_path"] = args.model_path
    app = create_app(
        lambda: build_engine(args.engine, **options), config_from(args), model=args.model_path or args.engine
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower(), workers=1)
    return 0
