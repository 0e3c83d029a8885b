"""The address of the client behind a request, as the rate limits count it, and the site it came to.

X-Forwarded-For is believed only from the proxies named in TRUSTED_PROXIES (addresses or CIDR
blocks): when the direct peer is one of them, the header is read from the right, skipping the
trusted hops, and the first address that is not a trusted proxy is the client. Anything further
left was written by the client itself and is never read. From any other peer the header is
ignored, so a client cannot choose the address its failed logins are counted under."""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: str) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request) -> str:
    """The client's address: the peer, or, behind trusted proxies, the right-most address in
    X-Forwarded-For that is not one of them."""
    peer = request.META.get("REMOTE_ADDR", "") or "unknown"
    if not is_trusted_proxy(peer):
        return peer
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    nearest = peer
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            return nearest  # a trusted proxy wrote garbage: count under the last known hop
        if not is_trusted_proxy(str(parsed)):
            return str(parsed)
        nearest = str(parsed)
    return nearest


def site_url(request) -> str:
    """Where links in mail point: SITE_URL, or the site this request came to."""
    return (settings.SITE_URL or f"{request.scheme}://{request.get_host()}").rstrip("/")
