"""The fault suite: what users meet when a part SmaRTC depends on fails, and that it comes back by
itself. Each test breaks a real part under a running app: a Redis server stopped, a PostgreSQL
cluster restarted mid-traffic, a gateway node killed with SIGKILL, an S3 endpoint that does not
answer. docs/reliability.md lists every fault, what users see, what recovers it and the test (here
or elsewhere in the suite) that shows it."""
from __future__ import annotations

import io
import threading
import time

import psycopg
import pytest
import requests
from django.conf import settings
from django.test import Client
from PIL import Image
from websockets.exceptions import ConnectionClosed

from apps.chat.models import Attachment, Message
from apps.guilds import services as guild_services
from apps.guilds.models import Channel
from apps.tracks.models import Track
from celery_app import app as celery_app
from tests import audio
from tests.factories import PASSWORD, api_token, make_track
from tests.integration.test_gateway import db, run_async
from tests.integration.test_gateway import gateway as ws_gateway
from tests.integration.test_gateway_server import gateway, start_redis, stop
from tests.servers import celery_worker, free_port, postgres_copy, running_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def general(guild):
    return Channel.objects.get(guild=guild, name="general")


def token_of(user) -> str:
    """`user`'s API token, made once per user object (a test makes it before the database goes away)."""
    if not hasattr(user, "api_secret"):
        user.api_secret = api_token(user)
    return user.api_secret


def api(base: str, user, method: str, path: str, **kwargs) -> requests.Response:
    """A request of an API client holding `user`'s token."""
    return requests.request(method, base + path, headers={"Authorization": f"Token {token_of(user)}"}, timeout=20,
                            **kwargs)


def browser(base: str, user=None) -> requests.Session:
    """A browser's cookie jar: signed in as `user` (the session cookie a login sets), or anonymous."""
    session = requests.Session()
    if user is not None:
        client = Client()
        client.force_login(user)
        session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return session


def unavailable(r: requests.Response) -> dict:
    """The API's answer for a part that cannot be reached: 503, the one error shape, Retry-After."""
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert int(r.headers["Retry-After"]) > 0
    error = r.json()["error"]
    assert error["code"] == "service_unavailable" and error["message"], error
    return error


def unavailable_page(r: requests.Response) -> str:
    """The page a browser gets instead: 503 with Retry-After, a short page that says to retry."""
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert int(r.headers["Retry-After"]) > 0 and r.headers["Content-Type"].startswith("text/html")
    assert "Try again in a moment" in r.text
    return r.text


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buf, "PNG")
    return buf.getvalue()


def metric(base: str, name: str, **labels) -> float:
    wanted = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    for line in requests.get(base + "/metrics", timeout=10).text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


# --- Redis -------------------------------------------------------------------------------------------

