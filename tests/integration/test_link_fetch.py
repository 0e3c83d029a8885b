"""The SSRF-safe fetcher against a real local web server: it refuses every private kind of address
(literal, through DNS, through a redirect, IPv4-mapped IPv6, cloud metadata) before connecting, pins
the connection to the address it checked, and cuts slow and endless answers at their limits."""
import time

import pytest

from apps.chat import unfurl
from apps.core import fetch
from tests.pages import og_page, png_bytes, serving


@pytest.fixture
def pages():
    routes = {
        "/og": ("page", og_page("Night Drive", description="A synthwave mix", image="/cover.png")),
        "/cover.png": ("image", png_bytes()),
        "/data.json": ("json", b"{}"),
        "/to-private": ("redirect", "http://10.0.0.7/admin"),
        "/to-metadata": ("redirect", "http://169.254.169.254/latest/meta-data/"),
        "/to-v6": ("redirect", "http://[::1]/"),
        "/to-localhost": ("redirect", "/og-by-name"),
        "/drip": ("drip", 0.5),
        "/slow-headers": ("slow_headers", 0.5),
        "/endless": ("endless", None),
        "/player": ("page", b'<html><head><link rel="alternate" type="application/json+oembed" href="/oembed.json">'
                            b'<meta name="twitter:card" content="player"><meta name="description" content="A set">'
                            b"</head></html>"),
        "/oembed.json": ("json", b'{"type": "video", "title": "Live at the Lab", "provider_name": "TubeLike",'
                                 b' "thumbnail_url": "/cover.png"}'),
    }
    with serving(routes) as server:
        yield server


@pytest.fixture
def allow_local(settings):
    settings.LINK_PREVIEW_ALLOW_HOSTS = ["127.0.0.1", "pages.test"]


def refused(url, **kw) -> str:
    with pytest.raises(fetch.FetchRefused) as exc:
        fetch.fetch(url, **kw)
    return exc.value.reason


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.100.100.200",
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255",
    "[::1]", "[::]", "[fd00::1]", "[fe80::1]", "[fd00:ec2::254]", "[ff02::1]", "[::ffff:127.0.0.1]",
    "[::ffff:a00:1]", "[::ffff:169.254.169.254]", "[2002:7f00:1::]", "[64:ff9b::a00:1]",
])
def test_every_private_kind_of_literal_address_is_refused(address):
    assert refused(f"http://{address}/") == "private_address"


def test_a_name_resolving_to_a_private_address_is_refused_and_nothing_is_fetched(pages):
    for answers in (["127.0.0.1"], ["93.184.216.34", "10.0.0.1"], ["::ffff:127.0.0.1"], ["fd12::1"],
                    ["169.254.169.254"]):
        assert refused(f"http://evil.test:{pages.port}/og", resolver=lambda h, p, a=answers: a) == "private_address"
    assert refused(f"http://2130706433:{pages.port}/og") == "private_address"  # 127.0.0.1 as a number
    assert pages.hosts == []  # the server never heard a thing


def test_the_local_server_is_refused_unless_allowed(pages, settings):
    assert refused(f"{pages.base}/og") == "private_address"
    settings.LINK_PREVIEW_ALLOW_HOSTS = ["127.0.0.1"]
    assert b"Night Drive" in fetch.fetch(f"{pages.base}/og").body


def test_redirects_are_checked_at_every_hop(pages, allow_local):
    for path in ("/to-private", "/to-metadata", "/to-v6"):
        assert refused(f"{pages.base}{path}") == "private_address"
    assert pages.hosts == [f"127.0.0.1:{pages.port}"] * 3  # only the first hop was ever fetched


def test_the_connection_is_pinned_to_the_checked_address_with_the_name_as_host(pages, allow_local):
    calls = []

    def resolver(host, port):
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["10.9.9.9"]  # a rebinding answer would come second

    got = fetch.fetch(f"http://pages.test:{pages.port}/og", resolver=resolver)
    assert b"Night Drive" in got.body and calls == ["pages.test"]
    assert pages.hosts == [f"pages.test:{pages.port}"]


def test_only_the_expected_content_type_is_read(pages, allow_local):
    assert refused(f"{pages.base}/data.json") == "wrong_type"
    assert refused(f"{pages.base}/cover.png") == "wrong_type"
    assert fetch.fetch(f"{pages.base}/cover.png", accept=("image/",)).content_type == "image/png"
    assert refused("ftp://127.0.0.1/x") == "bad_scheme" and refused("file:///etc/passwd") == "bad_scheme"
    assert refused("http://user:pw@127.0.0.1/") == "bad_url"


def test_a_dripping_answer_is_cut_at_the_deadline(pages, allow_local):
    assert fetch.TIMEOUT == 5.0
    for path in ("/drip", "/slow-headers"):
        started = time.monotonic()
        assert refused(f"{pages.base}{path}") == "timeout"
        assert 4.5 < time.monotonic() - started < 6.5


def test_an_endless_answer_is_cut_at_one_megabyte(pages, allow_local):
    assert fetch.MAX_BYTES == 1024 * 1024
    started = time.monotonic()
    assert refused(f"{pages.base}/endless") == "too_large"
    page = fetch.fetch(f"{pages.base}/endless", truncate=True)
    assert len(page.body) == fetch.MAX_BYTES and page.truncated
    assert time.monotonic() - started < 5


def test_open_graph_metadata_becomes_a_preview(pages, allow_local):
    found = unfurl.preview(f"{pages.base}/og")
    assert found == {"type": "link", "url": f"{pages.base}/og", "title": "Night Drive",
                     "description": "A synthwave mix", "provider": {"name": "Test Pages"},
                     "thumbnail": {"url": f"{pages.base}/cover.png"}}
    assert unfurl.preview(f"{pages.base}/og") == found and len(pages.hosts) == 1  # cached per URL
    assert unfurl.preview(f"{pages.base}/to-private") is None


def test_a_player_page_previews_from_its_oembed_as_a_video(pages, allow_local):
    found = unfurl.preview(f"{pages.base}/player")
    assert found == {"type": "video", "url": f"{pages.base}/player", "title": "Live at the Lab",
                     "description": "A set", "provider": {"name": "TubeLike"},
                     "thumbnail": {"url": f"{pages.base}/cover.png"}}
