"""``ocr-pipeline review serve``: the review web page on a local port."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from ocr_pipeline.review.auth import MIN_SECRET_BYTES, SESSION_SECONDS, Reviewer, TokenAuth, parse_tokens
from ocr_pipeline.review.images import read_image
from ocr_pipeline.review.store import open_review_store

DEFAULT_STORE = "sqlite:///data/review.db"
TOKEN_ENV = "OCR_PIPELINE_REVIEW_TOKEN"
"""One tier-2 reviewer's token (the environment, unlike ``--token``, is not shown by ``ps``)."""
TOKENS_ENV = "OCR_PIPELINE_REVIEW_TOKENS"
"""Reviewers' tokens as JSON, the ``--tokens-file`` format."""
SECRET_ENV = "OCR_PIPELINE_REVIEW_SESSION_SECRET"
"""The key that signs login sessions (shared by replicas); random per process when unset."""


class ConfigError(Exception):
    """A setting that cannot be read: exit 2 with its message."""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocr-pipeline review", description="Human review of flagged pages.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the review queue and task pages")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8766)
    serve.add_argument(
        "--store",
        default=os.environ.get("OCR_PIPELINE_REVIEW_STORE_URI", DEFAULT_STORE),
        help="sqlite:///path.db or dynamodb://table (env OCR_PIPELINE_REVIEW_STORE_URI)",
    )
    one = serve.add_mutually_exclusive_group()
    one.add_argument(
        "--token-file",
        type=Path,
        help=f"a file holding one reviewer's token, tier 2, named --reviewer (or env {TOKEN_ENV})",
    )
    one.add_argument(
        "--token",
        help="one reviewer's token on the command line: other users see it in ps, "
        "prefer --token-file or env " + TOKEN_ENV,
    )
    serve.add_argument(
        "--reviewer",
        default=os.environ.get("USER", "reviewer"),
        help="the name the --token-file/--token/env token reviews as",
    )
    serve.add_argument(
        "--tokens-file",
        type=Path,
        help=f'JSON {{"<token>": {{"name": "alice", "tier": 1}}, ...}} (or the same JSON in env {TOKENS_ENV})',
    )
    serve.add_argument(
        "--session-secret-file",
        type=Path,
        help=f"a file holding the key (at least {MIN_SECRET_BYTES} bytes) that signs login sessions, "
        f"the same for every replica (or env {SECRET_ENV}; default: random, sessions end on restart)",
    )
    serve.add_argument(
        "--session-hours",
        type=float,
        default=SESSION_SECONDS / 3600,
        help="how long a login lasts (default %(default)g)",
    )
    serve.add_argument("--agreement", type=float, default=0.6, help="share of answers that must agree per field")
    serve.add_argument(
        "--endpoint-url",
        default=os.environ.get("OCR_PIPELINE_S3_ENDPOINT_URL"),
        help="S3/DynamoDB-compatible endpoint (MinIO, moto)",
    )
    serve.add_argument(
        "--secure-cookie",
        action="store_true",
        help="mark the cookies Secure (behind an HTTPS proxy; requests arriving as https get it anyway)",
    )
    return parser


def _read(path: Path, what: str, warnings: list[str]) -> str:
    try:
        text = path.read_text().strip()
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the {what} {path}: {error}") from error
    if mode & 0o077:
        warnings.append(f"{path} can be read by other users: chmod 600 {path}")
    return text


def configure(args: argparse.Namespace, warnings: list[str]) -> TokenAuth:
    """The reviewers' tokens and session settings from the arguments and the environment."""
    tokens: dict[str, Reviewer] = {}
    try:
        if args.tokens_file:
            tokens.update(parse_tokens(_read(args.tokens_file, "tokens file", warnings)))
        if os.environ.get(TOKENS_ENV):
            tokens.update(parse_tokens(os.environ[TOKENS_ENV]))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f'reviewer tokens are not {{"<token>": {{"name": ..., "tier": ...}}}}: {error}') from error
    if args.token:
        warnings.append(
            f"--token is visible to other users of this machine (ps); use --token-file or {TOKEN_ENV} instead"
        )
        token = args.token
    elif args.token_file:
        token = next(iter(_read(args.token_file, "token file", warnings).splitlines()), "").strip()
    else:
        token = os.environ.get(TOKEN_ENV)
    if token:
        tokens[token] = Reviewer(args.reviewer, tier=2)
    secret: bytes | None
    if args.session_secret_file:
        secret = _read(args.session_secret_file, "session secret file", warnings).encode()
    else:
        secret = os.environ.get(SECRET_ENV, "").encode() or None
    if secret is not None and len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(f"the session secret must be at least {MIN_SECRET_BYTES} bytes")
    if args.session_hours <= 0:
        raise ConfigError("--session-hours must be positive")
    try:
        return TokenAuth(tokens, secret=secret, session_seconds=round(args.session_hours * 3600))
    except ValueError as error:
        raise ConfigError(f"{error} (--token-file, --tokens-file, {TOKEN_ENV} or {TOKENS_ENV})") from error


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    warnings: list[str] = []
    try:
        auth = configure(args, warnings)
    except ConfigError as error:
        print(f"ocr-pipeline review: {error}", file=sys.stderr)
        return 2
    import uvicorn

    from ocr_pipeline.review.web import create_app

    store = open_review_store(args.store, endpoint_url=args.endpoint_url)
    app = create_app(
        store,
        auth,
        read_image=partial(read_image, endpoint_url=args.endpoint_url),
        agreement=args.agreement,
        secure_cookie=args.secure_cookie,
    )
    print(f"review queue on http://{args.host}:{args.port}/ (store {args.store})", flush=True)
    for warning in warnings:  # after the banner, whose line tools wait for
        print(f"ocr-pipeline review: warning: {warning}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
