"""A room past the mesh size in real Chromium through a real Janus: five participants join, the
server seats each one's publisher in Janus and hands the browser that session and a token of its
own, and every browser publishes once and subscribes to the four others' feeds through the SFU
(no direct connections between browsers). The first two start as a mesh: the third join switches
the room, and their browsers tear the mesh down and move to Janus."""
import pytest
from playwright.sync_api import expect

from apps.rtc.janus import Janus
from tests.browser.test_chat import in_worker_thread
from tests.browser.test_voice import join, media_browser, new_media_page, open_voice  # noqa: F401
from tests.factories import UserFactory, add_member, make_guild
from tests.servers import janus, running_server

pytestmark = [pytest.mark.browser]

NAMES = ["ada", "bo", "cy", "di", "ed"]

SUBSCRIBED = """(n) => {
  const v = window.smartcVoice;
  return !!v && v.topology === "sfu" && v.peers.size === 0 && v.sfuSubscribers.size === n
    && [...v.sfuSubscribers.values()].every((pc) => pc.connectionState === "connected");
}"""

INBOUND = """async () => {
  const out = {};
  for (const [feed, pc] of window.smartcVoice.sfuSubscribers) {
    const got = { audio: 0, video: 0 };
    (await pc.getStats()).forEach((r) => { if (r.type === "inbound-rtp") got[r.kind] += r.bytesReceived || 0; });
    out[feed] = got;
  }
  return out;
}"""


@pytest.fixture
def crowd(transactional_db):
    """Ada owns "Big Room" and its voice channel; Bo, Cy, Di and Ed are members."""
    def build():
        users = [UserFactory(username=n, display_name=n.title()) for n in NAMES]
        guild = make_guild(users[0], name="Big Room")
        for u in users[1:]:
            add_member(guild, u)
        return users, guild.channels.get(type="voice")

    return in_worker_thread(build)


STATE = """() => {
  const v = window.smartcVoice;
  return { topology: v.topology, mesh: v.peers.size, sfu: !!v.sfu,
           publisher: v.sfu?.publisher?.connectionState || null,
           subscribers: Object.fromEntries([...v.sfuSubscribers].map(([f, pc]) => [f, pc.connectionState])) };
}"""


def wait_subscribed(page, n: int, console: list):
    try:
        page.wait_for_function(SUBSCRIBED, arg=n, timeout=90_000)
    except Exception as exc:
        raise AssertionError(f"not subscribed to {n} feeds: {page.evaluate(STATE)}; console: {console[-20:]}") from exc


def test_five_participants_talk_through_janus(new_media_page, crowd):  # noqa: F811
    users, voice = crowd
    with janus() as sfu, running_server(env={**sfu.env(), "RTC_MESH_MAX": "2"}) as url:
        pages, errors, console = [], [], []
        for user in users:
            page = new_media_page()
            page.on("console", lambda m: m.type == "error" and console.append(m.text))
            errors += open_voice(page, url, user, voice)
            join(page)
            pages.append(page)
        for page in pages:
            wait_subscribed(page, len(users) - 1, console)
            expect(page.locator("#voice")).to_have_attribute("data-participants", str(len(users)))
        room = pages[0].evaluate("window.smartcVoice.sfu.room")
        assert room != voice.id and all(p.evaluate("window.smartcVoice.sfu.room") == room for p in pages)
        publishers = Janus(sfu.http_url, admin=sfu.admin_url, admin_key=sfu.admin_key, timeout=10).participants(room)
        assert sorted(p["id"] for p in publishers) == sorted(u.id for u in users)
        assert all(p["publisher"] for p in publishers), publishers
        others = {page: {u.id for u in users} - {u.id} for page, u in zip(pages, users, strict=True)}
        for page in pages:
            for _ in range(150):
                stats = page.evaluate(INBOUND)
                if any(s["audio"] > 0 and s["video"] > 0 for s in stats.values()):
                    break
                page.wait_for_timeout(200)
            assert {int(f) for f in stats} == others[page], stats
            assert any(s["audio"] > 0 and s["video"] > 0 for s in stats.values()), stats
            # The others' tiles show the streams Janus relays.
            for user_id in others[page]:
                expect(page.locator(f'.voice-tile[data-user-id="{user_id}"]')).to_have_attribute(
                    "data-connection", "connected", timeout=30_000)

        # Through Janus a screen share takes the place of the camera on the one published video.
        ada, bo = pages[0], pages[1]
        ada_tile = bo.locator(f'.voice-tile[data-user-id="{users[0].id}"]')
        ada.click("#voice-camera")
        expect(ada_tile).not_to_have_class("has-video")
        ada.click("#voice-screen")
        expect(ada.locator("#voice-screen")).to_have_text("Stop sharing")
        ada.wait_for_function("""() => {
          const v = window.smartcVoice, sender = v.sfu.publisher.getSenders().find((s) => s.track?.kind === "video");
          return !!sender && sender.track === v.screen.getVideoTracks()[0];
        }""")
        expect(ada_tile).to_have_class("voice-tile has-video")
        start = bo.evaluate(INBOUND)[str(users[0].id)]["video"]
        bo.wait_for_function(f"async () => (await ({INBOUND})())[{users[0].id}].video > {start} + 1000")
        ada.click("#voice-screen")
        expect(ada_tile).not_to_have_class("has-video")
        assert errors == []
