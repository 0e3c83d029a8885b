"""The client address the rate limits count: X-Forwarded-For only through trusted proxies, read from
the right."""
import pytest
from django.test import RequestFactory

from apps.core.clientaddr import client_address

rf = RequestFactory()


def address(peer, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(rf.get("/", REMOTE_ADDR=peer, **extra))


@pytest.fixture
def proxies(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.1"]


def test_without_trusted_proxies_the_peer_is_the_client(settings):
    settings.TRUSTED_PROXIES = []
    assert address("203.0.113.5", "198.51.100.1") == "203.0.113.5"


def test_a_header_from_an_untrusted_peer_is_ignored(proxies):
    assert address("203.0.113.5", "198.51.100.1, 10.0.0.3") == "203.0.113.5"


@pytest.mark.parametrize("forwarded, client", [
    ("198.51.100.1", "198.51.100.1"),
    # The client's own claim stays on the left; the proxy appended what it saw.
    ("6.6.6.6, 198.51.100.1", "198.51.100.1"),
    # Several trusted hops are skipped from the right.
    ("6.6.6.6, 198.51.100.1, 192.0.2.1, 10.9.9.9", "198.51.100.1"),
    ("2001:db8::7, 2001:db8:ffff::1", "2001:db8::7"),
    ("[2001:db8::7]:51000", "2001:db8::7"),
    ("198.51.100.1:4711", "198.51.100.1"),
    # Only trusted hops: the farthest of them.
    ("10.1.1.1, 10.2.2.2", "10.1.1.1"),
    # No header, or a header the proxy filled with garbage: the nearest known hop.
    ("", "10.0.0.2"),
    ("6.6.6.6, not-an-address", "10.0.0.2"),
])
def test_behind_trusted_proxies_the_right_most_untrusted_address_is_the_client(proxies, forwarded, client):
    assert address("10.0.0.2", forwarded) == client


def test_an_ipv4_mapped_peer_is_matched_as_ipv4(proxies):
    assert address("::ffff:10.0.0.2", "198.51.100.1") == "198.51.100.1"
