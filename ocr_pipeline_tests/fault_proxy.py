"""A threaded HTTP reverse proxy on 127.0.0.1 that injects S3 and DynamoDB faults.

It forwards every request to an upstream endpoint (the moto server) unless a :class:`Fault`
matches: then it answers with the fault's status and an S3-shaped (XML) or DynamoDB-shaped
(JSON) error body, or resets the connection, for the first ``times`` matching requests.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import urlparse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}


@dataclass
class Fault:
    """Answer the first ``times`` matching requests with ``status``/``code``, or reset the connection.

    A request matches when every given filter does: ``method``, ``path`` (a regex searched in
    the request path and query) and ``target`` (the DynamoDB operation, from ``X-Amz-Target``).
    """

    times: int
    status: int = 503
    code: str = "SlowDown"
    reset: bool = False
    method: str | None = None
    path: str | None = None
    target: str | None = None
    hits: int = 0

    def matches(self, method: str, path: str, target: str | None) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.path is None or re.search(self.path, path) is not None)
            and (self.target is None or self.target == target)
        )


@dataclass(frozen=True)
class Request:
    """One request the proxy saw, and whether a fault answered it."""

    method: str
    path: str
    target: str | None
    fault: str | None


class FaultProxy:
    """``with FaultProxy(upstream) as proxy:`` serves on ``proxy.endpoint`` until the block ends."""

    def __init__(self, upstream: str, faults: list[Fault] | None = None) -> None:
        parsed = urlparse(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.faults = list(faults or [])
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _fault_for(self, method: str, path: str, target: str | None) -> Fault | None:
        with self._lock:
            fault = next((f for f in self.faults if f.hits < f.times and f.matches(method, path, target)), None)
            if fault is not None:
                fault.hits += 1
            self.requests.append(
                Request(method, path, target, None if fault is None else "reset" if fault.reset else fault.code)
            )
            return fault

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the tests read ``proxy.requests`` instead."""

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                body = self._body()
                target = self.headers.get("X-Amz-Target")
                operation = target.rsplit(".", 1)[-1] if target else None
                fault = proxy._fault_for(self.command, self.path, operation)
                if fault is None:
                    self._forward(body)
                elif fault.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                else:
                    self._error(fault, dynamodb=target is not None)

            def _error(self, fault: Fault, *, dynamodb: bool) -> None:
                if dynamodb:
                    payload = json.dumps(
                        {
                            "__type": f"com.amazonaws.dynamodb.v20120810#{fault.code}",
                            "message": "injected by fault_proxy",
                        }
                    ).encode()
                    content_type = "application/x-amz-json-1.0"
                else:
                    payload = (
                        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{fault.code}</Code>'
                        "<Message>injected by fault_proxy</Message><RequestId>fault-proxy</RequestId>"
                        "</Error>"
                    ).encode()
                    content_type = "application/xml"
                self.send_response(fault.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _forward(self, body: bytes) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                if body or "Content-Length" in self.headers or self.headers.get("Transfer-Encoding"):
                    headers["Content-Length"] = str(len(body))
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    self.send_response_only(response.status, response.reason)
                    for name, value in response.getheaders():
                        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                            self.send_header(name, value)
                    length = response.getheader("Content-Length") if self.command == "HEAD" else None
                    self.send_header("Content-Length", length or str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler
