"""Who is reviewing: bearer tokens (``Authorization`` header) and signed, expiring login sessions.

The login form trades a token for a session cookie: ``<payload>.<HMAC-SHA256>`` whose payload holds the
reviewer's name and tier, an HMAC fingerprint of the token (never the token) and an expiry. The signing
key is per process unless configured, so sessions end when the app restarts. Login forms carry a CSRF
token bound to a pre-session cookie, and failed logins are throttled per client address and globally
(``LoginThrottle``), in bounded memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

COOKIE = "review_session"
"""The signed session cookie (an older ``review_token`` cookie that held the raw token is ignored)."""
CSRF_COOKIE = "review_csrf"
"""The pre-session cookie that login and logout forms' CSRF tokens are bound to."""
SESSION_SECONDS = 8 * 3600
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class Reviewer:
    name: str
    tier: int = 1
    """2: may answer escalated tasks, and that answer is final."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuth:
    """Constant-time lookup of a token among the configured ones; signs and checks login sessions.

    ``secret`` signs sessions and CSRF tokens (random per process when not given: give every replica the
    same one); ``session_seconds`` is a session's lifetime; ``clock`` is for tests.
    """

    def __init__(
        self,
        tokens: Mapping[str, Reviewer],
        *,
        secret: bytes | None = None,
        session_seconds: int = SESSION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not tokens or any(len(token) < 8 for token in tokens):
            raise ValueError("configure at least one review token, each at least 8 characters long")
        if secret is not None and len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the session secret must be at least {MIN_SECRET_BYTES} bytes")
        if session_seconds <= 0:
            raise ValueError("sessions must last a positive number of seconds")
        self._tokens = dict(tokens)
        self._secret = secret if secret is not None else secrets.token_bytes(MIN_SECRET_BYTES)
        self.session_seconds = int(session_seconds)
        self._clock = clock
        self._by_fingerprint = {self._fingerprint(token): reviewer for token, reviewer in self._tokens.items()}

    def _mac(self, purpose: bytes, data: bytes) -> bytes:
        return hmac.new(self._secret, purpose + b"\0" + data, hashlib.sha256).digest()

    def _fingerprint(self, token: str) -> str:
        return _b64(self._mac(b"token", token.encode())[:16])

    def check(self, offered: str | None) -> Reviewer | None:
        """The reviewer holding token ``offered``, compared in constant time with every configured token."""
        if not offered:
            return None
        found = None
        for token, reviewer in self._tokens.items():
            if hmac.compare_digest(token.encode(), offered.encode()):
                found = reviewer
        return found

    @staticmethod
    def bearer(authorization: str | None) -> str | None:
        """The token of an ``Authorization: Bearer <token>`` header, else None."""
        scheme, _, token = (authorization or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def reviewer(self, authorization: str | None, session: str | None) -> Reviewer | None:
        """The reviewer for an ``Authorization: Bearer`` header, else for the session cookie."""
        token = self.bearer(authorization)
        return self.check(token) if token is not None else self.session_reviewer(session)

    def issue_session(self, token: str) -> str:
        """A signed session cookie value for a valid ``token`` (which it does not contain)."""
        reviewer = self.check(token)
        if reviewer is None:
            raise ValueError("not a configured token")
        payload = json.dumps(
            {
                "name": reviewer.name,
                "tier": reviewer.tier,
                "key": self._fingerprint(token),
                "exp": int(self._clock()) + self.session_seconds,
            },
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(b'session', payload))}"

    def session_reviewer(self, value: str | None) -> Reviewer | None:
        """The reviewer of a session cookie; None when missing, tampered with, expired or its token is gone."""
        if not value or len(value) > 1024 or value.count(".") != 1:
            return None
        encoded, _, signature = value.partition(".")
        try:
            payload, mac = _unb64(encoded), _unb64(signature)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(b"session", payload)):
            return None
        try:
            claims = json.loads(payload)
            reviewer = self._by_fingerprint.get(claims["key"])
            expires = int(claims["exp"])
            name, tier = claims["name"], claims["tier"]
        except (ValueError, KeyError, TypeError):
            return None
        if reviewer is None or (reviewer.name, reviewer.tier) != (name, tier) or self._clock() >= expires:
            return None
        return reviewer

    def csrf_token(self, seed: str) -> str:
        """The form token bound to the pre-session cookie value ``seed``."""
        return _b64(self._mac(b"csrf", seed.encode()))

    def csrf_valid(self, seed: str | None, offered: str | None) -> bool:
        if not seed or not offered:
            return False
        return hmac.compare_digest(self.csrf_token(seed).encode(), offered.encode())


class LoginThrottle:
    """Failed logins (and wrong bearer tokens) per client address, and across all addresses.

    An address's first ``free_failures`` failures cost nothing; each one after locks it out for
    ``base_delay`` seconds, doubling up to ``max_delay``. An address is forgotten ``forget_after``
    seconds after its last failure, or on a success. Across all addresses, ``global_failures`` failures
    within ``global_window`` seconds lock every login out until the oldest of them leaves the window.
    At most ``max_addresses`` addresses are remembered (the least recently failed go first), so memory
    stays bounded however many addresses an attacker uses; the global limit still holds then.
    """

    def __init__(
        self,
        *,
        free_failures: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 900.0,
        forget_after: float = 3600.0,
        global_failures: int = 60,
        global_window: float = 60.0,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures, self.base_delay, self.max_delay = free_failures, base_delay, max_delay
        self.forget_after, self.global_window, self.max_addresses = forget_after, global_window, max_addresses
        self._clock = clock
        self._addresses: OrderedDict[str, tuple[int, float, float]] = OrderedDict()  # failures, locked until, last
        self._recent: deque[float] = deque(maxlen=global_failures)

    def __len__(self) -> int:
        return len(self._addresses)

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try a token again (0: now)."""
        now = self._clock()
        wait = 0.0
        if len(self._recent) == self._recent.maxlen and self._recent[0] > now - self.global_window:
            wait = self._recent[0] + self.global_window - now
        entry = self._addresses.get(address)
        if entry is not None:
            wait = max(wait, entry[1] - now)
        return max(wait, 0.0)

    def failed(self, address: str) -> None:
        now = self._clock()
        self._recent.append(now)
        failures, _, last = self._addresses.pop(address, (0, 0.0, now))
        failures = 1 if now - last > self.forget_after else failures + 1
        over = failures - self.free_failures
        locked_until = now + min(self.base_delay * 2 ** min(over, 60), self.max_delay) if over >= 0 else 0.0
        self._addresses[address] = (failures, locked_until, now)
        self._prune(now)

    def succeeded(self, address: str) -> None:
        self._addresses.pop(address, None)

    def _prune(self, now: float) -> None:
        while self._addresses:  # oldest failure first: drop the forgotten ones
            last = next(iter(self._addresses.values()))[2]
            if now - last <= self.forget_after:
                break
            self._addresses.popitem(last=False)
        while len(self._addresses) > self.max_addresses:
            self._addresses.popitem(last=False)


def parse_tokens(text: str) -> dict[str, Reviewer]:
    """``{"<token>": {"name": "alice", "tier": 1}, ...}`` (JSON) as reviewers by token."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError('reviewer tokens must be a JSON object {"<token>": {"name": ..., "tier": ...}}')
    return {token: Reviewer(entry["name"], int(entry.get("tier", 1))) for token, entry in data.items()}


def load_tokens(path: Path) -> dict[str, Reviewer]:
    """``{"<token>": {"name": "alice", "tier": 1}, ...}`` from a JSON file."""
    return parse_tokens(path.read_text())
