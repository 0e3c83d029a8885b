"""Voice and video rooms in real Chromium with fake camera and microphone: participants join
through the real server, their browsers connect directly (a full mesh), media flows both ways,
and a closed tab disappears for the others."""
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM
from tests.browser.test_chat import in_worker_thread
from tests.factories import PASSWORD, UserFactory, add_member, make_guild
from tests.servers import coturn, running_server

pytestmark = [pytest.mark.browser]

MEDIA_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required"]

CONNECTED = """(n) => {
  const v = window.smartcVoice;
  return !!v && v.peers.size === n && [...v.peers.values()].every((pc) => pc.connectionState === "connected");
}"""

INBOUND = """async () => {
  const out = {};
  for (const [id, pc] of window.smartcVoice.peers) {
    const got = { audio: 0, video: 0 };
    (await pc.getStats()).forEach((r) => { if (r.type === "inbound-rtp") got[r.kind] += r.bytesReceived || 0; });
    out[id] = got;
  }
  return out;
}"""


@pytest.fixture(scope="module")
def media_browser(browser):
    """A Chromium whose camera and microphone are Chromium's fake devices (a test pattern and a beep)."""
    b = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=MEDIA_ARGS)
    yield b
    b.close()


@pytest.fixture
def new_media_page(media_browser):
    contexts = []

    def make():
        ctx = media_browser.new_context(locale="en-US", permissions=["microphone", "camera"])
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def room(transactional_db):
    """Ada owns "Band Room" with its voice channel "General"; Bo and Cy are members."""
    def build():
        ada = UserFactory(username="ada", display_name="Ada")
        bo = UserFactory(username="bo", display_name="Bo")
        cy = UserFactory(username="cy", display_name="Cy")
        guild = make_guild(ada, name="Band Room")
        add_member(guild, bo)
        add_member(guild, cy)
        return {"ada": ada, "bo": bo, "cy": cy, "voice": guild.channels.get(type="voice"),
                "general": guild.channels.get(name="general")}

    return in_worker_thread(build)


def open_voice(page, base, user, channel):
    """Log in and land on the voice channel's page with the gateway connected; returns the list the
    page's uncaught script errors are collected in."""
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/accounts/login?next=/guilds/{channel.guild_id}/channels/{channel.id}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#channel-title")).to_contain_text(channel.name)
    expect(page.locator("#voice")).to_have_attribute("data-gateway", "open")
    return errors


def join(page):
    page.click("#voice-join")
    expect(page.locator("#voice")).to_have_attribute("data-voice", "joined")


def wait_connected(page, peers: int):
    page.wait_for_function(CONNECTED, arg=peers, timeout=60_000)  # a mesh of three on a busy machine


def wait_media_from_everyone(page, peers: int):
    """Until every peer's audio and video inbound-rtp has received bytes; returns the stats."""
    for _ in range(150):
        stats = page.evaluate(INBOUND)
        if len(stats) == peers and all(s["audio"] > 0 and s["video"] > 0 for s in stats.values()):
            return stats
        page.wait_for_timeout(200)
    raise AssertionError(f"media did not flow from every peer: {stats}")


SELECTED_CANDIDATES = """async () => {
  const out = [];
  for (const pc of window.smartcVoice.peers.values()) {
    const stats = new Map();
    (await pc.getStats()).forEach((r) => stats.set(r.id, r));
    for (const r of stats.values()) {
      if (r.type === "transport" && r.selectedCandidatePairId) {
        const pair = stats.get(r.selectedCandidatePairId);
        out.push([stats.get(pair.localCandidateId).candidateType, stats.get(pair.remoteCandidateId).candidateType]);
      }
    }
  }
  return out;
}"""


def tile(page, user):
    return page.locator(f'.voice-tile[data-user-id="{user.id}"]')


