"""Playback that survives navigation, in a real browser: a member starts a playlist in the player
bar, then follows links inside the app (a guild, a chat channel where they send a message, their
settings) and goes back. Turbo Drive swaps the pages: the bar's <audio> is the same node, still
playing on from where it was, the tab opened one gateway socket for the whole visit, and the back
button shows the previous page with its content. Nothing breaks the Content-Security-Policy of the
first page, which holds for the whole visit (Turbo's progress bar styles itself with its nonce)."""
import time

import pytest
from playwright.sync_api import expect

from apps.chat import services as chat
from tests.browser.test_chat import in_worker_thread, lab, message, open_channel  # noqa: F401 (a fixture)
from tests.browser.test_csp import watch
from tests.browser.test_track_player import _playlist, ready_tracks
from tests.browser.test_track_social import log_in

pytestmark = [pytest.mark.browser]

BAR_AUDIO = "document.querySelector('#player-bar audio')"


def playing_on(page, since: float) -> float:
    """The bar's own <audio> (the node marked before the first link), playing, past `since` seconds."""
    page.wait_for_function(f"() => {BAR_AUDIO} === window.smartcTestAudio && !{BAR_AUDIO}.paused"
                           f" && {BAR_AUDIO}.currentTime > {since}")
    return page.evaluate(f"() => {BAR_AUDIO}.currentTime")


def test_the_player_bar_and_the_gateway_live_on_across_pages(live_url, new_page, lab, tmp_path):  # noqa: F811
    one, two = ready_tracks(lab["ada"], lab["guild"], tmp_path, ["Long drive", "Short cut"], seconds=40.0)
    playlist = in_worker_thread(lambda: _playlist(lab["ada"], [one, two]))
    path = f"/playlists/{playlist.id}"

    page = new_page()
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url) if "/ws/gateway/" in ws.url else None)
    violations = watch(page)
    errors = log_in(page, live_url, lab["bo"], path)
    page.evaluate("() => { window.Turbo.config.drive.progressBarDelay = 0; }")  # shown on every visit
    bar = page.locator("#player-bar")
    page.click("#play-playlist")
    expect(bar.locator(".bar-title")).to_have_text("Long drive")
    page.wait_for_function(f"() => {BAR_AUDIO}.currentTime > 0.5")
    # Marks that a full page load would lose: the node itself and a property of this document.
    page.evaluate(f"() => {{ window.smartcTestAudio = {BAR_AUDIO}; }}")
    at = page.evaluate(f"() => {BAR_AUDIO}.currentTime")

    # 1. The guild in the rail: its first channel, #general.
    page.locator(f".rail-item[data-guild-id='{lab['guild'].id}']").click()
    expect(page.locator("#channel-title")).to_contain_text("general")
    at = playing_on(page, at)

    # 2. #random in the channel list; a message sent there goes over the live socket.
    page.locator(f".channel-link[data-channel-id='{lab['random'].id}']").click()
    expect(page.locator("#channel-title")).to_contain_text("random")
    expect(page.locator("#chat")).to_have_attribute("data-gateway", "open")
    page.locator("#composer-input").fill("Still listening")
    page.locator("#composer-input").press("Enter")
    expect(message(page, "Still listening")).to_be_visible()
    at = playing_on(page, at)

    # 3. The member's settings, from the top bar.
    page.locator(".topbar a.me").click()
    page.wait_for_url(f"{live_url}/accounts/profile")
    at = playing_on(page, at)
    expect(bar.locator(".bar-title")).to_have_text("Long drive")  # never restarted, never moved on

    # Back: #random again, with its messages, and the bar still on.
    page.go_back()
    expect(page.locator("#channel-title")).to_contain_text("random")
    expect(message(page, "Still listening")).to_be_visible()
    expect(page.locator("#chat")).to_have_attribute("data-gateway", "open")
    playing_on(page, at)

    assert len(sockets) == 1, sockets
    assert page.evaluate("() => window.Turbo.session.drive")  # no page of the sequence opted out

    # Forward to the settings, then to two-factor authentication, a page that opts out: a full page
    # load, a new visit (a new socket); the bar finds its queue again, paused at its track.
    page.go_forward()
    page.wait_for_url(f"{live_url}/accounts/profile")
    page.get_by_role("link", name="Two-factor authentication").click()
    page.wait_for_url(f"{live_url}/accounts/2fa")
    expect(bar.locator(".bar-title")).to_have_text("Long drive")
    assert page.evaluate(f"() => window.smartcTestAudio === undefined && {BAR_AUDIO}.paused")
    expect(page.locator("#bell")).to_have_attribute("data-live", "true")  # this visit's socket is ready
    assert len(sockets) == 2, sockets
    assert violations == []
    assert errors == []


def test_a_followed_link_costs_one_page_not_a_whole_load(live_url, new_page, lab):  # noqa: F811
    """#general -> #random and back, followed by Turbo Drive and as full page loads (Drive off):
    the requests each costs, the sockets it opens and the time until the channel's history shows
    (printed for `pytest -s`; docs/benchmarks.md)."""
    in_worker_thread(lambda: chat.send_message(author=lab["ada"], channel_id=lab["general"].id, content="hi general"))
    in_worker_thread(lambda: chat.send_message(author=lab["ada"], channel_id=lab["random"].id, content="hi random"))
    page = new_page()
    open_channel(page, live_url, lab["bo"], lab["general"])
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    seen = {"requests": 0, "sockets": 0}
    cdp.on("Network.requestWillBeSent", lambda _e: seen.__setitem__("requests", seen["requests"] + 1))
    cdp.on("Network.webSocketCreated", lambda _e: seen.__setitem__("sockets", seen["sockets"] + 1))
    runs = {"turbo": [], "full": []}
    for _round in range(3):
        for mode in runs:
            for channel, text in ((lab["random"], "hi random"), (lab["general"], "hi general")):
                page.evaluate(f"() => {{ window.Turbo.session.drive = {str(mode == 'turbo').lower()}; }}")
                seen.update(requests=0, sockets=0)
                started = time.perf_counter()
                page.locator(f".channel-link[data-channel-id='{channel.id}']").click()
                expect(message(page, text)).to_be_visible()
                expect(page.locator("#chat")).to_have_attribute("data-gateway", "open")
                elapsed_ms = (time.perf_counter() - started) * 1000
                page.wait_for_timeout(300)  # late requests (read marks, members) count too
                runs[mode].append((elapsed_ms, seen["requests"], seen["sockets"]))
    for mode, rows in runs.items():
        times = sorted(ms for ms, *_ in rows)
        print(f"{mode}: median {times[len(times) // 2]:.0f} ms, requests {[r for _, r, _ in rows]},"
              f" sockets {[s for *_, s in rows]}")
    assert all(sockets == 0 for *_, sockets in runs["turbo"])
    assert all(sockets == 1 for *_, sockets in runs["full"])
    assert max(r for _, r, _ in runs["turbo"]) * 3 < min(r for _, r, _ in runs["full"])
