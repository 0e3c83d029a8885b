"""The player bar and tracks in chat, in a real browser: a playlist played from its page fills the
queue and the bar plays it (next, and after a reload); a chat message linking a track shows a
player card with its waveform to those who can hear the track, and nothing to those who cannot."""
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from apps.chat import services as chat
from apps.tracks import pipeline, services
from tests import audio
from tests.browser.test_chat import in_worker_thread, lab, message, open_channel  # noqa: F401 (a fixture)
from tests.browser.test_track_social import log_in
from tests.factories import UserFactory, add_member, make_guild
from tests.servers import ARTIFACTS

pytestmark = [pytest.mark.browser]

SECONDS = 6.0


def ready_tracks(owner, guild, tmp_path, titles, seconds=SECONDS):
    """Uploaded through the service, then processed here step by step, as a worker would."""
    def build():
        data = audio.track_file(tmp_path / "tone.wav", seconds).read_bytes()
        made = []
        for title in titles:
            with mock.patch("apps.tracks.tasks.process_track"):  # the steps run right below
                track = services.upload_track(uploader=owner, guild_id=guild.id, title=title,
                                              upload=SimpleUploadedFile("tone.wav", data))
            for step in (pipeline.probe_track, pipeline.make_waveform, pipeline.make_renditions,
                         pipeline.make_artwork):
                step(track.id)
            made.append(track)
        return made

    return in_worker_thread(build)


def bar_time(page) -> float:
    return page.evaluate("() => document.querySelector('#player-bar audio').currentTime")


def test_a_playlist_plays_in_the_bar_next_and_after_a_reload(live_url, new_page, lab, tmp_path):  # noqa: F811
    one, two = ready_tracks(lab["ada"], lab["guild"], tmp_path, ["First light", "Second wind"])
    playlist = in_worker_thread(lambda: _playlist(lab["ada"], [one, two]))
    path = f"/playlists/{playlist.id}"

    page = new_page()
    errors = log_in(page, live_url, lab["bo"], path)
    expect(page.locator("#playlist-entries .track-title")).to_have_text(["First light", "Second wind"])
    bar = page.locator("#player-bar")
    expect(bar).to_be_hidden()

    page.click("#play-playlist")
    expect(bar).to_be_visible()
    expect(bar.locator(".bar-title")).to_have_text("First light")
    expect(bar).to_have_attribute("data-track-id", str(one.id))
    page.wait_for_function("() => document.querySelector('#player-bar audio').currentTime > 0.5")
    expect(bar.locator(".bar-wave")).to_have_attribute("data-ready", "true")
    expect(bar.locator(".bar-count")).to_have_text("2")

    page.screenshot(path=str(ARTIFACTS / "player-bar.png"))
    bar.locator(".bar-next").click()
    expect(bar.locator(".bar-title")).to_have_text("Second wind")
    expect(bar).to_have_attribute("data-track-id", str(two.id))
    page.wait_for_function("() => document.querySelector('#player-bar audio').currentTime > 0.5")
    assert "/tracks/" + str(two.id) in page.evaluate("() => document.querySelector('#player-bar audio').currentSrc")

    # Reload: the queue is still there, at the second track (paused until asked).
    page.reload()
    expect(bar).to_be_visible()
    expect(bar.locator(".bar-title")).to_have_text("Second wind")
    expect(bar.locator(".bar-count")).to_have_text("2")
    bar.locator(".bar-play").click()
    page.wait_for_function("() => document.querySelector('#player-bar audio').currentTime > 0.3")
    # "previous" goes back to the first one (or restarts this one when past 3 s).
    page.evaluate("() => { const a = document.querySelector('#player-bar audio'); a.currentTime = 0; }")
    bar.locator(".bar-prev").click()
    expect(bar.locator(".bar-title")).to_have_text("First light")

    # At the end of a track the bar goes on to the next one by itself.
    page.evaluate(f"() => {{ document.querySelector('#player-bar audio').currentTime = {SECONDS - 0.5}; }}")
    expect(bar.locator(".bar-title")).to_have_text("Second wind", timeout=15_000)

    # "+ Queue" on a track of the list appends to the queue.
    page.locator("#playlist-entries .queue-add").first.click()
    expect(bar.locator(".bar-count")).to_have_text("3")
    assert errors == []


def _playlist(owner, tracks):
    playlist = services.create_playlist(owner=owner, title="Morning")
    for t in tracks:
        services.add_to_playlist(actor=owner, playlist_id=playlist.id, track_id=t.id)
    return playlist


