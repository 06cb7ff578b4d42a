"""Download a request's ``*_url`` source: http(s) through the SSRF guard, ``s3://`` through boto3.

http(s) connections go to an address the guard checked (the hostname is kept for the Host
header and TLS verification); redirects are followed up to a bound, each target re-checked.
Downloads are capped in size and in total time. ``s3://`` objects are read from the
operator-configured endpoint, which is trusted: it is not address-checked, and path-style
addressing keeps the bucket name out of the hostname.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from ocr_pipeline.serve.config import FetchPolicy
from ocr_pipeline.serve.errors import ServiceError
from ocr_pipeline.serve.guard import Resolver, checked_addresses, resolve

REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
URL_SAFE = "/%:@!$&'()*+,;=?-._~"
"""Characters a request target keeps as they are (RFC 3986 reserved and unreserved, and ``%``)."""


def connect_first(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the pre-checked ``addresses`` that answers."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


class PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to checked addresses; ``host`` is only used for the Host header."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = connect_first(self.addresses, self.port, self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to checked addresses; the certificate is verified for ``host``."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = self.tls.wrap_socket(
            connect_first(self.addresses, self.port, self.timeout), server_hostname=self.host
        )


def too_large(limit: int) -> ServiceError:
    return ServiceError(413, "download-too-large", f"the download is over {limit} bytes")


def read_capped(read: Callable[[int], bytes], deadline: float, max_bytes: int) -> bytes:
    """Read a stream to its end, refusing more than ``max_bytes`` or going past ``deadline``."""
    chunks, size = [], 0
    while chunk := read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        if time.monotonic() > deadline:
            raise ServiceError(400, "download-timeout", "the download took too long")
        chunks.append(chunk)
    return b"".join(chunks)


class Fetcher:
    """Fetch URLs under a :class:`FetchPolicy`."""

    def __init__(self, policy: FetchPolicy, resolver: Resolver = resolve) -> None:
        self.policy = policy
        self.resolver = resolver
        self._s3: Any = None

    def fetch(self, url: str) -> bytes:
        """The body at ``url``; :class:`ServiceError` when refused, failing, too big or too slow."""
        deadline = time.monotonic() + self.policy.timeout
        scheme = self._scheme(url)
        if scheme == "s3":
            return self._fetch_s3(url, deadline)
        for _ in range(self.policy.max_redirects + 1):
            location = self._get(url, deadline)
            if isinstance(location, bytes):
                return location
            url = urljoin(url, location)
            if self._scheme(url) not in DEFAULT_PORTS:
                raise ServiceError(403, "url-not-allowed", f"redirect to a non-http(s) URL: {url}")
        raise ServiceError(400, "too-many-redirects", f"more than {self.policy.max_redirects} redirects")

    def _scheme(self, url: str) -> str:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in self.policy.schemes or scheme not in {"s3", *DEFAULT_PORTS}:
            raise ServiceError(403, "url-not-allowed", f"URL scheme {scheme!r} is not allowed")
        return scheme

    def _get(self, url: str, deadline: float) -> bytes | str:
        """The body, or the Location of a redirect."""
        parts = urlsplit(url)
        try:
            host, port = parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme.lower()]
        except ValueError as error:
            raise ServiceError(400, "invalid-url", f"invalid URL {url!r}: {error}") from error
        if not host:
            raise ServiceError(400, "invalid-url", f"URL without a host: {url!r}")
        addresses = checked_addresses(host, port, self.policy, self.resolver)
        pinned = PinnedHTTPSConnection if parts.scheme.lower() == "https" else PinnedHTTPConnection
        connection = pinned(host, port, addresses, timeout=max(0.1, deadline - time.monotonic()))
        # non-ASCII in a path or query is percent-encoded (http.client refuses it); existing escapes are kept
        target = quote(parts.path or "/", safe=URL_SAFE) + (
            f"?{quote(parts.query, safe=URL_SAFE)}" if parts.query else ""
        )
        try:
            connection.request("GET", target, headers={"Accept-Encoding": "identity"})
            response = connection.getresponse()
            if response.status in REDIRECTS and response.getheader("Location"):
                return str(response.getheader("Location"))
            if response.status != 200:
                raise ServiceError(400, "url-fetch-failed", f"GET {url} answered HTTP {response.status}")
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > self.policy.max_bytes:
                raise too_large(self.policy.max_bytes)
            return read_capped(response.read1, deadline, self.policy.max_bytes)
        except TimeoutError as error:
            raise ServiceError(400, "download-timeout", f"GET {url} timed out") from error
        except (OSError, http.client.HTTPException) as error:
            raise ServiceError(400, "url-fetch-failed", f"GET {url} failed: {error}") from error
        finally:
            connection.close()

    def _fetch_s3(self, url: str, deadline: float) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        parts = urlsplit(url)
        bucket, key = parts.netloc, parts.path.lstrip("/")
        if not bucket or not key:
            raise ServiceError(400, "invalid-url", f"expected s3://bucket/key, got {url!r}")
        if not s3_allowed(bucket, key, self.policy.s3_prefixes):
            raise ServiceError(
                403, "url-not-allowed", f"{url} is not below an allowed S3 bucket or prefix (the service's --allow-s3)"
            )
        try:
            obj = self._s3_client().get_object(Bucket=bucket, Key=key)
            if obj["ContentLength"] > self.policy.max_bytes:
                raise too_large(self.policy.max_bytes)
            with obj["Body"] as body:
                return read_capped(body.read, deadline, self.policy.max_bytes)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            raise ServiceError(400, "url-fetch-failed", f"cannot read {url}: {code}") from error
        except (BotoCoreError, OSError) as error:
            raise ServiceError(400, "url-fetch-failed", f"cannot read {url}: {error}") from error

    def _s3_client(self) -> Any:
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            timeout = self.policy.timeout
            self._s3 = boto3.client(
                "s3",
                endpoint_url=self.policy.s3_endpoint_url,
                region_name=self.policy.s3_region,
                config=Config(
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    retries={"max_attempts": 2},
                    s3={"addressing_style": "path"},
                ),
            )
        return self._s3


def s3_allowed(bucket: str, key: str, prefixes: tuple[str, ...]) -> bool:
    """Whether ``s3://bucket/key`` is below one of ``prefixes`` (``bucket`` or ``bucket/prefix``).

    Keys with ``.``/``..`` segments are refused: a client or proxy that normalises them would read
    outside the prefix the check saw.
    """
    if any(segment in (".", "..") for segment in key.split("/")):
        return False
    for entry in prefixes:
        allowed_bucket, _, prefix = entry.partition("/")
        if bucket == allowed_bucket and key.startswith(prefix):
            return True
    return False