def test_participants_talk_directly_a_closed_tab_leaves_and_a_moderator_disconnects(live_url, new_media_page, room):
    ada, bo, cy, voice = room["ada"], room["bo"], room["cy"], room["voice"]
    page_ada = new_media_page()
    errors = open_voice(page_ada, live_url, ada, voice)
    expect(page_ada.locator("#voice-empty")).to_be_visible()
    page_bo = new_media_page()
    errors += open_voice(page_bo, live_url, bo, voice)

    join(page_ada)
    # Bo, not in the call yet, sees Ada in the room, and under the channel in the sidebar.
    expect(tile(page_bo, ada)).to_be_visible()
    expect(page_bo.locator(f'.channel-sidebar .voice-members li[data-user-id="{ada.id}"]')).to_have_text("Ada")
    expect(tile(page_bo, ada).locator(".voice-name")).to_have_text("Ada")
    join(page_bo)
    for page in (page_ada, page_bo):
        wait_connected(page, 1)
        wait_media_from_everyone(page, 1)
        expect(page.locator("#voice")).to_have_attribute("data-quality", "2")

    # Mute shows for the other participant.
    page_bo.click("#voice-mute")
    expect(tile(page_ada, bo).locator(".voice-flags")).to_have_text("Muted")
    # So does deafen; Bo's page stops playing the others' sound.
    page_bo.click("#voice-deafen")
    expect(tile(page_ada, bo).locator(".voice-flags")).to_have_text("Muted · Deafened")
    assert page_bo.evaluate(f"document.querySelector('.voice-tile[data-user-id=\"{ada.id}\"] video').muted")
    page_bo.click("#voice-deafen")
    expect(tile(page_ada, bo).locator(".voice-flags")).to_have_text("Muted")

    # A third participant: a three-way mesh, and the ladder steps down for everyone.
    page_cy = new_media_page()
    errors += open_voice(page_cy, live_url, cy, voice)
    # From a text channel too, the sidebar shows who is in the voice channel.
    page_cy.goto(f"{live_url}/guilds/{voice.guild_id}/channels/{room['general'].id}")
    expect(page_cy.locator(f'.voice-members li[data-user-id="{bo.id}"]')).to_have_text("Bo")
    expect(page_cy.locator(f'.voice-members li[data-user-id="{bo.id}"]')).to_have_class("muted")
    page_cy.locator(f'.channel-link[data-channel-id="{voice.id}"]').click()
    expect(page_cy.locator("#voice")).to_have_attribute("data-gateway", "open")
    join(page_cy)
    for page in (page_ada, page_bo, page_cy):
        wait_connected(page, 2)
        wait_media_from_everyone(page, 2)
        expect(page.locator("#voice")).to_have_attribute("data-quality", "3")
        expect(page.locator("#voice")).to_have_attribute("data-participants", "3")

    # Cy closes the tab: gone for the others, their connection to Cy closed.
    page_cy.close()
    for page in (page_ada, page_bo):
        expect(tile(page, cy)).to_have_count(0)
        expect(page.locator(f'.voice-members li[data-user-id="{cy.id}"]')).to_have_count(0)
        expect(page.locator("#voice")).to_have_attribute("data-participants", "2")
        wait_connected(page, 1)
        expect(page.locator("#voice")).to_have_attribute("data-quality", "2")

    # Ada owns the guild: she mutes Bo for everyone, then disconnects him; his browser leaves the call.
    tile(page_ada, bo).locator('button[data-action="mute"]').click()
    for page in (page_ada, page_bo):
        expect(tile(page, bo).locator(".voice-flags")).to_have_text("Muted by a moderator")
    assert page_bo.evaluate("window.smartcVoice.local.getAudioTracks()[0].enabled") is False
    tile(page_ada, bo).locator('button[data-action="disconnect"]').click()
    expect(page_bo.locator("#voice")).to_have_attribute("data-voice", "idle")
    expect(page_bo.locator("#voice-status")).to_have_text("You were disconnected from the voice channel.")
    expect(tile(page_ada, bo)).to_have_count(0)
    assert page_bo.evaluate("window.smartcVoice.peers.size") == 0
    expect(page_ada.locator("#voice")).to_have_attribute("data-quality", "1")

    # Ada leaves by the button: the room is empty for Bo, who still has the page open.
    page_ada.click("#voice-leave")
    expect(tile(page_bo, ada)).to_have_count(0)
    expect(page_bo.locator("#voice-empty")).to_be_visible()
    assert errors == []


