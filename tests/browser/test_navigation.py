"""Playback that survives navigation, in a real browser: a member starts a playlist in the player
bar, then follows links inside the app (a guild, a chat channel where they send a message, their
settings) and goes back. Turbo Drive swaps the pages: the bar's <audio> is the same node, still
playing on from where it was, the tab opened one gateway socket for the whole visit, and the back
button shows the previous page with its content. Nothing breaks the Content-Security-Policy of the
first page, which holds for the whole visit (Turbo's progress bar styles itself with its nonce)."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_chat import in_worker_thread, lab, message  # noqa: F401 (a fixture)
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
