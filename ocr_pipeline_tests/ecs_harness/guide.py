"""``docs/deploy.md`` as data: the JSON documents its shell blocks write, and its template variable list.

The guide writes every structured AWS request (tables, launch template, Auto Scaling group,
capacity provider, services) as a ``cat > /tmp/<name>.json <<EOF`` heredoc passed with
``--cli-input-json``, whose keys are the API's own. The harness expands a heredoc the way the
shell does and sends it to moto through boto3, so the tests run the guide's requests, not a copy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
_HEREDOC = re.compile(r"^cat > (?P<path>\S+) <<EOF\n(?P<body>.*?)\nEOF$", re.MULTILINE | re.DOTALL)
_EXPANSION = re.compile(r"\\\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")
_TEMPLATE_VARS = re.compile(r"TEMPLATE_VARS='(?P<names>[^']*)'")


def shell_blocks(text: str | None = None) -> list[str]:
    """The guide's ```sh blocks."""
    text = GUIDE.read_text() if text is None else text
    return re.findall(r"^```sh\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def heredoc(path: str) -> str:
    """The body of the one heredoc that writes ``path`` (unexpanded)."""
    bodies = [m["body"] for block in shell_blocks() for m in _HEREDOC.finditer(block) if m["path"] == path]
    if len(bodies) != 1:
        raise AssertionError(f"docs/deploy.md writes {path} {len(bodies)} times with a heredoc (expected once)")
    return bodies[0]


def expand(text: str, values: dict[str, str]) -> str:
    """What an unquoted heredoc does: ``$NAME``/``${NAME}`` expanded, ``\\$`` a literal ``$``."""

    def one(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        if name is None:
            return "$"
        if name not in values:
            raise KeyError(f"docs/deploy.md uses ${name}, which the harness does not set")
        return values[name]

    return _EXPANSION.sub(one, text)


def guide_json(path: str, values: dict[str, str]) -> dict[str, Any]:
    """The JSON request the guide writes to ``path``, with ``values`` for its shell variables."""
    return json.loads(expand(heredoc(path), values))


def template_vars() -> set[str]:
    """The names in the guide's ``TEMPLATE_VARS`` (what its ``envsubst`` calls fill in)."""
    found = _TEMPLATE_VARS.findall(GUIDE.read_text())
    if len(found) != 1:
        raise AssertionError(f"docs/deploy.md sets TEMPLATE_VARS {len(found)} times (expected once)")
    return set(re.findall(r"\$\{([A-Z_]+)\}", found[0]))