def test_a_relay_only_call_goes_through_coturn_with_the_apps_credentials(new_media_page, room):
    """With RTC_ICE_TRANSPORT_POLICY=relay the browsers may only use TURN: the call connects (and
    media flows) only if coturn accepts the credentials the app signed with the shared secret. The
    credentials are short-lived: the page renews them during the call, and an ICE restart then
    allocates on coturn with the renewed ones."""
    ada, bo, voice = room["ada"], room["bo"], room["voice"]
    secret = "a-secret-shared-with-coturn"
    with coturn(secret=secret) as turn_urls, running_server(env={
            "TURN_URLS": ",".join(turn_urls), "TURN_SECRET": secret, "TURN_TTL": "30",
            "RTC_ICE_TRANSPORT_POLICY": "relay"}) as url:
        page_ada, page_bo = new_media_page(), new_media_page()
        errors = open_voice(page_ada, url, ada, voice) + open_voice(page_bo, url, bo, voice)
        join(page_ada)
        join(page_bo)
        for page in (page_ada, page_bo):
            wait_connected(page, 1)
            wait_media_from_everyone(page, 1)
            # Each side sends from its TURN allocation. The far end is the other side's relay too,
            # but it shows as peer-reflexive when its check arrived before its candidate did.
            [(local, remote)] = page.evaluate(SELECTED_CANDIDATES)
            assert local == "relay" and remote in ("relay", "prflx"), (local, remote)

        # Half-way through the credential's 30 s, Ada's page renews it and hands it to the connection.
        first = page_ada.evaluate(TURN_USERNAMES)
        renewed = wait_until(page_ada, TURN_USERNAMES, None, lambda u: u["page"] != first["page"],
                             "TURN credentials not renewed", timeout_ms=30_000)
        assert renewed["page"] == renewed["connection"] and renewed["page"].endswith(f":{ada.id}")
        # Once the first credential has expired (coturn would refuse it), a new network restarts ICE:
        # relayed again, the call can only be going through an allocation made with the renewed one.
        expired = int(first["page"].split(":")[0]) + 1
        page_ada.wait_for_timeout(max(0, expired - time.time()) * 1000)
        old = page_ada.evaluate(ICE_UFRAGS, bo.id)
        page_ada.evaluate("window.dispatchEvent(new Event('online'))")
        wait_until(page_ada, ICE_UFRAGS, bo.id, lambda u: u["local"] != old["local"] and u["connected"],
                   "no relay after the restart", timeout_ms=30_000)
        sample = page_ada.evaluate(INBOUND)[str(bo.id)]
        wait_until(page_ada, INBOUND, None, lambda s: s[str(bo.id)]["audio"] > sample["audio"],
                   "media stalled after the restart")
        assert errors == []


# The TURN username this page holds, and the one its (first) connection would allocate with.
TURN_USERNAMES = """() => {
  const v = window.smartcVoice, [pc] = v.peers.values();
  return { page: v.iceServers.at(-1)?.username, connection: pc?.getConfiguration().iceServers.at(-1)?.username };
}"""


# --- renegotiation: camera, screen share, ICE restart ------------------------------------------------

def _js_on_link(body):
    """A page function run on the peer connection and link to user `id`."""
    return f"""(id) => {{
  const v = window.smartcVoice, pc = v.peers.get(id), link = v.links.get(id);
  if (!pc || !link) return null;
  {body}
}}"""


# What `id` sends this page, as the last negotiation settled it: how many video m-lines it sends on
# (the remote description's direction), whether its camera track is in the page's stream from it,
# and how many offer/answer exchanges completed.
REMOTE_VIDEO = _js_on_link("""
  const sections = (pc.currentRemoteDescription?.sdp || "").split(/\\r\\nm=/).filter((m) => m.startsWith("video"));
  return { sending: sections.filter((m) => /a=(sendrecv|sendonly)/.test(m)).length,
           camera: link.stream.getVideoTracks().length, negotiations: link.negotiations,
           stable: pc.signalingState === "stable" };
""")

