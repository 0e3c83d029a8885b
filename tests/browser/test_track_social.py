"""The tracks' social layer in a real browser: on a ready track's page Ada seeks by clicking the
waveform and comments at that moment (a marker appears there, and on Bo's open page live), likes
the track; Bo follows her from her profile and finds the track in his stream."""
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from apps.tracks import pipeline, services
from tests import audio
from tests.browser.test_chat import in_worker_thread, lab  # noqa: F401 (a fixture)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser]

SECONDS = 8.0


def ready_track(owner, guild, tmp_path):
    """Uploaded through the service, then processed here step by step, as a worker would."""
    def build():
        data = audio.track_file(tmp_path / "night-drive.wav", SECONDS).read_bytes()
        with mock.patch("apps.tracks.tasks.process_track"):  # the steps run right below
            track = services.upload_track(uploader=owner, guild_id=guild.id, title="Night Drive", tags="synthwave",
                                          upload=SimpleUploadedFile("night-drive.wav", data))
        for step in (pipeline.probe_track, pipeline.make_waveform, pipeline.make_renditions, pipeline.make_artwork):
            step(track.id)
        return track

    return in_worker_thread(build)


def log_in(page, base, user, path):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/accounts/login?next={path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{path}")
    return errors


def test_comment_on_the_waveform_like_follow_and_stream(live_url, new_page, lab, tmp_path):  # noqa: F811
    track = ready_track(lab["ada"], lab["guild"], tmp_path)
    path = f"/tracks/{track.id}"

    bo = new_page()
    bo_errors = log_in(bo, live_url, lab["bo"], path)
    expect(bo.locator("#waveform")).to_have_attribute("data-ready", "true")

    ada = new_page()
    errors = log_in(ada, live_url, lab["ada"], path)
    expect(ada.locator("#waveform")).to_have_attribute("data-ready", "true")
    expect(ada.locator("a.track-artist")).to_have_attribute("href", "/users/ada")

    # Seek to 60% of the waveform by clicking it, then comment there.
    ada.wait_for_function("() => document.getElementById('audio').readyState >= 1")  # it knows its duration
    box = ada.locator("#waveform").bounding_box()
    ada.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    ada.wait_for_function("() => document.getElementById('audio').currentTime > 0")
    position = ada.evaluate("() => document.getElementById('audio').currentTime")
    assert 0.55 * SECONDS < position < 0.65 * SECONDS, position
    expect(ada.locator("#comment-at")).to_have_text("0:04")
    ada.fill("#comment-body", "the bass comes in here")
    ada.click("#comment-form button[type=submit]")
    comment = ada.locator("#comment-list .comment", has_text="the bass comes in here")
    expect(comment.locator(".comment-time")).to_have_text("0:04")
    expect(ada.locator("#comment-count")).to_have_text("1")

    # Its marker sits on the waveform where the comment was made (wavesurfer's regions plugin).
    marker = ada.locator('#waveform [part~="marker"]')
    expect(marker).to_have_count(1)
    x = marker.bounding_box()["x"]
    assert abs((x - box["x"]) / box["width"] - 0.6) < 0.03, (x, box)

    # Bo's open page shows it live, marker included.
    expect(bo.locator("#comment-list .comment", has_text="the bass comes in here")).to_be_visible()
    expect(bo.locator('#waveform [part~="marker"]')).to_have_count(1)

    # A comment past the end is refused with the server's message (the API is what decides).
    assert ada.evaluate(f"""() => fetch('/api/tracks/{track.id}/comments', {{method: 'POST',
        headers: {{'Content-Type': 'application/json', 'X-CSRFToken': document.cookie.match(/csrftoken=([^;]+)/)[1]}},
        body: JSON.stringify({{body: 'late', position_ms: 60000}})}}).then(r => r.status)""") == 400

    # Like, and take it back.
    ada.click("#like")
    expect(ada.locator("#like-count")).to_have_text("1")
    expect(ada.locator("#like")).to_have_attribute("aria-pressed", "true")
    ada.click("#like")
    expect(ada.locator("#like-count")).to_have_text("0")
    ada.click("#like")
    expect(ada.locator("#like-count")).to_have_text("1")

    # Playing counts one play, once.
    ada.click("#play")
    expect(ada.locator("#play-count")).to_have_text("1")
    ada.click("#play")
    ada.reload()
    expect(ada.locator("#like-count")).to_have_text("1")
    expect(ada.locator("#play-count")).to_have_text("1")
    # Loaded with the page, the marker is where the comment was made too.
    expect(ada.locator("#waveform")).to_have_attribute("data-ready", "true")
    expect(marker).to_have_count(1)
    ada.wait_for_function("""() => { const w = document.getElementById('waveform').getBoundingClientRect();
        const m = document.querySelector('#waveform > div').shadowRoot.querySelector('[part~="marker"]');
        return m && Math.abs((m.getBoundingClientRect().x - w.x) / w.width - 0.6) < 0.03; }""")

    # Bo follows Ada from her profile; her track is then in his stream.
    bo.click("a.track-artist")
    expect(bo.locator("#follow")).to_have_text("Follow")
    bo.click("#follow")
    expect(bo.locator("#follow")).to_have_text("Unfollow")
    expect(bo.locator("#follower-count")).to_have_text("1")
    bo.click(".tracks-nav a[href='/stream']")
    expect(bo.locator("#stream .track-item a.track-title")).to_have_text(["Night Drive"])
    assert errors == [] and bo_errors == []
