"""SmaRTC on a phone (390x844 and 360x800, touch): every signed-in page is one column that never
scrolls sideways; the guild rail with the channel list and the member list are drawers, opened by
their buttons and by a swipe from the screen's edge, and closed again; the composer, the player
bar and the voice controls fit the width and their buttons are big enough for a thumb (44px).
Screenshots of every page go to test-results/phone-*.png."""
import re

import pytest
from playwright.sync_api import expect

from apps.chat import services as chat
from apps.chat import thread_services
from apps.dms import services as dms
from apps.moderation import report_services
from apps.tracks import services as tracks
from tests.browser.test_chat import in_worker_thread, lab  # noqa: F401 (a fixture)
from tests.browser.test_track_player import ready_tracks
from tests.factories import PASSWORD
from tests.servers import ARTIFACTS

pytestmark = [pytest.mark.browser]

TAP_PX = 44

# What scrolls or is cut off sideways: the document, every box that would scroll (or clip)
# horizontally, except the wide tables, which scroll inside their card on purpose, and every panel
# or popup (positioned boxes) that reaches past either edge of the screen.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const found = [];
  const describe = (el) => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`;
  const doc = document.documentElement.scrollWidth;
  if (doc > width) found.push(`document: ${doc} > ${width}`);
  for (const el of document.querySelectorAll("body, body *")) {
    if (el.closest("[hidden], template, table.list, .table-scroll, .emoji-tabs")) continue;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") continue;
    if (["absolute", "fixed"].includes(style.position) && el.offsetWidth > 1) {
      const box = el.getBoundingClientRect();  // a panel or a popup: all of it on the screen
      if (box.left < -1 || box.right > width + 1) found.push(`${describe(el)}: from ${box.left} to ${box.right}`);
    }
    if (style.overflowX === "visible") continue;
    if (style.textOverflow === "ellipsis") continue; // a long name cut on purpose, with "…"
    if (el.clientWidth === 0 || el.matches("input, select, textarea")) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      const right = el.getBoundingClientRect().left + el.clientWidth;
      const widest = [...el.querySelectorAll("*")].filter((c) => c.getBoundingClientRect().right > right + 1)
        .map(describe).slice(-3);
      found.push(`${describe(el)}: ${el.scrollWidth} > ${el.clientWidth} (${widest.join(", ")})`);
    }
  }
  return found;
}"""


SHOW_ALL_CONTROLS = """() => {
  for (const b of document.querySelectorAll(".voice-controls button, #party button")) b.hidden = false;
  document.getElementById("party").hidden = false;
}"""


def phone_page(browser, width=390, height=844):
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": height}, is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    return page


def log_in(page, base, user, path):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/accounts/login?next={path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path.split("?")[0]) + r"(\?.*)?$"))
    return errors


def no_sideways_scroll(page, name):
    page.wait_for_timeout(300)  # a drawer's slide
    width = page.viewport_size["width"]
    page.screenshot(path=str(ARTIFACTS / f"phone-{width}-{name}.png"))
    found = page.evaluate(OVERFLOW)
    assert found == [], f"{name}: {found}"


def assert_tappable(locator, what):
    box = locator.bounding_box()
    assert box is not None, f"{what} is not shown"
    assert box["width"] >= TAP_PX and box["height"] >= TAP_PX, f"{what}: {box['width']:.0f}x{box['height']:.0f}"


def swipe(page, start_x, end_x, y=420):
    """A one-finger horizontal swipe, as the phone's touch screen sends it."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start_x, "y": y}]})
    for step in range(1, 6):
        x = start_x + (end_x - start_x) * step / 5
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.fixture
def world(lab, tmp_path):  # noqa: F811
    """Lab's guild with a thread, a DM, a track and a playlist, a report, and some chat."""
    ada, bo, general = lab["ada"], lab["bo"], lab["general"]
    [track] = ready_tracks(ada, lab["guild"], tmp_path, ["Night Drive"])

    def build():
        first = chat.send_message(author=ada, channel_id=general.id,
                                  content="A long link https://example.com/" + "a" * 120 + " and @bo, look")
        for n in range(12):
            chat.send_message(author=bo, channel_id=general.id, content=f"Message number {n} about the mix")
        thread = thread_services.create_thread(actor=ada, channel_id=general.id, message_id=first.id,
                                               name="Mastering notes")
        chat.send_message(author=bo, channel_id=thread.channel_id, content="In the thread")
        dm, _ = dms.open_dm(user=ada, recipient_id=bo.id)
        chat.send_message(author=bo, channel_id=dm.id, content="Hello Ada, dinner at 8?")
        playlist = tracks.create_playlist(owner=ada, title="Morning")
        tracks.add_to_playlist(actor=ada, playlist_id=playlist.id, track_id=track.id)
        report_services.report(reporter=ada, kind="message", item_id=first.id + 1, category="spam")
        voice = lab["guild"].channels.get(type="voice")
        return {"thread": thread, "dm": dm, "playlist": playlist, "voice": voice}

    return {**lab, **in_worker_thread(build), "track": track}


def walk(page, base, w):
    """Every signed-in page, each checked for sideways scrolling and photographed."""
    g = w["guild"].id
    general = w["general"]
    pages = [
        ("profile", "/accounts/profile"), ("2fa", "/accounts/2fa"), ("2fa-enrol", "/accounts/2fa/enrol"),
        ("password", "/accounts/password"), ("reports", "/reports"), ("dm-home", "/channels/@me"),
        ("dm", f"/channels/@me/{w['dm'].id}"), ("tracks", f"/guilds/{g}/tracks"), ("stream", "/stream"),
        ("trending", "/trending"), ("track-search", "/tracks/search?q=night"), ("track", f"/tracks/{w['track'].id}"),
        ("playlist", f"/playlists/{w['playlist'].id}"), ("user", "/users/ada"),
        ("voice", f"/guilds/{g}/channels/{w['voice'].id}"),
        ("settings", f"/guilds/{g}/settings"), ("settings-channels", f"/guilds/{g}/settings/channels"),
        ("settings-roles", f"/guilds/{g}/settings/roles"), ("settings-members", f"/guilds/{g}/settings/members"),
        ("settings-invites", f"/guilds/{g}/settings/invites"), ("settings-audit", f"/guilds/{g}/settings/audit-log"),
        ("settings-moderation", f"/guilds/{g}/settings/moderation"),
        ("channel-edit", f"/guilds/{g}/settings/channels/{general.id}"), ("explore", "/explore"),
        ("chat", f"/guilds/{g}/channels/{general.id}"),
    ]
    for name, path in pages:
        response = page.goto(base + path)
        assert response.status == 200, path
        no_sideways_scroll(page, name)

    # The chat's panels: threads, a thread, search results, the mentions inbox, pins.
    expect(page.locator("#chat")).to_have_attribute("data-gateway", "open")
    page.click("#threads-toggle")
    expect(page.locator("#threads-list-panel")).to_be_visible()
    no_sideways_scroll(page, "threads")
    page.locator("#threads-list-panel .thread-item").first.click()
    expect(page.locator("#thread-messages")).to_contain_text("In the thread")
    no_sideways_scroll(page, "thread")
    page.keyboard.press("Escape")
    page.goto(base + f"/guilds/{g}/channels/{general.id}")
    page.fill("#search-input", "mix")
    page.press("#search-input", "Enter")
    expect(page.locator("#search-results li").first).to_be_visible()
    no_sideways_scroll(page, "search")
    page.click("#mentions-toggle")
    expect(page.locator("#search-panel")).to_be_visible()
    no_sideways_scroll(page, "inbox")


def test_every_page_fits_a_phone_and_the_drawers_open_by_button_and_swipe(live_url, browser, world):
    page = phone_page(browser)
    general, bo = world["general"], world["bo"]
    errors = log_in(page, live_url, world["ada"], f"/guilds/{general.guild_id}/channels/{general.id}")
    expect(page.locator("#chat")).to_have_attribute("data-gateway", "open")

    # One column: the rail, the channels and the members are out of sight, their buttons are there.
    rail, channels = page.locator("#guild-rail"), page.locator("#channel-sidebar")
    members = page.locator("#member-list")
    for drawer in (rail, channels, members):
        expect(drawer).not_to_be_in_viewport()
        assert drawer.evaluate("(el) => el.inert")  # no tab stop, no screen reader, while closed
    nav_button, members_button = page.locator("#drawer-nav-toggle"), page.locator("#drawer-members-toggle")
    assert_tappable(nav_button, "the channels button")
    assert_tappable(members_button, "the members button")
    messages = page.locator("#messages").bounding_box()
    assert messages["x"] == 0 and messages["width"] == 390

    # The composer: the box and its buttons fit, a thumb can press them, and a message goes out.
    for selector in ("#composer-emoji", "#composer .composer-send", "#composer .composer-attach"):
        assert_tappable(page.locator(selector), selector)
    box = page.locator("#composer .composer-box").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.locator("#composer-input").tap()
    page.fill("#composer-input", "Sent from my phone")
    page.locator("#composer .composer-send").tap()
    expect(page.locator("#message-list .msg[data-id]").last).to_contain_text("Sent from my phone")

    # The channel drawer: by its button, closed by the shade; then by a swipe from the left edge,
    # closed by a swipe back; a channel tapped in it opens and the drawer goes.
    nav_button.tap()
    expect(nav_button).to_have_attribute("aria-expanded", "true")
    expect(channels).to_be_in_viewport(ratio=0.95)
    expect(rail).to_be_in_viewport(ratio=0.95)
    assert not channels.evaluate("(el) => el.inert")
    no_sideways_scroll(page, "drawer-channels")
    page.locator("#drawer-backdrop").tap(position={"x": 370, "y": 400})
    expect(channels).not_to_be_in_viewport()
    expect(nav_button).to_have_attribute("aria-expanded", "false")
    swipe(page, 4, 260)
    expect(channels).to_be_in_viewport(ratio=0.95)
    swipe(page, 300, 40)
    expect(channels).not_to_be_in_viewport()
    swipe(page, 4, 260)
    page.locator(f".channel-link[data-channel-id='{world['random'].id}']").tap()
    expect(page.locator("#channel-title")).to_contain_text("random")
    expect(channels).not_to_be_in_viewport()

    # The member list: by its button, closed by Escape; by a swipe from the right edge, closed
    # by the button.
    members_button.tap()
    expect(members).to_be_in_viewport(ratio=0.95)
    expect(members.locator(f".member[data-user-id='{bo.id}']")).to_be_visible()
    no_sideways_scroll(page, "drawer-members")
    page.keyboard.press("Escape")
    expect(members).not_to_be_in_viewport()
    swipe(page, 386, 120)
    expect(members).to_be_in_viewport(ratio=0.95)
    page.locator("#drawer-backdrop").tap(position={"x": 20, "y": 400})
    expect(members).not_to_be_in_viewport()
    # A vertical scroll of the messages starting at the edge opens nothing.
    swipe(page, 4, 30, y=420)
    expect(channels).not_to_be_in_viewport()

    walk(page, live_url, world)

    # The voice room's controls and the listening party's: each on the width, each big enough.
    page.goto(live_url + f"/guilds/{general.guild_id}/channels/{world['voice'].id}")
    expect(page.locator("#voice")).to_have_attribute("data-gateway", "open")
    assert_tappable(page.locator("#voice-join"), "Join voice")
    # All of them at once, as a member in a call with a party playing sees them.
    page.evaluate(SHOW_ALL_CONTROLS)
    for button in page.locator(".voice-controls button:visible, #party button:visible").all():
        assert_tappable(button, button.inner_text())
        b = button.bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= 390, button.inner_text()
    no_sideways_scroll(page, "voice-controls")

    # The player bar: a track played from its page; its buttons fit and answer a tap.
    page.goto(live_url + f"/playlists/{world['playlist'].id}")
    small = page.locator(".playlist-entries .entry-up:visible, .playlist-entries .entry-down:visible, "
                         ".playlist-entries .entry-remove:visible, .playlist-entries .queue-add:visible").all()
    assert len(small) >= 3  # the owner's move, remove and queue buttons ("Log out" is in the account menu)
    for button in small:
        assert_tappable(button, button.get_attribute("class"))
    page.locator("#play-playlist").tap()
    bar = page.locator("#player-bar")
    expect(bar).to_be_visible()
    expect(bar.locator(".bar-title")).to_have_text("Night Drive")
    for selector in (".bar-prev", ".bar-play", ".bar-next", ".bar-queue summary"):
        assert_tappable(bar.locator(selector), selector)
    box = bar.bounding_box()
    assert box["x"] == 0 and box["width"] == 390
    page.wait_for_function("() => document.querySelector('#player-bar audio').currentTime > 0.3")
    bar.locator(".bar-play").tap()
    page.wait_for_function("() => document.querySelector('#player-bar audio').paused")
    no_sideways_scroll(page, "player-bar")
    assert errors == []
    page.context.close()


def test_nothing_scrolls_sideways_at_360px(live_url, browser, world):
    page = phone_page(browser, width=360, height=800)
    general = world["general"]
    errors = log_in(page, live_url, world["ada"], f"/guilds/{general.guild_id}/channels/{general.id}")
    page.locator("#drawer-nav-toggle").tap()
    expect(page.locator("#channel-sidebar")).to_be_in_viewport(ratio=0.95)
    no_sideways_scroll(page, "drawer-channels")
    page.keyboard.press("Escape")
    walk(page, live_url, world)
    assert errors == []
    page.context.close()


def one_row(page, name):
    """The top bar is one row of controls (each 44px on a phone: two rows would be 88px and more),
    nothing in it reaches past the screen, and nothing scrolls sideways."""
    bar = page.locator(".topbar").bounding_box()
    assert bar["height"] <= 56, f"{name}: the top bar is {bar['height']}px high"
    for control in page.locator(".topbar > :visible, .topnav > :visible").all():
        box = control.bounding_box()
        assert box["y"] >= bar["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"] + 1, name
    no_sideways_scroll(page, f"topbar-{name}")


@pytest.mark.parametrize("width, height", [(390, 844), (360, 800)])
def test_the_top_bar_is_one_row_and_the_account_menu_holds_the_language(live_url, browser, lab, width, height):  # noqa: F811
    """On a phone the account's links and the language picker are in the account menu (the avatar
    button), as in Discord's and Zulip's; a visitor's language picker is a globe in the bar."""
    page = phone_page(browser, width, height)
    page.goto(f"{live_url}/explore")
    one_row(page, f"visitor-{width}")
    globe = page.locator(".topnav > .lang select")
    assert_tappable(globe, "the visitor's language picker")
    globe.select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".topnav")).to_contain_text("Se connecter")
    one_row(page, f"visitor-fr-{width}")
    page.locator(".topnav > .lang select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    general = lab["general"]
    errors = log_in(page, live_url, lab["ada"], f"/guilds/{general.guild_id}/channels/{general.id}")
    toggle, menu = page.locator(".account-toggle"), page.locator("#account-menu")
    for name, url in (("chat", page.url), ("profile", f"{live_url}/accounts/profile")):
        page.goto(url)
        one_row(page, f"{name}-{width}")
        assert_tappable(toggle, "the account button")
        expect(menu).to_be_hidden()
    expect(page.locator(".topbar .lang select")).to_be_hidden()

    # The menu opens under its button, on the screen, with the account's links and the language.
    toggle.tap()
    expect(menu).to_be_visible()
    expect(menu).to_be_in_viewport(ratio=1)
    button = toggle.bounding_box()
    assert menu.bounding_box()["y"] >= button["y"] + button["height"] - 1
    for item in (menu.locator("a.me"), menu.get_by_role("link", name="Developers"), menu.locator(".lang select"),
                 menu.get_by_role("button", name="Log out")):
        assert_tappable(item, item.inner_text().split("\n")[0])
    expect(menu.locator("a.me")).to_have_text("Ada")
    no_sideways_scroll(page, "account-menu")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    # Its language picker switches the page, which stays one row in the longer French words.
    toggle.tap()
    menu.locator(".lang select").select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".account-toggle")).to_have_attribute("aria-label", "Compte")
    one_row(page, f"profile-fr-{width}")
    page.locator(".account-toggle").tap()
    expect(menu.get_by_role("button", name="Se déconnecter")).to_be_visible()
    menu.locator(".lang select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # And "Log out" logs out.
    page.locator(".account-toggle").tap()
    menu.get_by_role("button", name="Log out").tap()
    expect(page.locator(".topnav").get_by_role("link", name="Log in")).to_be_visible()
    assert errors == []
    page.context.close()


def test_desktop_keeps_three_columns(live_url, new_page, world):
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    general = world["general"]
    log_in(page, live_url, world["ada"], f"/guilds/{general.guild_id}/channels/{general.id}")
    for selector in ("#guild-rail", "#channel-sidebar", "#member-list"):
        expect(page.locator(selector)).to_be_in_viewport(ratio=1)
    expect(page.locator("#drawer-nav-toggle")).to_be_hidden()
    expect(page.locator("#drawer-members-toggle")).to_be_hidden()
    assert not page.locator("#channel-sidebar").evaluate("(el) => el.inert")
    assert page.locator("#channel-sidebar").bounding_box()["x"] == 72

    # The top bar: one row, the account's links and the language picker in it, no menu button;
    # where the chat column is narrow (the member list beside it) they fold into the menu again.
    bar = page.locator(".topbar")
    assert bar.bounding_box()["height"] <= 50
    for link in (".topnav a.me", ".topnav .lang select", ".topnav .logout button"):
        expect(bar.locator(link)).to_be_visible()
    expect(bar.locator(".account-toggle")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "desktop-1280-chat.png"))
    page.set_viewport_size({"width": 1000, "height": 800})
    assert bar.bounding_box()["height"] <= 50
    expect(bar.locator(".topnav .lang select")).to_be_hidden()
    bar.locator(".account-toggle").click()
    expect(page.locator("#account-menu .lang select")).to_be_in_viewport(ratio=1)
    page.screenshot(path=str(ARTIFACTS / "desktop-1000-account-menu.png"))
