"""Tracks for people outside their guild, in a real browser: a signed-out visitor opens a public
track's page and plays it, and another site shows its embed in an iframe that plays too (both plays
count); an unlisted track's secret link, shared from its page, plays in a chat card for someone
outside the guild, until its uploader resets the link."""
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from apps.chat import services as chat
from apps.tracks import sharing
from apps.tracks.models import Track
from tests.browser.test_chat import in_worker_thread, lab, message, open_channel  # noqa: F401 (a fixture)
from tests.browser.test_track_player import ready_tracks
from tests.browser.test_track_social import log_in
from tests.factories import UserFactory, add_member, make_guild

pytestmark = [pytest.mark.browser]


@pytest.fixture
def other_site():
    """Another origin (localhost, not the platform's 127.0.0.1) serving one page: `set_page(html)`."""
    body = {"html": b""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body["html"])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def set_page(html: str) -> str:
        body["html"] = html.encode()
        return f"http://localhost:{server.server_address[1]}/"

    yield set_page
    server.shutdown()
    server.server_close()


def test_a_signed_out_visitor_plays_a_public_track_and_its_embed_on_another_site(
        live_url, browser, lab, tmp_path, other_site):  # noqa: F811
    (track,) = ready_tracks(lab["ada"], lab["guild"], tmp_path, ["Open air"])
    in_worker_thread(lambda: sharing.set_track_audience(actor=lab["ada"], track_id=track.id, audience="public"))

    visitor = browser.new_context(locale="en-US", user_agent="A visitor without an account")
    visitor.set_default_timeout(15_000)
    page = visitor.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_url}/tracks/{track.id}")
    expect(page.locator("h1.track-name")).to_have_text("Open air")
    expect(page.get_by_role("link", name="Sign in to comment")).to_be_visible()
    expect(page.locator("#waveform")).to_have_attribute("data-ready", "true")
    page.click("#play")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.5")
    expect(page.locator("#play-count")).to_have_text("1")
    assert errors == []
    visitor.close()

    embedder = browser.new_context(locale="en-US", user_agent="A reader of another site")
    embedder.set_default_timeout(15_000)
    host = embedder.new_page()
    host.on("pageerror", lambda exc: errors.append(str(exc)))
    site = other_site(f'<!doctype html><title>A blog</title><h1>My favourite track</h1>'
                      f'<iframe src="{live_url}/embed/tracks/{track.id}" width="600" height="166"></iframe>')
    host.goto(site)
    frame = host.frame_locator("iframe")
    expect(frame.locator(".embed-title a")).to_have_text("Open air")
    expect(frame.locator("#waveform")).to_have_attribute("data-ready", "true")
    frame.locator("#play").click()
    player = next(f for f in host.frames if f.url.startswith(live_url))
    player.wait_for_function("() => document.getElementById('audio').currentTime > 0.5")
    assert errors == []

    # The embed's play counts like any other (another listener: two plays).
    for _ in range(50):
        if in_worker_thread(lambda: Track.objects.get(pk=track.pk).play_count) == 2:
            break
        host.wait_for_timeout(100)
    assert in_worker_thread(lambda: Track.objects.get(pk=track.pk).play_count) == 2
    embedder.close()


def test_an_unlisted_tracks_secret_link_plays_in_chat_outside_its_guild_until_reset(
        live_url, new_page, lab, tmp_path):  # noqa: F811
    (track,) = ready_tracks(lab["ada"], lab["guild"], tmp_path, ["Backroom demo"])

    def open_room():  # a room Ada shares with Cy, who is not in the track's guild
        cy = UserFactory(username="cy", display_name="Cy")
        room = make_guild(cy, name="Open Room")
        add_member(room, lab["ada"])
        return cy, room.channels.get(name="general")

    cy, hall = in_worker_thread(open_room)
    ada = new_page()
    errors = log_in(ada, live_url, lab["ada"], f"/tracks/{track.id}")
    ada.click("#share-panel summary")
    expect(ada.locator("#share-link")).to_be_hidden()  # a guild track has no link to share
    ada.select_option("#share-audience", "unlisted")
    expect(ada.locator("#share-link")).to_be_visible()  # the server said it is unlisted
    secret_url = ada.locator("#share-secret-url")
    expect(secret_url).to_have_value(re.compile(rf"/tracks/{track.id}/s/[\w-]+$"))
    expect(ada.locator("#share-embed")).to_have_value(re.compile(r"^<iframe .*/embed/tracks/"))
    link = secret_url.input_value()
    assert in_worker_thread(lambda: Track.objects.get(pk=track.pk).audience) == "unlisted"
    in_worker_thread(lambda: chat.send_message(author=lab["ada"], channel_id=hall.id, content=f"secret demo {link}"))
    in_worker_thread(lambda: chat.send_message(author=lab["ada"], channel_id=hall.id,
                                               content=f"plain link {live_url}/tracks/{track.id}"))

    cy_page = new_page()
    errors += open_channel(cy_page, live_url, cy, hall)
    card = message(cy_page, "secret demo").locator(".track-embed")
    expect(card).to_have_count(1)
    expect(card.locator(".embed-title")).to_have_text("Backroom demo")
    expect(card.locator(".embed-wave")).to_have_attribute("data-ready", "true")
    card.locator(".embed-play").click()
    cy_page.wait_for_function("() => document.querySelector('.track-embed audio').currentTime > 0.5")
    expect(message(cy_page, "plain link").locator(".track-embed")).to_have_count(0)  # no secret, no card

    ada.click("#share-reset")
    expect(secret_url).not_to_have_value(link)
    cy_page.reload()
    expect(message(cy_page, "secret demo")).to_have_count(1)
    expect(cy_page.locator(".track-embed")).to_have_count(0)  # the old link hears nothing any more
    assert errors == []
