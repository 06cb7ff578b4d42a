"""Who is reviewing: bearer tokens (header or the login cookie) mapped to reviewers."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

COOKIE = "review_token"


@dataclass(frozen=True)
class Reviewer:
    name: str
    tier: int = 1
    """2: may answer escalated tasks, and that answer is final."""


class TokenAuth:
    """Constant-time lookup of a token among the configured ones."""

    def __init__(self, tokens: Mapping[str, Reviewer]) -> None:
        if not tokens or any(len(token) < 8 for token in tokens):
            raise ValueError("configure at least one review token, each at least 8 characters long")
        self._tokens = dict(tokens)

    def reviewer(self, authorization: str | None, cookie: str | None) -> Reviewer | None:
        """The reviewer for an ``Authorization: Bearer`` header, else for the login cookie."""
        scheme, _, header_token = (authorization or "").partition(" ")
        offered = header_token.strip() if scheme.lower() == "bearer" else cookie
        if not offered:
            return None
        found = None
        for token, reviewer in self._tokens.items():
            if hmac.compare_digest(token.encode(), offered.encode()):
                found = reviewer
        return found


def load_tokens(path: Path) -> dict[str, Reviewer]:
    """``{"<token>": {"name": "alice", "tier": 1}, ...}`` from a JSON file."""
    data = json.loads(path.read_text())
    return {token: Reviewer(entry["name"], int(entry.get("tier", 1))) for token, entry in data.items()}
