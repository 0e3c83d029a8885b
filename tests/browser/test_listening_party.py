"""A listening party in real Chromium: Ada and Bo are in a voice room; Ada starts a party on a
ready track of the guild from the picker, and both pages play it in step with the server's
position (within 100 ms); she seeks by clicking the waveform and both follow; she pauses and both
pause. In a browser that will not start audio without a click, a button lets the listener in."""
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from apps.tracks import pipeline, services
from tests import audio
from tests.browser.test_chat import in_worker_thread
from tests.browser.test_voice import (  # noqa: F401 (fixtures)
    join,
    media_browser,
    new_media_page,
    open_voice,
    room,
)

pytestmark = [pytest.mark.browser]

SECONDS = 20.0
BOUND_S = 0.1

# What a page plays and where the server says the party is, read at one instant of the page. The
# server runs on this machine: its clock is the page's clock, so the expected position is computed
# here without the page's own offset estimate.
SAMPLE = """() => {
  const p = window.smartcParty, s = p.state, now = Date.now();
  const expected = s ? (s.position_ms + (s.playing ? now - s.updated_at : 0)) / 1000 : null;
  return {current: p.audio.currentTime, paused: p.audio.paused, expected, now, drift: p.drift(),
          playing: s && s.playing, position_ms: s && s.position_ms};
}"""


def ready_track(owner, guild, tmp_path, title):
    """Uploaded through the service, then processed here step by step, as a worker would."""
    def build():
        data = audio.track_file(tmp_path / "party.wav", SECONDS).read_bytes()
        with mock.patch("apps.tracks.tasks.process_track"):  # the steps run right below
            track = services.upload_track(uploader=owner, guild_id=guild.id, title=title, tags="",
                                          upload=SimpleUploadedFile("party.wav", data))
        for step in (pipeline.probe_track, pipeline.make_waveform, pipeline.make_renditions, pipeline.make_artwork):
            step(track.id)
        return track

    return in_worker_thread(build)


def errors_of(pages) -> list[float]:
    """Each page's distance from the server's position, sampled a few times 250 ms apart."""
    out = []
    for _ in range(6):
        for page in pages:
            s = page.evaluate(SAMPLE)
            assert not s["paused"], s
            out.append(s["current"] - s["expected"])
        pages[0].wait_for_timeout(250)
    return out


def report(when: str, drift: list[float]) -> None:
    """The figures, for `pytest -s`."""
    print(f"{when}: max |drift| {max(map(abs, drift)) * 1000:.0f} ms over {len(drift)} samples,",
          [round(d * 1000) for d in drift])


def settle(page, predicate: str):
    page.wait_for_function(predicate, timeout=15_000)


# The page has converged: it plays within half the bound of the server's position, read four times
# in a row 250 ms apart (a seek, then a nudge of up to 5% closing 50 ms a second; a busy machine's
# seeks land further off, so how long that takes varies, where it ends up does not).
CONVERGED = f"""() => {{
  const s = ({SAMPLE})();
  const near = !s.paused && s.expected !== null && Math.abs(s.current - s.expected) < {BOUND_S / 2};
  window.inStepReads = near ? (window.inStepReads || 0) + 1 : 0;
  return window.inStepReads >= 4;
}}"""


def converge(*pages):
    for page in pages:
        page.evaluate("window.inStepReads = 0")
        page.wait_for_function(CONVERGED, polling=250, timeout=20_000)