def test_with_redis_stopped_reads_and_sends_go_on_and_what_needs_redis_answers_503(guild, owner, alice, general):
    """Redis holds rate counters, slow mode, the task queue and live events; the messages and pages
    live in PostgreSQL. With Redis stopped, reading and sending go on (the API rate limit lets the
    request through, logged and counted); what cannot be done without Redis is refused with 503 before
    anything is written; a write that committed is not answered with an error because a task could not
    be queued after it. When Redis is back, everything works again without a restart."""
    slow = guild_services.create_channel(actor=owner, guild=guild, name="slow")
    guild_services.update_channel(actor=owner, channel=slow, slowmode_seconds=60)
    track = make_track(guild, title="Night drive")
    port = free_port()
    redis = start_redis(port)
    env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "DJANGO_SETTINGS_MODULE": "tests.rate_limited_settings"}
    try:
        with running_server(env=env) as base:
            signed_in, visitor = browser(base, alice), browser(base)
            assert api(base, alice, "POST", f"/api/channels/{slow.id}/messages", json={"content": "one"}).ok
            assert visitor.get(base + "/accounts/login").status_code == 200  # the CSRF cookie
            assert signed_in.get(base + "/accounts/profile").status_code == 200
            stop(redis)

            # Reading needs no Redis.
            history = api(base, alice, "GET", f"/api/channels/{general.id}/messages")
            assert history.status_code == 200, history.text[:300]
            assert [g["id"] for g in api(base, alice, "GET", "/api/guilds").json()["results"]] == [guild.id]
            page = signed_in.get(f"{base}/guilds/{guild.id}/channels/{general.id}", timeout=20)
            assert page.status_code == 200 and "general" in page.text
            page = signed_in.get(f"{base}/tracks/{track.id}", timeout=20)
            assert page.status_code == 200 and "Night drive" in page.text
            # Nor does sending: the message is stored; live delivery waits for Redis.
            sent = api(base, alice, "POST", f"/api/channels/{general.id}/messages", json={"content": "stored"})
            assert sent.status_code == 201, sent.text[:300]
            # A profile change commits; its avatar thumbnails cannot be queued, which is no error for it.
            r = signed_in.post(f"{base}/accounts/profile", timeout=20, allow_redirects=False,
                               data={"display_name": "Alice B", "bio": "",
                                     "csrfmiddlewaretoken": signed_in.cookies["csrftoken"]},
                               files={"avatar": ("me.png", png(), "image/png")})
            assert r.status_code == 302, (r.status_code, r.text[:300])

            # Slow mode, login limits and uploads need Redis: 503, and nothing of them is stored.
            unavailable(api(base, alice, "POST", f"/api/channels/{slow.id}/messages", json={"content": "two"}))
            unavailable(requests.post(base + "/api/auth/token", timeout=20,
                                      json={"username": alice.username, "password": PASSWORD}))
            unavailable(api(base, alice, "POST", f"/api/channels/{general.id}/attachments",
                            files={"file": ("a.png", png(), "image/png")}))
            r = visitor.post(base + "/accounts/login", timeout=20, allow_redirects=False,
                             data={"username": alice.username, "password": PASSWORD,
                                   "csrfmiddlewaretoken": visitor.cookies["csrftoken"]})
            unavailable_page(r)
            assert visitor.get(base + "/accounts/profile", allow_redirects=False).status_code == 302  # not signed in

            assert metric(base, "smartc_dependency_unavailable_total", dependency="redis", outcome="bypassed") >= 3
            assert metric(base, "smartc_dependency_unavailable_total", dependency="redis", outcome="refused") >= 4

            redis = start_redis(port)  # back, and empty
            assert api(base, alice, "POST", f"/api/channels/{slow.id}/messages", json={"content": "three"}).ok
            assert requests.post(base + "/api/auth/token", json={"username": alice.username, "password": PASSWORD},
                                 timeout=20).status_code == 201
    finally:
        stop(redis)
    assert list(Message.objects.filter(channel=slow).values_list("content", flat=True).order_by("id")) == [
        "one", "three"]
    assert Message.objects.filter(channel=general, content="stored").exists()
    assert not Attachment.objects.exists()
    alice.refresh_from_db()
    assert alice.display_name == "Alice B" and alice.avatar  # the committed change kept its file
    assert alice.avatar.storage.exists(alice.avatar.name)


# --- PostgreSQL --------------------------------------------------------------------------------------

class Writer(threading.Thread):
    """A client sending messages one after the other, as chat traffic does, keeping every answer."""

    def __init__(self, base: str, user, channel: Channel):
        super().__init__(daemon=True)
        self.base, self.user, self.channel = base, user, channel
        self.answers: list[tuple[float, requests.Response]] = []  # (when it was sent, the answer)
        self.done = threading.Event()

    def run(self):
        n = 0
        while not self.done.is_set():
            n += 1
            sent_at = time.monotonic()
            r = api(self.base, self.user, "POST", f"/api/channels/{self.channel.id}/messages",
                    json={"content": f"message {n}", "nonce": str(n)})
            self.answers.append((sent_at, r))
            time.sleep(0.05)

    def wait_for(self, test, *, timeout: float, why: str):
        deadline = time.monotonic() + timeout
        while not test(self.answers):
            assert time.monotonic() < deadline, why
            time.sleep(0.05)


def created(answers) -> list:
    return [r for _, r in answers if r.status_code == 201]


