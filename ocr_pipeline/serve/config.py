"""Service settings: input limits, URL fetching policy, batching and queueing."""

from __future__ import annotations

from dataclasses import dataclass, field

MB = 1024 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """What URLs the service may download from, and how much.

    Hosts are checked after DNS resolution: every address must be public unless the host is in
    ``allowed_hosts`` (exact hostname or IP literal) or, with ``allow_loopback``, is a loopback
    address. ``s3://`` goes to the operator-configured ``s3_endpoint_url`` (AWS when ``None``),
    which is trusted and not address-checked, and only below ``s3_prefixes`` (``bucket`` or
    ``bucket/prefix``): the service's credentials may read more than its callers should.
    """

    schemes: frozenset[str] = frozenset({"http", "https", "s3"})
    allowed_hosts: frozenset[str] = frozenset()
    allow_loopback: bool = False
    max_bytes: int = 50 * MB
    timeout: float = 30.0
    max_redirects: int = 3
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_prefixes: tuple[str, ...] = ()
    """Where ``s3://`` sources may come from; none: ``s3://`` is refused."""


@dataclass(frozen=True)
class ServiceConfig:
    """Limits and batching of one service instance.

    ``max_batch_pages`` is how many pages from concurrent requests are merged into one engine
    call (``None``: the engine's own ``batch_size``, 1 for engines without one); one request's
    pages always go in a single call. ``max_pixels`` refuses larger images (413); PDF pages
    over it are rendered at a lower DPI instead, as in the pipeline. ``max_request_pixels`` caps
    all pages of one request together, checked from the page sizes before any page is rendered.

    Memory is bounded by admission: at most ``max_queue + 1`` requests (the one on the engine and
    ``max_queue`` waiting) are admitted at once, before their body is read or a page rendered; the
    rest get 503 with Retry-After at once. Peak input memory is therefore about
    ``(max_queue + 1) * (max_body_bytes + 3 * max_request_pixels)`` bytes.
    """

    max_body_bytes: int = 64 * MB
    max_pages: int = 50
    max_pixels: int = 40_000_000
    max_request_pixels: int = 120_000_000
    """About 360 MB of RGB pages; 50 letter pages at 144 dpi take 97 million."""
    dpi: int = 144
    max_dpi: int = 600
    max_queue: int = 16
    max_batch_pages: int | None = None
    batch_wait_ms: float = 5.0
    retry_after_s: int = 5
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
