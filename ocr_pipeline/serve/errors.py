"""Request errors that become JSON responses with a stable code."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses: HTTP ``status``, a short stable ``code`` and a message."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}