# Bytes received so far on the track `kind` ("camera" or "screen") from `id`.
TRACK_BYTES = """async ([id, kind]) => {
  const v = window.smartcVoice, link = v.links.get(id);
  const track = kind === "screen" ? link.screen?.getVideoTracks()[0] : link.stream.getVideoTracks()[0];
  if (!track) return -1;
  let bytes = -1;
  (await v.peers.get(id).getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.trackIdentifier === track.id) bytes = r.bytesReceived || 0;
  });
  return bytes;
}"""

ICE_UFRAGS = _js_on_link("""
  const ufrag = (d) => (d?.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1];
  return { local: ufrag(pc.currentLocalDescription), remote: ufrag(pc.currentRemoteDescription),
           connected: pc.connectionState === "connected" && pc.signalingState === "stable", restarts: link.restarts };
""")


def remote_video(page, user):
    return page.evaluate(REMOTE_VIDEO, user.id)


def wait_until(page, fn, arg, check, what, timeout_ms=15_000):
    """Poll `fn(arg)` in the page until `check(value)`; returns the value."""
    value = None
    for _ in range(timeout_ms // 200):
        value = page.evaluate(fn, arg)
        if value is not None and check(value):
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"{what}: {value}")


def wait_bytes_grow(page, user, kind):
    """The track `kind` from `user` delivers more bytes over time (its video plays)."""
    start = wait_until(page, TRACK_BYTES, [user.id, kind], lambda b: b >= 0, f"no {kind} track from {user}")
    return wait_until(page, TRACK_BYTES, [user.id, kind], lambda b: b > start + 1000, f"{kind} bytes stalled")


def two_in_a_call(new_media_page, base, room):
    ada, bo, voice = room["ada"], room["bo"], room["voice"]
    page_ada, page_bo = new_media_page(), new_media_page()
    errors = open_voice(page_ada, base, ada, voice) + open_voice(page_bo, base, bo, voice)
    join(page_ada)
    join(page_bo)
    for page in (page_ada, page_bo):
        wait_connected(page, 1)
        wait_media_from_everyone(page, 1)
    return page_ada, page_bo, errors