def test_a_party_plays_in_step_on_both_pages_follows_a_seek_and_a_pause(live_url, new_media_page, room,  # noqa: F811
                                                                       tmp_path):
    ada, bo, voice = room["ada"], room["bo"], room["voice"]
    track = ready_track(ada, voice.guild, tmp_path, "Party Song")
    page_ada, page_bo = new_media_page(), new_media_page()
    errors = open_voice(page_ada, live_url, ada, voice) + open_voice(page_bo, live_url, bo, voice)
    for page in (page_ada, page_bo):
        join(page)
        expect(page.locator("#party")).to_be_visible()

    # Ada picks the track; both pages play it (Chromium here runs with autoplay allowed).
    page_ada.click("#party-start")
    page_ada.locator("#party-tracks button", has_text="Party Song").click()
    for page in (page_ada, page_bo):
        expect(page.locator("#party")).to_have_attribute("data-party", "playing")
        expect(page.locator("#party-now")).to_contain_text("Party Song")
        settle(page, "() => !window.smartcParty.audio.paused && window.smartcParty.audio.currentTime > 0.5")
    expect(page_ada.locator("#party-controls")).to_be_visible()
    expect(page_bo.locator("#party-controls")).to_be_hidden()  # Bo is not the host
    assert page_bo.evaluate("window.smartcParty.state.track_id") == track.id

    converge(page_ada, page_bo)
    drift = errors_of([page_ada, page_bo])
    report("in step", drift)
    assert all(abs(d) < BOUND_S for d in drift), drift
    # The two pages, read at one wall-clock moment (same machine), play the same instant.
    a, b = page_ada.evaluate(SAMPLE), page_bo.evaluate(SAMPLE)
    assert abs((a["current"] - b["current"]) - (a["now"] - b["now"]) / 1000) < BOUND_S, (a, b)

    # Ada seeks by clicking the middle of the waveform: 10 s of 20; both follow.
    wave = page_ada.locator("#party-waveform")
    wave.scroll_into_view_if_needed()  # under the room's tiles, maybe below the fold
    box = wave.bounding_box()
    wave.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
    for page in (page_ada, page_bo):
        settle(page, "() => window.smartcParty.state.version === 2")
        assert 9_800 <= page.evaluate("window.smartcParty.state.position_ms") <= 10_200
    converge(page_ada, page_bo)
    drift = errors_of([page_ada, page_bo])
    report("after the seek", drift)
    assert all(abs(d) < BOUND_S for d in drift), drift
    assert page_bo.evaluate("window.smartcParty.audio.currentTime") > 10.0

    # Ada pauses: both pause where the server says.
    page_ada.click("#party-toggle")
    for page in (page_ada, page_bo):
        expect(page.locator("#party")).to_have_attribute("data-party", "paused")
        settle(page, "() => window.smartcParty.audio.paused")
    page_ada.wait_for_timeout(500)
    for page in (page_ada, page_bo):
        s = page.evaluate(SAMPLE)
        assert s["paused"] and abs(s["current"] - s["position_ms"] / 1000) < BOUND_S, s
    assert errors == []


# Like a real browser's autoplay policy, in a page of the test Chromium (which allows autoplay, and
# whose evaluations by the test count as user gestures): play() is refused with NotAllowedError
# until the user clicks in the page.
REFUSE_AUTOPLAY = """(() => {
  let clicked = false;
  document.addEventListener("click", (e) => { if (e.isTrusted) clicked = true; }, true);
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    if (!clicked) return Promise.reject(new DOMException("play() needs a click first", "NotAllowedError"));
    return play.call(this);
  };
})();"""


def test_a_page_that_may_not_autoplay_offers_to_join_the_party_audio(live_url, new_media_page, room,  # noqa: F811
                                                                     tmp_path):
    ada, bo, voice = room["ada"], room["bo"], room["voice"]
    ready_track(ada, voice.guild, tmp_path, "Party Song")
    page_ada = new_media_page()
    errors = open_voice(page_ada, live_url, ada, voice)
    join(page_ada)
    page_ada.click("#party-start")
    page_ada.locator("#party-tracks button", has_text="Party Song").click()
    expect(page_ada.locator("#party")).to_have_attribute("data-party", "playing")

    # Bo's page joins the call on its own (as after a moderator moved him): no click on it yet.
    page_bo = new_media_page()
    page_bo.context.add_init_script(REFUSE_AUTOPLAY)
    errors += open_voice(page_bo, live_url, bo, voice)
    page_bo.goto(f"{live_url}/guilds/{voice.guild_id}/channels/{voice.id}?join=1")
    expect(page_bo.locator("#voice")).to_have_attribute("data-voice", "joined")
    expect(page_bo.locator("#party-unlock")).to_be_visible()
    expect(page_bo.locator("#party-unlock")).to_have_text("Join the party audio")
    assert page_bo.evaluate("window.smartcParty.audio.paused")

    page_bo.click("#party-unlock")
    expect(page_bo.locator("#party-unlock")).to_be_hidden()
    settle(page_bo, "() => !window.smartcParty.audio.paused")
    converge(page_bo)
    drift = errors_of([page_bo])
    report("after the click", drift)
    assert all(abs(d) < BOUND_S for d in drift), drift
    assert errors == []
