"""SSRF guard: which hosts a URL may point at, decided on resolved addresses.

Every address a hostname resolves to must be public (not loopback, private, link-local,
multicast, reserved or unspecified); IPv4 addresses embedded in IPv6 ones (IPv4-mapped, 6to4,
NAT64) are checked as IPv4. The caller then connects to one of the checked addresses, never
to a fresh resolution of the name, so DNS rebinding cannot swap in another target.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from ocr_pipeline.serve.config import FetchPolicy
from ocr_pipeline.serve.errors import ServiceError

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
REFUSED = ("is_link_local", "is_multicast", "is_unspecified", "is_reserved", "is_private")  # most specific first
NON_PUBLIC = (ipaddress.IPv6Network("fec0::/10"), ipaddress.IPv4Network("192.0.0.0/24"))
"""Ranges ``ipaddress`` calls global that are not: IPv6 site-local (deprecated, still routed inside
sites) and IETF protocol assignments (``192.0.0.8``, the IPv4 dummy address)."""


def resolve(host: str, port: int) -> list[str]:
    """All addresses ``host`` resolves to (system resolver), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why the service must not connect to ``address`` (``None``: it may)."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_v4(ip)) is not None:
        ip = inner
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    for check in REFUSED:
        if getattr(ip, check):
            return check.removeprefix("is_").replace("_", "-")
    if any(ip.version == network.version and ip in network for network in NON_PUBLIC):
        return "not-global"
    return None if ip.is_global else "not-global"


def checked_addresses(host: str, port: int, policy: FetchPolicy, resolver: Resolver = resolve) -> list[str]:
    """Resolve ``host`` and return its addresses if every one is allowed; raise otherwise."""
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as error:
        raise ServiceError(400, "url-unresolvable", f"cannot resolve {host!r}: {error}") from error
    if not addresses:
        raise ServiceError(400, "url-unresolvable", f"{host!r} resolves to no address")
    if host.lower().rstrip(".") in policy.allowed_hosts:
        return addresses
    for address in addresses:
        reason = address_refusal(address, allow_loopback=policy.allow_loopback)
        if reason:
            raise ServiceError(403, "url-not-allowed", f"{host!r} resolves to {address} ({reason}); refused")
    return addresses