def test_camera_off_and_on_and_a_screen_share_renegotiate_the_call(live_url, new_media_page, room):
    ada, bo, voice = room["ada"], room["bo"], room["voice"]
    page_ada, page_bo, errors = two_in_a_call(new_media_page, live_url, room)
    before = remote_video(page_bo, ada)
    assert before["sending"] == 1 and before["camera"] == 1
    expect(tile(page_bo, ada)).to_have_class("voice-tile has-video")

    # Ada turns her camera off: the camera is released, and a renegotiation takes her video off
    # Bo's connection, so his tile of her shows no video and no more video bytes arrive.
    page_ada.click("#voice-camera")
    expect(page_ada.locator("#voice-camera")).to_have_text("Turn camera on")
    assert page_ada.evaluate("window.smartcVoice.local.getVideoTracks().length") == 0
    off = wait_until(page_bo, REMOTE_VIDEO, ada.id, lambda r: r["sending"] == 0 and r["camera"] == 0 and r["stable"],
                     "Ada's video still negotiated")
    assert off["negotiations"] > before["negotiations"]
    expect(tile(page_bo, ada)).not_to_have_class("has-video")
    expect(tile(page_ada, ada)).not_to_have_class("has-video")

    # On again: a new capture, renegotiated on the same m-line, and her video plays for Bo again.
    page_ada.click("#voice-camera")
    expect(page_ada.locator("#voice-camera")).to_have_text("Turn camera off")
    on = wait_until(page_bo, REMOTE_VIDEO, ada.id, lambda r: r["sending"] == 1 and r["camera"] == 1 and r["stable"],
                    "Ada's video not back")
    assert on["negotiations"] > off["negotiations"]
    wait_bytes_grow(page_bo, ada, "camera")
    expect(tile(page_bo, ada)).to_have_class("voice-tile has-video")

    # Ada shares her screen (Chromium's fake display capture): Bo gets a second video, in a tile of
    # its own, and sees the flag; her camera goes on.
    page_ada.click("#voice-screen")
    expect(page_ada.locator("#voice-screen")).to_have_text("Stop sharing")
    screen = page_bo.locator(f'.voice-screen[data-screen-of="{ada.id}"]')
    expect(screen).to_be_visible()
    expect(screen.locator(".voice-name")).to_have_text("Ada's screen")
    expect(page_ada.locator(f'.voice-screen[data-screen-of="{ada.id}"]')).to_be_visible()
    wait_until(page_bo, REMOTE_VIDEO, ada.id, lambda r: r["sending"] == 2, "no second video from Ada")
    wait_bytes_grow(page_bo, ada, "screen")
    wait_bytes_grow(page_bo, ada, "camera")
    assert page_bo.evaluate(f"window.smartcVoice.states.get({ada.id}).self_stream") is True
    assert screen.evaluate("(t) => t.querySelector('video').videoWidth") > 0

    # She stops: the screen's sender goes, for Bo the tile and the flag do.
    page_ada.click("#voice-screen")
    expect(page_ada.locator("#voice-screen")).to_have_text("Share screen")
    expect(screen).to_have_count(0)
    wait_until(page_bo, REMOTE_VIDEO, ada.id, lambda r: r["sending"] == 1 and r["stable"], "the screen still sent")
    assert page_bo.evaluate(f"window.smartcVoice.states.get({ada.id}).self_stream") is False
    assert page_ada.evaluate("window.smartcVoice.screen") is None

    # Bo loses STREAM while on the page: his share is refused with the reason, and stopped.
    def deny_stream():
        from apps.guilds import services as guilds
        from apps.guilds.permissions import Permission

        guilds.set_overwrite(actor=ada, channel=voice, allow=0, deny=int(Permission.STREAM),
                             member=voice.guild.members.get(user=bo))

    in_worker_thread(deny_stream)
    page_bo.click("#voice-screen")
    expect(page_bo.locator("#voice-status")).to_have_text(
        "You need the STREAM permission in this channel to turn on your camera or share your screen.")
    expect(page_bo.locator("#voice-screen")).to_have_text("Share screen")
    assert page_bo.evaluate("window.smartcVoice.screen") is None
    wait_until(page_ada, REMOTE_VIDEO, bo.id, lambda r: r["sending"] == 1 and r["stable"], "Bo's screen still sent")
    expect(page_ada.locator(f'.voice-screen[data-screen-of="{bo.id}"]')).to_have_count(0)
    assert page_ada.evaluate(f"window.smartcVoice.states.get({bo.id}).self_stream") is False
    assert errors == []


def test_a_network_change_restarts_ice_and_the_call_carries_on(live_url, new_media_page, room):
    ada, bo = room["ada"], room["bo"]
    page_ada, page_bo, errors = two_in_a_call(new_media_page, live_url, room)
    old = {"ada": page_ada.evaluate(ICE_UFRAGS, bo.id), "bo": page_bo.evaluate(ICE_UFRAGS, ada.id)}
    # Ada's machine changes network (the page hears "online", as after Wi-Fi comes back).
    page_ada.evaluate("window.dispatchEvent(new Event('online'))")
    new = {
        "ada": wait_until(page_ada, ICE_UFRAGS, bo.id, lambda u: u["remote"] != old["ada"]["remote"]
                          and u["local"] != old["ada"]["local"] and u["connected"], "Ada's ICE not restarted"),
        "bo": wait_until(page_bo, ICE_UFRAGS, ada.id, lambda u: u["remote"] != old["bo"]["remote"]
                         and u["local"] != old["bo"]["local"] and u["connected"], "Bo's ICE not restarted"),
    }
    assert new["ada"]["restarts"] == 1 and new["bo"]["restarts"] == 0
    # Each side's new credentials are what the other now has as remote.
    assert new["ada"]["local"] == new["bo"]["remote"] and new["bo"]["local"] == new["ada"]["remote"]
    for page, other in ((page_ada, bo), (page_bo, ada)):
        sample = page.evaluate(INBOUND)[str(other.id)]
        wait_until(page, INBOUND, None, lambda s, sample=sample, other=other: all(
            s[str(other.id)][k] > sample[k] for k in ("audio", "video")), "media stalled after the restart")
    assert errors == []