def test_a_postgresql_restart_mid_traffic_is_answered_503_and_loses_no_committed_message(guild, owner, alice,
                                                                                         general):
    """The database restarts under a running app: requests meanwhile get 503 in the API's shape (a
    page: a short 503 page), never a 500; once it is back the same app process serves again (its
    connection pool drops the dead connections) and every message it said was sent is there."""
    signed_in = browser("", alice)  # the session row goes into the copy below
    token_of(owner)
    token_of(alice)
    with postgres_copy() as pg, running_server(env={"DATABASE_URL": pg.url, "DB_POOL_TIMEOUT": "2"}) as base:
        writer = Writer(base, owner, general)
        writer.start()
        try:
            writer.wait_for(lambda a: len(created(a)) >= 3, timeout=20, why="no message was sent before the restart")
            pg.stop("fast")
            stopped = time.monotonic()
            writer.wait_for(lambda a: any(r.status_code != 201 for t, r in a if t > stopped), timeout=20,
                            why="a send during the outage got no answer")
            unavailable(api(base, alice, "GET", f"/api/channels/{general.id}/messages"))
            unavailable_page(signed_in.get(f"{base}/guilds/{guild.id}/channels/{general.id}", timeout=20))
            pg.start()
            restarted = time.monotonic()
            writer.wait_for(lambda a: len([r for t, r in a if t > restarted and r.status_code == 201]) >= 3,
                            timeout=20, why="the app did not serve again after the restart")
        finally:
            writer.done.set()
            writer.join(30)
        after = [r for t, r in writer.answers if t > restarted]
        assert after[0].status_code == 201, "the first send after the restart failed"
        assert api(base, alice, "GET", f"/api/channels/{general.id}/messages").status_code == 200
        with psycopg.connect(pg.url) as db:
            stored = {row[0] for row in db.execute("SELECT id FROM chat_message WHERE channel_id = %s", [general.id])}
    refused = [r for _, r in writer.answers if r.status_code != 201]
    assert refused, "no send fell in the outage"
    for r in refused:
        unavailable(r)
    assert {r.json()["id"] for r in created(writer.answers)} == stored  # none lost, none half-written


# --- a gateway node ----------------------------------------------------------------------------------

def test_a_client_of_a_killed_gateway_node_reconnects_to_another_and_misses_nothing(guild, owner, alice, general):
    """Two uvicorn gateway nodes; the one Alice is connected to dies (SIGKILL, no close frame). Bob,
    on the other node, goes on chatting; Alice reconnects to the surviving node and catches up over
    REST with after=<the last id she saw>, then gets new messages live."""
    url = f"/api/channels/{general.id}/messages"
    with (running_server(server="uvicorn") as node_a, running_server(server="uvicorn") as node_b,
          gateway(node_b, owner) as bob_live):
        with gateway(node_a, alice) as alice_live:
            first = api(node_b, owner, "POST", url, json={"content": "before the crash"}).json()
            assert alice_live.event("MESSAGE_CREATE")["id"] == first["id"]
            assert bob_live.event("MESSAGE_CREATE")["id"] == first["id"]
            node_a.proc.kill()
            node_a.proc.wait(10)
            with pytest.raises(ConnectionClosed) as closed:
                alice_live.frame(timeout=10)
            assert closed.value.rcvd is None  # the node died: no close frame
            missed = []
            for i in range(3):
                r = api(node_b, owner, "POST", url, json={"content": f"while Alice is away {i}"})
                assert r.status_code == 201
                missed.append(r.json()["id"])
                assert bob_live.event("MESSAGE_CREATE")["id"] == missed[-1]
        with gateway(node_b, alice) as alice_again:
            page = api(node_b, alice, "GET", f"{url}?after={first['id']}")
            assert [m["id"] for m in page.json()] == missed
            later = api(node_b, owner, "POST", url, json={"content": "welcome back"}).json()
            assert alice_again.event("MESSAGE_CREATE")["id"] == later["id"]
    assert list(Message.objects.filter(channel=general).values_list("id", flat=True).order_by("id")) == [
        first["id"], *missed, later["id"]]


# --- S3 ----------------------------------------------------------------------------------------------

@pytest.fixture
def s3_down(s3_server, settings):
    """The media storage is S3 at an address where nothing answers (the S3 endpoint is down)."""
    storages = s3_server.storages(settings.STORAGES)
    storages["default"]["OPTIONS"] = {**storages["default"]["OPTIONS"],
                                      "endpoint_url": f"http://127.0.0.1:{free_port()}"}
    settings.STORAGES = storages


