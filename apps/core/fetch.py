"""The one way SmaRTC fetches a URL a user named (link previews, embed images): SSRF-safe.

- only http and https;
- the host name is resolved once, every address it gives is checked, and the connection goes to
  that checked address (pinned), with the Host header and TLS SNI of the name: a DNS answer that
  changes between the check and the connection (rebinding) cannot reach anything else;
- loopback, private, shared, link-local (cloud metadata at 169.254.169.254), multicast, reserved and
  unspecified addresses are refused, IPv4 and IPv6 alike (IPv4-mapped IPv6 is judged as its IPv4);
- redirects are followed by hand (at most MAX_REDIRECTS), each new URL checked the same way;
- the whole fetch has one deadline (TIMEOUT seconds, enforced by shutting the socket down, so a
  server that drips bytes cannot hold a worker), and bodies are read up to MAX_BYTES;
- only the expected Content-Type is read.

`settings.LINK_PREVIEW_ALLOW_HOSTS` lists host names that may resolve to non-public addresses
(tests serve pages on 127.0.0.1); it is empty by default and must stay so in production."""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

TIMEOUT = 5.0
MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
USER_AGENT = "Mozilla/5.0 (compatible; SmaRTC-LinkPreview/1.0; +https://github.com/smartc)"
# Named for clarity: all of them are also caught by the address-class checks below.
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
                      ipaddress.ip_address("100.100.100.200")}

Resolver = Callable[[str, int], list[str]]


class FetchRefused(Exception):
    """The URL is not fetched, or its answer not used; `reason` says why in one word."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    truncated: bool = False


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchRefused("unresolvable", host) from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def is_public(address: str) -> bool:
    """Whether an address may be fetched: a global unicast address, never a private, loopback,
    link-local, shared, multicast, reserved, unspecified or metadata one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None or ip.teredo is not None:
            return False  # tunnels carry an IPv4 address of their own: not worth the risk
    if ip in METADATA_ADDRESSES:
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


def _allowed_host(host: str) -> bool:
    return host.lower().rstrip(".") in {h.lower() for h in getattr(settings, "LINK_PREVIEW_ALLOW_HOSTS", ())}


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a URL that may be fetched, or FetchRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused("bad_url", url[:200]) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise FetchRefused("bad_scheme", scheme)
    if parts.username or parts.password:
        raise FetchRefused("bad_url", "credentials in the URL")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port, path


def pin(host: str, port: int, resolver: Resolver | None = None) -> str:
    """The one address the connection will use, after checking every address the name has."""
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        addresses = (resolver or system_resolver)(host, port)
    if not addresses:
        raise FetchRefused("unresolvable", host)
    if not _allowed_host(host):
        for address in addresses:
            if not is_public(address):
                raise FetchRefused("private_address", f"{host} → {address}")
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address, self.cut = address, False

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address, self.cut = address, False

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # SNI and checks: the name


def fetch(url: str, *, accept: tuple[str, ...] = ("text/html", "application/xhtml+xml"), max_bytes: int = MAX_BYTES,
          timeout: float = TIMEOUT, truncate: bool = False, resolver: Resolver | None = None) -> Fetched:
    """GET `url` under the rules above. A body over `max_bytes` is refused (`too_large`), or with
    `truncate` cut there (an HTML page's metadata is in its head). Raises FetchRefused."""
    deadline = time.monotonic() + timeout
    for _hop in range(MAX_REDIRECTS + 1):
        scheme, host, port, path = check_url(url)
        address = pin(host, port, resolver)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchRefused("timeout", url[:200])
        conn_class = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        conn = conn_class(host, port, address=address, timeout=remaining)
        # The deadline holds whatever the server does: at it, the socket is shut and every read ends.
        watchdog = threading.Timer(remaining, _shut, args=(conn,))
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": ", ".join(accept),
                                               "Accept-Encoding": "identity"})
            response = conn.getresponse()
            if conn.cut:  # the watchdog ended the headers: they are not whole
                raise FetchRefused("timeout", url[:200])
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise FetchRefused("bad_redirect", url[:200])
                url = urljoin(url, location)
                continue
            fetched = _read(url, response, accept=accept, max_bytes=max_bytes, truncate=truncate, deadline=deadline)
            if conn.cut:  # the watchdog ended the body: it is not whole
                raise FetchRefused("timeout", url[:200])
            return fetched
        except FetchRefused:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if time.monotonic() >= deadline:
                raise FetchRefused("timeout", url[:200]) from exc
            raise FetchRefused("unreachable", f"{url[:200]}: {exc}") from exc
        finally:
            watchdog.cancel()
            conn.close()
    raise FetchRefused("too_many_redirects", url[:200])


def _shut(conn) -> None:
    conn.cut = True
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _read(url: str, response, *, accept, max_bytes: int, truncate: bool, deadline: float) -> Fetched:
    if not 200 <= response.status < 300:
        raise FetchRefused("http_error", str(response.status))
    content_type = (response.getheader("Content-Type") or "").split(";", 1)[0].strip().lower()
    if not any(content_type == a or (a.endswith("/") and content_type.startswith(a)) for a in accept):
        raise FetchRefused("wrong_type", content_type or "none")
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes and not truncate:
        raise FetchRefused("too_large", declared)
    chunks, size = [], 0
    while size <= max_bytes:
        if time.monotonic() >= deadline:
            raise FetchRefused("timeout", url[:200])
        chunk = response.read1(min(65536, max_bytes + 1 - size)) if hasattr(response, "read1") else response.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    truncated = len(body) > max_bytes
    if truncated and not truncate:
        raise FetchRefused("too_large", f"over {max_bytes} bytes")
    return Fetched(url=url, status=response.status, content_type=content_type, body=body[:max_bytes],
                   truncated=truncated)
