"""Tracks in a real browser: Ada uploads a track and watches the progress bar, a real Celery worker
processes it while her page follows live, then she plays it, seeks by clicking the waveform, and a
file that is not audio is refused with what she typed kept."""
import pytest
from playwright.sync_api import expect

from tests import audio, servers
from tests.browser.test_chat import lab  # noqa: F401 (a fixture)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser]


def open_tracks(page, base, user, guild):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/accounts/login?next=/guilds/{guild.id}/tracks")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#track-upload")).to_be_visible()
    return errors


def test_upload_process_play_and_seek_a_track(live_url, new_page, lab, tmp_path):  # noqa: F811
    ada = new_page()
    errors = open_tracks(ada, live_url, lab["ada"], lab["guild"])

    # Not audio: refused, and the form keeps what was typed.
    fake = tmp_path / "song.mp3"
    fake.write_text("This is a text file, not a song.\n" * 100)
    ada.locator("#track-upload input[name=file]").set_input_files(str(fake))
    ada.fill("#track-upload input[name=title]", "Night Drive")
    ada.click("#track-upload button[type=submit]")
    expect(ada.locator("#upload-status")).to_have_text("The file is not audio we can read.")
    expect(ada.locator("#track-upload input[name=title]")).to_have_value("Night Drive")

    # A slow uplink (about 256 KB/s), so the progress bar has something to show.
    cdp = ada.context.new_cdp_session(ada)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                  "uploadThroughput": 256 * 1024})
    song = audio.track_file(tmp_path / "night-drive.wav", 12.0)  # about 2 MB
    ada.locator("#track-upload input[name=file]").set_input_files(str(song))
    ada.fill("#track-upload input[name=tags]", "synthwave, night")
    ada.click("#track-upload button[type=submit]")
    ada.wait_for_function("() => { const p = document.getElementById('upload-progress');"
                          " return !p.hidden && p.value > 0 && p.value < 100; }")
    expect(ada.locator("#upload-status")).to_have_text("Processing…", timeout=30_000)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    item = ada.locator("#track-list .track-item", has_text="Night Drive")
    expect(item.locator(".track-state")).to_have_text("Waiting to be processed")

    # A real worker processes it; the page follows without a reload.
    with servers.celery_worker(queues="media"):
        expect(item.locator("a.track-title")).to_be_visible(timeout=90_000)
    expect(item.locator(".track-state")).to_have_text("0:12")

    fetched = []
    ada.on("request", lambda request: fetched.append(request.url))
    item.locator("a.track-title").click()
    expect(ada.locator("h1.track-name")).to_have_text("Night Drive")
    expect(ada.locator("#waveform")).to_have_attribute("data-ready", "true")
    ada.click("#play")
    ada.wait_for_function("() => document.getElementById('audio').currentTime > 1", timeout=15_000)
    expect(ada.locator("#play")).to_have_attribute("aria-label", "Pause")
    # It plays the HLS ladder (Chromium plays HLS natively; hls.js steps in where a browser cannot).
    assert any("/hls/master.m3u8" in url for url in fetched)
    assert any("/hls/" in url and url.endswith(".ts") for url in fetched)

    # Click three quarters of the way along the waveform: playback jumps there (9 s of 12).
    box = ada.locator("#waveform").bounding_box()
    ada.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    position = ada.evaluate("() => document.getElementById('audio').currentTime")
    assert 8.0 < position < 10.5, position
    ada.wait_for_function(f"() => document.getElementById('audio').currentTime > {position + 0.5}")
    assert errors == []

    # A browser without native HLS (most besides Safari and recent Chromium) plays it through hls.js.
    track_url = ada.url
    ada.add_init_script("""(() => { const can = HTMLMediaElement.prototype.canPlayType;
        HTMLMediaElement.prototype.canPlayType = function (type) {
          return type.includes("mpegurl") ? "" : can.call(this, type); }; })()""")
    fetched.clear()
    ada.goto(track_url)
    expect(ada.locator("#waveform")).to_have_attribute("data-ready", "true")
    ada.click("#play")
    ada.wait_for_function("() => document.getElementById('audio').currentTime > 1", timeout=15_000)
    assert ada.evaluate("() => document.getElementById('audio').src.startsWith('blob:')")  # Media Source
    assert any("/vendor/hls/" in url for url in fetched)
    assert any("/hls/" in url and url.endswith(".ts") for url in fetched)
    assert errors == []