def test_with_s3_down_an_upload_answers_503_and_leaves_no_row(api_as, owner, guild, general, s3_down, tmp_path):
    api = api_as(owner)
    wav = audio.track_file(tmp_path / "song.wav", 1.0).read_bytes()
    song = io.BytesIO(wav)
    song.name = "song.wav"
    r = api.post(f"/api/guilds/{guild.id}/tracks", {"title": "Song", "file": song}, format="multipart")
    assert r.status_code == 503 and r["Retry-After"]
    assert r.json()["error"]["code"] == "service_unavailable"
    upload = io.BytesIO(png())
    upload.name = "a.png"
    r = api.post(f"/api/channels/{general.id}/attachments", {"file": upload}, format="multipart")
    assert r.status_code == 503 and r.json()["error"]["code"] == "service_unavailable"
    assert not Track.objects.exists() and not Attachment.objects.exists()


def wait_for(test, *, timeout: float, why: str):
    deadline = time.monotonic() + timeout
    while not (found := test()):
        assert time.monotonic() < deadline, why
        time.sleep(0.2)
    return found


def test_media_processing_waits_out_an_s3_outage_and_finishes(api_as, owner, guild, general, s3, tmp_path):
    """S3 goes down after the uploads were stored: the worker's first reads of them fail, and the steps
    are retried with a growing delay (storage trouble is not the file's fault); once S3 is back the image
    and the track are ready, not left processing for ever."""
    celery_app.control.purge()
    api = api_as(owner)
    picture = io.BytesIO(png())
    picture.name = "a.png"
    r = api.post(f"/api/channels/{general.id}/attachments", {"file": picture}, format="multipart")
    assert r.status_code == 201 and r.json()["state"] == "pending", r.json()
    attachment = Attachment.objects.get(pk=r.json()["id"])
    song = io.BytesIO(audio.track_file(tmp_path / "song.wav", 2.0).read_bytes())
    song.name = "song.wav"
    r = api.post(f"/api/guilds/{guild.id}/tracks", {"title": "Song", "file": song}, format="multipart")
    assert r.status_code == 201, r.json()
    track = Track.objects.get(pk=r.json()["id"])
    s3.stop()
    try:
        with celery_worker(queues="media", env=s3.env()) as worker:
            failed = [f"{task}[" for task in ("media.make_attachment_thumbnail", "media.track_probe")]
            wait_for(lambda: all(any(name in line and "EndpointConnectionError" in line
                                     for line in worker.log_path.read_text().splitlines()) for name in failed),
                     timeout=60, why="the worker did not meet the outage")
            s3.come_back()
            wait_for(lambda: Track.objects.filter(pk=track.pk, state__in=["ready", "failed"]).exists()
                     and Attachment.objects.filter(pk=attachment.pk, state__in=["ready", "failed"]).exists(),
                     timeout=60, why="the image or the track was left processing")
    finally:
        if not s3.server._server_ready_event.is_set():
            s3.come_back()
    track.refresh_from_db()
    attachment.refresh_from_db()
    assert (attachment.state, track.state) == ("ready", "ready"), (attachment.failure_reason, track.failure_reason)
    assert s3.keys(track.folder) == sorted(track.stored_names())


# --- Redis for one gateway op ------------------------------------------------------------------------

@pytest.fixture
def cache_down(settings):
    """The cache (slow mode, rate counters) is a Redis where nothing answers."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}


@run_async
async def test_a_gateway_op_that_needs_redis_gets_a_service_unavailable_frame(guild, owner, alice, cache_down):
    """The socket's error frame says what the API's 503 says, and the socket stays open."""
    slow = await db(guild_services.create_channel)(actor=owner, guild=guild, name="slow")
    await db(guild_services.update_channel)(actor=owner, channel=slow, slowmode_seconds=60)
    async with ws_gateway(alice) as a:
        await a.send(6, {"channel_id": slow.id, "content": "slow down", "nonce": "n-1"})
        err = await a.error()
        assert (err["code"], err["ref"]) == ("service_unavailable", "n-1") and err["retry_after"] > 0
        await a.still_open()
    assert not await db(Message.objects.filter(channel=slow).exists)()
