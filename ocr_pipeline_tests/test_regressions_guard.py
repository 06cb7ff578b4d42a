"""The SSRF guard's refusals, pinned down: status, code and message (mutation testing, issue 17)."""

from __future__ import annotations

import pytest

from ocr_pipeline.serve.config import FetchPolicy
from ocr_pipeline.serve.errors import ServiceError
from ocr_pipeline.serve.guard import checked_addresses, resolve


def refusal(host: str, resolver, policy: FetchPolicy = FetchPolicy()) -> ServiceError:
    with pytest.raises(ServiceError) as refused:
        checked_addresses(host, 8080, policy, resolver)
    return refused.value


def test_unresolvable_hosts_are_a_400_naming_the_host():
    def broken(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    error = refusal("nowhere.test", broken)
    assert (error.status, error.code) == (400, "url-unresolvable")
    assert error.message == "cannot resolve 'nowhere.test': no such host"
    error = refusal("empty.test", lambda host, port: [])
    assert (error.status, error.code, error.message) == (400, "url-unresolvable", "'empty.test' resolves to no address")


def test_the_resolver_gets_the_host_and_port_and_refusals_are_a_403_naming_the_address():
    calls = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return ["93.184.216.34", "169.254.169.254"]

    error = refusal("Meta.test", resolver)
    assert calls == [("Meta.test", 8080)]
    assert (error.status, error.code) == (403, "url-not-allowed")
    assert error.message == "'Meta.test' resolves to 169.254.169.254 (link-local); refused"


def test_resolve_returns_each_address_once_without_the_network():
    assert resolve("127.0.0.1", 80) == ["127.0.0.1"]
    assert resolve("::1", 443) == ["::1"]
