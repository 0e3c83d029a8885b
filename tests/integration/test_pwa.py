"""The installable app's routes: the manifest, the favicon, the service worker and the offline page,
with their content types and caching, and a worker whose shell holds only static files."""
import io
import json
import re

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

from apps.pwa import shell as pwa_shell
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def static_image(url):
    assert url.startswith("/static/")
    return Image.open(finders.find(url.removeprefix("/static/")))


def test_the_manifest_makes_smartc_installable(client):
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r["Content-Type"] == "application/manifest+json"
    m = json.loads(r.content)
    assert (m["name"], m["start_url"], m["scope"], m["display"]) == ("SmaRTC", "/", "/", "standalone")
    assert re.fullmatch(r"#[0-9a-f]{6}", m["theme_color"]) and re.fullmatch(r"#[0-9a-f]{6}", m["background_color"])
    pngs = {(i["sizes"], i["purpose"]): i["src"] for i in m["icons"] if i["type"] == "image/png"}
    assert set(pngs) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for (sizes, _purpose), src in pngs.items():
        image = static_image(src)
        assert image.format == "PNG" and "x".join(map(str, image.size)) == sizes
    # A maskable icon is full bleed: its corners are painted, not transparent.
    assert static_image(pngs[("512x512", "maskable")]).convert("RGBA").getpixel((0, 0))[3] == 255


def test_the_manifest_speaks_the_readers_language(client):
    m = json.loads(client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="fr").content)
    assert m["lang"] == "fr" and m["description"] == "Chat de guilde, pistes audio et salons vocaux."


def test_the_favicon_is_served_at_the_root(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r["Content-Type"] == "image/x-icon"
    icon = Image.open(io.BytesIO(b"".join(r.streaming_content)))
    assert icon.format == "ICO" and {(16, 16), (32, 32), (48, 48)} <= set(icon.info["sizes"])


def test_every_page_links_the_manifest_and_icons(client):
    page = client.get("/accounts/login").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<link rel="icon" href="/favicon.ico"' in page
    assert re.search(r'<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png">', page)
    csp = client.get("/accounts/login")["Content-Security-Policy"]
    assert "manifest-src 'self'" in csp and "worker-src 'self'" in csp


def test_the_service_worker_precaches_static_files_only_and_keeps_web_push(client):
    r = client.get("/sw.js")
    assert r.status_code == 200 and r["Content-Type"] == "text/javascript; charset=utf-8"
    assert "no-cache" in r["Cache-Control"]  # the browser asks for a new worker at every visit
    source = r.content.decode()
    assert 'importScripts("/static/js/sw-push.js", "/static/js/sw-shell.js");' in source
    config = json.loads(re.search(r"self\.SMARTC_SHELL = (\{.*\});", source).group(1))
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"]) and config["offline"] == "/offline"
    shell = config["shell"]
    for must in ("/static/css/app.css", "/static/css/phone.css", "/static/js/app.js", "/static/js/shell.js",
                 "/static/js/page.js", "/static/vendor/turbo/turbo.es2017-esm.js", "/static/icons/icon-192.png",
                 "/offline"):
        assert must in shell
    # Never an API answer, a medium, or a page that checks who is asking.
    assert [url for url in shell if url != "/offline" and not url.startswith("/static/")] == []


def test_a_deploy_that_changes_a_static_file_changes_the_worker(client, monkeypatch, tmp_path):
    before = client.get("/sw.js").content.decode()
    assert client.get("/sw.js").content.decode() == before  # the same files, the same worker
    changed = tmp_path / "app.css"
    changed.write_text(open(finders.find("css/app.css")).read() + "\n.new { color: red; }\n")
    real_find = finders.find
    monkeypatch.setattr(pwa_shell.finders, "find",
                        lambda path: str(changed) if path == "css/app.css" else real_find(path))
    after = client.get("/sw.js").content.decode()
    version = re.compile(r'"version": "(\w+)"')
    assert version.search(after).group(1) != version.search(before).group(1)


def test_the_offline_page_holds_nothing_of_its_reader(client):
    user = UserFactory(username="ada", display_name="Ada Lovelace")
    client.force_login(user)
    r = client.get("/offline")
    assert r.status_code == 200 and r["Content-Type"] == "text/html; charset=utf-8"
    page = r.content.decode()
    assert "You are offline" in page and "Ada Lovelace" not in page and "csrfmiddlewaretoken" not in page
    assert "<script" not in page
