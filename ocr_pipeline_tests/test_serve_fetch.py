"""The SSRF guard and URL fetcher. Live traffic only to servers on 127.0.0.1; other addresses are
judged on (monkeypatched) resolution, with connections forbidden."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from ocr_pipeline.serve import fetch
from ocr_pipeline.serve.config import FetchPolicy
from ocr_pipeline.serve.errors import ServiceError
from ocr_pipeline.serve.fetch import Fetcher
from ocr_pipeline.serve.guard import address_refusal, checked_addresses

BODY = b"x" * 5000


class Handler(BaseHTTPRequestHandler):
    """``/data`` (with Content-Length), ``/stream`` (without), ``/slow``, ``/loop`` and ``/to?url`` redirects."""

    server: LoopbackServer

    def do_GET(self) -> None:
        self.server.hosts.append(self.headers["Host"])
        path, _, query = self.path.partition("?")
        if path == "/slow":
            time.sleep(2)
        if path in ("/loop", "/to"):
            self.send_response(302)
            self.send_header("Location", "/loop" if path == "/loop" else query)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        if path != "/stream":
            self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *_: object) -> None:
        pass


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hosts: list[str] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(fetch.socket, "create_connection", forbidden)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "private"),
        ("192.168.1.20", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("fe80::1%eth0", "link-local"),
        ("fd00:ec2::254", "private"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not-global"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:a9fe:a9fe::", "link-local"),
        ("64:ff9b::a00:1", "private"),
        ("fec0::1", "not-global"),
        ("192.0.0.8", "not-global"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_decisions(address: str, reason: str | None) -> None:
    assert address_refusal(address) == reason


def test_loopback_only_when_allowed() -> None:
    assert address_refusal("127.0.0.1", allow_loopback=True) is None
    assert address_refusal("10.0.0.1", allow_loopback=True) == "private"


def test_every_resolved_address_is_checked() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return {
            "metadata.test": ["169.254.169.254"],
            "mixed.test": ["93.184.216.34", "10.0.0.1"],
            "public.test": ["93.184.216.34"],
            "v6.test": ["::ffff:a9fe:a9fe"],
        }[host.lower().rstrip(".")]

    policy = FetchPolicy()
    for host in ("metadata.test", "mixed.test", "v6.test"):
        with pytest.raises(ServiceError) as refused:
            checked_addresses(host, 80, policy, resolver)
        assert refused.value.code == "url-not-allowed"
    assert checked_addresses("public.test", 80, policy, resolver) == ["93.184.216.34"]
    exempt = FetchPolicy(allowed_hosts=frozenset({"mixed.test"}))
    assert checked_addresses("MIXED.test.", 80, exempt, resolver) == ["93.184.216.34", "10.0.0.1"]


@pytest.mark.usefixtures("no_connections")
@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/page.png",
        "http://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/x",
        "http://internal.test/x",
        "gopher://example.test/x",
    ],
)
def test_fetcher_refuses_before_connecting(url: str) -> None:
    fetcher = Fetcher(FetchPolicy(), resolver=lambda host, port: {"internal.test": ["10.1.2.3"]}.get(host, [host]))
    with pytest.raises(ServiceError) as refused:
        fetcher.fetch(url)
    assert (refused.value.status, refused.value.code) == (403, "url-not-allowed")


@pytest.mark.usefixtures("no_connections")
@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f.1/", "http://[::ffff:7f00:1]/", "http://0/"])
def test_numeric_host_forms_are_resolved_then_refused(url: str) -> None:
    """Odd spellings of loopback addresses, resolved by the system resolver without DNS."""
    fetcher = Fetcher(FetchPolicy())
    with pytest.raises(ServiceError) as refused:
        fetcher.fetch(url)
    assert (refused.value.status, refused.value.code) == (403, "url-not-allowed")


def test_loopback_url_refused_by_default(server: LoopbackServer) -> None:
    with pytest.raises(ServiceError, match="loopback"):
        Fetcher(FetchPolicy()).fetch(server.url + "/data")
    assert server.hosts == []


def test_connects_to_the_checked_address_not_a_new_resolution(server: LoopbackServer) -> None:
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])  # a rebinding resolver: a second lookup would get 10.0.0.1
    fetcher = Fetcher(FetchPolicy(allow_loopback=True), resolver=lambda host, port: next(answers))
    port = server.server_address[1]
    assert fetcher.fetch(f"http://rebind.test:{port}/data") == BODY
    assert server.hosts == [f"rebind.test:{port}"]


def test_redirect_target_is_checked_again(server: LoopbackServer) -> None:
    names = {"loopback.test": ["127.0.0.1"]}  # no DNS: IP literals resolve to themselves
    fetcher = Fetcher(FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"})), resolver=lambda h, p: names.get(h, [h]))
    port = server.server_address[1]
    for target in (f"http://loopback.test:{port}/data", f"http://127.0.0.2:{port}/data"):
        with pytest.raises(ServiceError, match="loopback"):
            fetcher.fetch(f"{server.url}/to?{target}")
    assert server.hosts == [f"127.0.0.1:{port}"] * 2  # the redirect targets were never contacted
    assert fetcher.fetch(f"{server.url}/to?/data") == BODY


def test_redirects_are_bounded(server: LoopbackServer) -> None:
    with pytest.raises(ServiceError) as refused:
        Fetcher(FetchPolicy(allow_loopback=True, max_redirects=2)).fetch(server.url + "/loop")
    assert refused.value.code == "too-many-redirects" and len(server.hosts) == 3


@pytest.mark.parametrize("path", ["/data", "/stream"])
def test_download_size_is_capped(server: LoopbackServer, path: str) -> None:
    with pytest.raises(ServiceError) as refused:
        Fetcher(FetchPolicy(allow_loopback=True, max_bytes=1000)).fetch(server.url + path)
    assert (refused.value.status, refused.value.code) == (413, "download-too-large")


def test_download_time_is_capped(server: LoopbackServer) -> None:
    started = time.monotonic()
    with pytest.raises(ServiceError) as refused:
        Fetcher(FetchPolicy(allow_loopback=True, timeout=0.3)).fetch(server.url + "/slow")
    assert refused.value.code == "download-timeout" and time.monotonic() - started < 1.5


def test_unresolvable_host(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(host: str, port: int) -> list[str]:
        raise socket.gaierror("Name or service not known")

    with pytest.raises(ServiceError) as refused:
        Fetcher(FetchPolicy(), resolver=fail).fetch("https://nowhere.test/x")
    assert refused.value.code == "url-unresolvable"


def test_https_goes_through_tls_to_the_checked_address(server: LoopbackServer) -> None:
    port = server.server_address[1]  # a plain-HTTP server: the TLS handshake must fail
    with pytest.raises(ServiceError) as failed:
        Fetcher(FetchPolicy(allow_loopback=True)).fetch(f"https://127.0.0.1:{port}/data")
    assert failed.value.code == "url-fetch-failed" and "SSL" in failed.value.message


def test_a_non_ascii_url_is_percent_encoded_not_a_server_error(server: LoopbackServer) -> None:
    fetcher = Fetcher(FetchPolicy(allow_loopback=True))
    assert fetcher.fetch(server.url + "/data?name=catálogo é") == BODY
    assert fetcher.fetch(server.url + "/dätä") == BODY
