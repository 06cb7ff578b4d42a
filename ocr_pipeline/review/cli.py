"""``ocr-pipeline review serve``: the review web page on a local port."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from ocr_pipeline.review.auth import Reviewer, TokenAuth, load_tokens
from ocr_pipeline.review.images import read_image
from ocr_pipeline.review.store import open_review_store

DEFAULT_STORE = "sqlite:///data/review.db"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocr-pipeline review", description="Human review of flagged pages.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the review queue and task pages")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8766)
    serve.add_argument("--store", default=os.environ.get("OCR_PIPELINE_REVIEW_STORE_URI", DEFAULT_STORE),
                       help="sqlite:///path.db or dynamodb://table (env OCR_PIPELINE_REVIEW_STORE_URI)")
    serve.add_argument("--token", default=os.environ.get("OCR_PIPELINE_REVIEW_TOKEN"),
                       help="one reviewer's token, tier 2 (env OCR_PIPELINE_REVIEW_TOKEN)")
    serve.add_argument("--reviewer", default=os.environ.get("USER", "reviewer"), help="the name --token reviews as")
    serve.add_argument("--tokens-file", type=Path, help='JSON {"<token>": {"name": "alice", "tier": 1}, ...}')
    serve.add_argument("--agreement", type=float, default=0.6, help="share of answers that must agree per field")
    serve.add_argument("--endpoint-url", default=os.environ.get("OCR_PIPELINE_S3_ENDPOINT_URL"),
                       help="S3/DynamoDB-compatible endpoint (MinIO, moto)")
    serve.add_argument("--secure-cookie", action="store_true", help="mark the login cookie Secure (behind HTTPS)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    tokens = load_tokens(args.tokens_file) if args.tokens_file else {}
    if args.token:
        tokens[args.token] = Reviewer(args.reviewer, tier=2)
    try:
        auth = TokenAuth(tokens)
    except ValueError as error:
        print(f"ocr-pipeline review: {error} (--token, --tokens-file or OCR_PIPELINE_REVIEW_TOKEN)", file=sys.stderr)
        return 2
    import uvicorn

    from ocr_pipeline.review.web import create_app

    store = open_review_store(args.store, endpoint_url=args.endpoint_url)
    app = create_app(store, auth, read_image=partial(read_image, endpoint_url=args.endpoint_url),
                     agreement=args.agreement, secure_cookie=args.secure_cookie)
    print(f"review queue on http://{args.host}:{args.port}/ (store {args.store})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
