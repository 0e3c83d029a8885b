"""SmaRTC as an installed app, in a real browser: the manifest and its icons load, the service
worker registers and precaches the shell, a page opened without a network shows the offline page
(styled from the cache), and an API answer is never kept: offline, it fails instead of coming from
a cache. And the unread state on a page with no chat: the guild rail's counts and the tab title
follow new messages while the member reads the DM page."""
import re

import pytest
from playwright.sync_api import expect

from apps.dms import services as dms
from tests.browser.test_chat import in_worker_thread, lab, post  # noqa: F401 (a fixture)
from tests.factories import PASSWORD
from tests.servers import ARTIFACTS

pytestmark = [pytest.mark.browser]

CACHED = """async () => {
  const names = await caches.keys();
  const urls = [];
  for (const name of names) {
    for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
  }
  return { names, urls };
}"""

API_FAILS = "async () => { try { await fetch('/api/users/@me'); return false; } catch { return true; } }"

ICON_SIZES = """async (srcs) => Promise.all(srcs.map(async (src) => {
  const img = new Image();
  img.src = src;
  await img.decode();
  return [img.naturalWidth, img.naturalHeight];
}))"""


def log_in(page, base, user, path):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/accounts/login?next={path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{path}")
    return errors


def test_the_app_installs_precaches_its_shell_and_shows_the_offline_page(live_url, new_page, lab):  # noqa: F811
    page = new_page()
    errors = log_in(page, live_url, lab["ada"], "/channels/@me")

    # The manifest the page links, and its icons, as the browser reads them.
    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = page.evaluate("async (href) => (await fetch(href)).json()", href)
    assert (manifest["name"], manifest["display"], manifest["start_url"]) == ("SmaRTC", "standalone", "/")
    pngs = [i for i in manifest["icons"] if i["type"] == "image/png"]
    sizes = page.evaluate(ICON_SIZES, [i["src"] for i in pngs])
    assert [f"{w}x{h}" for w, h in sizes] == [i["sizes"] for i in pngs]
    assert any(i["purpose"] == "maskable" for i in pngs)
    assert page.evaluate("async () => (await fetch('/favicon.ico')).headers.get('content-type')") == "image/x-icon"

    # The worker registers by itself and precaches the shell in a cache named after its version.
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{live_url}/"
    version = re.search(r'"version": "(\w+)"', page.evaluate("async () => (await fetch('/sw.js')).text()")).group(1)
    page.wait_for_function("async () => (await caches.keys()).length > 0")
    page.reload()  # now the worker controls the page
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{live_url}/sw.js"
    cached = page.evaluate(CACHED)
    assert cached["names"] == [f"smartc-shell-{version}"]
    for url in ("/static/css/app.css", "/static/css/phone.css", "/static/js/app.js", "/static/icons/icon-192.png",
                "/offline"):
        assert url in cached["urls"]

    # An API answer goes to the server every time.
    me = page.evaluate("async () => (await fetch('/api/users/@me')).json()")
    assert me["username"] == "ada"

    # Offline: a page shows the offline page, styled from the cache; the API fails, no stale answer.
    page.context.set_offline(True)
    page.goto(f"{live_url}/guilds/{lab['guild'].id}/channels/{lab['general'].id}")
    expect(page.locator("#offline h1")).to_have_text("You are offline")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(49, 51, 56)"  # app.css
    page.screenshot(path=str(ARTIFACTS / "pwa-offline.png"))
    assert page.evaluate(API_FAILS)
    assert [u for u in page.evaluate(CACHED)["urls"] if u != "/offline" and not u.startswith("/static/")] == []

    # Back online, the same address is the page again.
    page.context.set_offline(False)
    page.goto(f"{live_url}/guilds/{lab['guild'].id}/channels/{lab['general'].id}")
    expect(page.locator("#channel-title")).to_contain_text("general")
    assert errors == []


def test_the_rail_and_the_tab_title_count_while_reading_the_dm_page(live_url, new_page, lab):  # noqa: F811
    ada, bo, guild, general = lab["ada"], lab["bo"], lab["guild"], lab["general"]
    post(bo, general, "before Ada arrives")  # unread, from READY
    page = new_page()
    errors = log_in(page, live_url, ada, "/channels/@me")
    item = page.locator(f".rail-item[data-guild-id='{guild.id}']")
    expect(item).to_have_class(re.compile(r"\bunread\b"))
    expect(item.locator(".rail-count")).to_be_hidden()
    expect(page).to_have_title("Direct messages · SmaRTC")

    post(bo, general, "@ada the mix is ready")
    expect(item).to_have_class(re.compile(r"\bmentioned\b"))
    expect(item.locator(".rail-count")).to_have_text("1")
    expect(page).to_have_title("(1) Direct messages · SmaRTC")

    dm, _ = in_worker_thread(lambda: dms.open_dm(user=bo, recipient_id=ada.id))
    post(bo, dm, "and dinner at 8?")
    expect(page.locator("#rail-dms .rail-dm-count")).to_have_text("1")
    expect(page).to_have_title("(2) Direct messages · SmaRTC")

    # She reads #general in another tab: both counts of the guild go, here too.
    other = new_page()
    log_in(other, live_url, ada, f"/guilds/{guild.id}/channels/{general.id}")
    expect(other).to_have_title(re.compile(r"^\(1\) #general"))  # the DM still waits
    expect(item.locator(".rail-count")).to_be_hidden()
    expect(item).not_to_have_class(re.compile(r"\bunread\b"))
    expect(page).to_have_title("(1) Direct messages · SmaRTC")
    page.screenshot(path=str(ARTIFACTS / "rail-counts-dm-page.png"))

    # The tracks page has the rail and the count too.
    post(bo, lab["random"], "@ada and one in #random")
    page.goto(f"{live_url}/guilds/{guild.id}/tracks")
    expect(item.locator(".rail-count")).to_have_text("1")
    expect(page).to_have_title(re.compile(r"^\(2\) "))
    assert errors == []