def test_a_track_link_in_chat_plays_in_a_card_for_those_who_can_hear_it(live_url, new_page, lab, tmp_path):  # noqa: F811
    (track,) = ready_tracks(lab["ada"], lab["guild"], tmp_path, ["Night Drive"])
    # A room Cy shares with Bo, without being in the track's guild.
    def open_room():
        cy = UserFactory(username="cy", display_name="Cy")
        room = make_guild(cy, name="Open Room")
        add_member(room, lab["bo"])
        return cy, room.channels.get(name="general")

    cy, hall = in_worker_thread(open_room)
    text = f"hear this {live_url}/tracks/{track.id}?t=2 and again /tracks/{track.id}"
    in_worker_thread(lambda: chat.send_message(author=lab["bo"], channel_id=hall.id, content=text))
    in_worker_thread(lambda: chat.send_message(author=lab["ada"], channel_id=lab["general"].id, content=text))

    bo = new_page()
    requests = []
    bo.on("request", lambda r: requests.append(r.url) if f"/api/tracks/{track.id}" in r.url else None)
    bo_errors = open_channel(bo, live_url, lab["bo"], lab["general"])
    msg = message(bo, "hear this")
    card = msg.locator(".track-embed")
    expect(card).to_have_count(1)  # two links to one track: one card
    expect(card.locator(".embed-title")).to_have_text("Night Drive")
    expect(card.locator(".embed-artist")).to_have_text("Ada")
    expect(card.locator(".embed-wave")).to_have_attribute("data-ready", "true")
    expect(card.locator(".embed-wave div").first).to_be_attached()  # wavesurfer drew the stored peaks
    card.locator(".embed-play").click()
    bo.wait_for_function("""() => { const a = document.querySelector('.track-embed audio');
        return a && !a.paused && a.currentTime > 2.3; }""")  # started at ?t=2 and goes on
    bo.screenshot(path=str(ARTIFACTS / "track-embed.png"))

    # "Comment at": a timed comment and a message linking that moment, which gets its own card.
    expect(card.locator(".embed-comment")).to_be_hidden()
    card.locator(".embed-comment-toggle").click()
    card.locator(".embed-comment input").fill("this part")
    card.locator(".embed-comment button[type=submit]").click()
    posted = message(bo, "this part")
    expect(posted).to_have_count(1)
    expect(posted.locator(".track-embed")).to_have_count(1)
    # Three links to the track in two messages: the page asked the API about it once.
    assert len([u for u in requests if u.endswith(f"/api/tracks/{track.id}")]) == 1
    assert in_worker_thread(lambda: track.comments.filter(body="this part").count()) == 1
    # "+ Queue" on the card puts the track in the player bar.
    card.locator(".queue-add").click()
    expect(bo.locator("#player-bar .bar-title")).to_have_text("Night Drive")
    bo.screenshot(path=str(ARTIFACTS / "track-embed-bar.png"))

    # Cy sees the same message in a room they share, but cannot hear the track: no card.
    cy_page = new_page()
    with cy_page.expect_response(lambda r: r.url.endswith(f"/api/tracks/{track.id}")) as answer:
        cy_errors = open_channel(cy_page, live_url, cy, hall)
    assert answer.value.status == 404
    expect(message(cy_page, "hear this")).to_have_count(1)
    expect(cy_page.locator(".track-embed")).to_have_count(0)
    expect(cy_page.locator(".track-embed-slot")).to_have_count(0)
    # Bo, who can, sees the card in that room too.
    bo.goto(f"{live_url}/guilds/{hall.guild_id}/channels/{hall.id}")
    expect(message(bo, "hear this").locator(".track-embed")).to_have_count(1)
    assert bo_errors == [] and cy_errors == []


def test_the_owner_builds_and_reorders_a_playlist_from_the_pages(live_url, new_page, lab, tmp_path):  # noqa: F811
    one, two = ready_tracks(lab["ada"], lab["guild"], tmp_path, ["First light", "Second wind"])
    page = new_page()
    errors = log_in(page, live_url, lab["ada"], f"/tracks/{one.id}")
    # "Add to playlist" on the track page: a new playlist with this track in it.
    page.click("#add-to-playlist summary")
    page.fill("#new-playlist input[name=title]", "Evening")
    page.click("#new-playlist button[type=submit]")
    expect(page.locator("#playlist-status")).to_have_text("Added to Evening.")
    page.goto(f"{live_url}/tracks/{two.id}")
    page.click("#add-to-playlist summary")
    page.click("#my-playlists .add-to:text('Evening')")
    expect(page.locator("#playlist-status")).to_have_text("Added to Evening.")

    playlist = in_worker_thread(lambda: lab["ada"].playlists.get(title="Evening"))
    page.goto(f"{live_url}/playlists/{playlist.id}")
    titles = page.locator("#playlist-entries .track-title")
    expect(titles).to_have_text(["First light", "Second wind"])
    with page.expect_response(lambda r: r.url.endswith("/order")) as answer:
        page.locator("#playlist-entries .entry-down").first.click()
    assert answer.value.status == 200
    expect(titles).to_have_text(["Second wind", "First light"])
    page.reload()
    expect(titles).to_have_text(["Second wind", "First light"])  # the server kept the order
    # Play plays the playlist in its new order.
    page.click("#play-playlist")
    expect(page.locator("#player-bar .bar-title")).to_have_text("Second wind")
    with page.expect_response(lambda r: f"/tracks/{two.id}" in r.url and r.request.method == "DELETE"):
        page.locator("#playlist-entries .entry-remove").first.click()
    expect(titles).to_have_text(["First light"])
    # Her profile lists the playlist.
    page.goto(f"{live_url}/users/ada")
    expect(page.locator("#profile-playlists a")).to_have_text(["Evening"])
    assert errors == []
