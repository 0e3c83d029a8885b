"""The platform exactly as `make run` serves it: dev settings, a fresh SQLite file, no Redis, so
Celery's worker and beat run inside the server on the in-memory broker. No request waits on
background work: a burst of sends from five members over REST and the gateway is answered without
a single 5xx and stored exactly once, a track upload answers at once and its pipeline runs behind,
and beat recomputes trending on its schedule."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import pytest
import requests
from django.conf import settings
from websockets.sync.client import connect

from tests import audio, big_ids, servers

MEMBERS = 5
SENDS = 50  # per member: half over REST, half over the gateway
TRACK_SECONDS = 30  # of audio, as in the report: its whole pipeline ran inside the upload's request (10 s)
TRENDING_EVERY = 2  # seconds (TRENDING_EVERY_SECONDS; 600 by default)
SCORER_LOAD = 3  # seconds the scorer takes to load (the toxicity model took 6 s)

# Five members of one guild, each with an API token and a logged-in session, written to the
# server's own database by a process with the server's settings.
SETUP = """
import json, sys, django
django.setup()
from django.conf import settings
from django.test import Client
from tests.factories import api_token
from tests.factories import UserFactory, add_member, make_guild
owner = UserFactory(username="m0")
guild = make_guild(owner, name="Burst")
users = [owner] + [add_member(guild, UserFactory(username=f"m{i}")).user for i in range(1, int(sys.argv[1]))]
members = []
for user in users:
    client = Client()
    client.force_login(user)
    members.append({"id": user.id, "token": api_token(user),
                    "session": client.cookies[settings.SESSION_COOKIE_NAME].value})
print(json.dumps({"guild": guild.id, "channel": guild.channels.get(name="general").id, "members": members}))
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    folder = tmp_path_factory.mktemp("make-run")
    env = servers.make_run_env(folder, TRENDING_EVERY_SECONDS=str(TRENDING_EVERY), SCORER_LOAD_SECONDS=str(SCORER_LOAD),
                               MODERATION_SCORER="tests.scorers.SlowLoadingScorer")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=servers.ROOT, env=env, check=True)
    setup = subprocess.run([sys.executable, "-c", SETUP, str(MEMBERS)], cwd=servers.ROOT, env=env, check=True,
                           capture_output=True, text=True)
    people = json.loads(setup.stdout.strip().splitlines()[-1])
    with servers.running_server(make_run=env) as base:
        yield {"base": base, "database": folder / "db.sqlite3", "env": env, **people}


def api(platform, member: dict, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, platform["base"] + "/api" + path, timeout=60,
                            headers={"Authorization": f"Token {member['token']}"}, **kwargs)


@contextmanager
def gateway(platform, member: dict):
    """A socket past HELLO and READY, logged in with the member's session cookie."""
    base = platform["base"]
    with connect(base.replace("http://", "ws://") + "/ws/gateway/", origin=base, open_timeout=30, max_size=None,
                 additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={member['session']}"}) as ws:
        assert json.loads(ws.recv(timeout=30))["op"] == 10
        ready = json.loads(ws.recv(timeout=30))
        assert ready["t"] == "READY", ready
        yield ws


def frames(ws, until: float):
    """The socket's frames until the deadline."""
    while (left := until - time.monotonic()) > 0:
        try:
            yield json.loads(ws.recv(timeout=left))
        except TimeoutError:
            return


def test_the_first_message_does_not_wait_for_the_scorer_to_load(platform):
    owner = platform["members"][0]
    started = time.monotonic()
    r = api(platform, owner, "POST", f"/channels/{platform['channel']}/messages", json={"content": "first"})
    took = time.monotonic() - started
    assert r.status_code == 201
    assert took < 2, f"the day's first message took {took:.1f} s"


def test_five_members_sending_at_once_get_no_error_and_each_message_is_stored_once(platform):
    channel, members = platform["channel"], platform["members"]
    half = SENDS // 2
    expected = {f"m{i} {way} {n}" for i in range(MEMBERS) for way in ("rest", "gateway") for n in range(half)}
    answers: list[int] = []
    errors: list[dict] = []
    seen: dict[int, set[str]] = {}
    start = threading.Barrier(2 * MEMBERS)

    def over_rest(i: int):
        start.wait()
        for n in range(half):
            r = api(platform, members[i], "POST", f"/channels/{channel}/messages",
                    json={"content": f"m{i} rest {n}", "nonce": f"m{i}-rest-{n}"})
            answers.append(r.status_code)

    def over_gateway(i: int, ws):
        start.wait()
        for n in range(half):
            ws.send(json.dumps({"op": 6, "d": {"channel_id": channel, "content": f"m{i} gateway {n}",
                                               "nonce": f"m{i}-gw-{n}"}}))
        seen[i] = got = set()
        for f in frames(ws, time.monotonic() + 120):  # every member hears every message
            if f["op"] == 9:
                errors.append(f["d"])
            elif f["t"] == "MESSAGE_CREATE" and f["d"]["content"] in expected:
                got.add(f["d"]["content"])
            if got == expected:
                break

    with ExitStack() as stack, ThreadPoolExecutor(2 * MEMBERS) as pool:
        sockets = [stack.enter_context(gateway(platform, m)) for m in members]
        done = [pool.submit(over_rest, i) for i in range(MEMBERS)] + [pool.submit(over_gateway, i, ws)
                                                                       for i, ws in enumerate(sockets)]
        for future in done:
            future.result()
    assert sorted(set(answers)) == [201] and len(answers) == MEMBERS * half
    assert errors == []
    assert all(seen[i] == expected for i in range(MEMBERS))
    with sqlite3.connect(platform["database"]) as db:
        stored = db.execute("SELECT content, COUNT(*) FROM chat_message WHERE channel_id = ? GROUP BY content",
                            (channel,)).fetchall()
    assert {content for content, _ in stored} >= expected
    assert [content for content, count in stored if count > 1] == []


def test_a_track_upload_answers_at_once_and_becomes_ready_live_then_trends(platform, tmp_path):
    owner, fan = platform["members"][:2]
    source = audio.track_file(tmp_path / "track.flac", TRACK_SECONDS)
    with gateway(platform, owner) as ws:
        started = time.monotonic()
        with open(source, "rb") as fh:
            r = api(platform, owner, "POST", f"/guilds/{platform['guild']}/tracks", data={"title": "A sine"},
                    files={"file": ("track.flac", fh, "audio/flac")})
        took = time.monotonic() - started
        assert r.status_code == 201, r.text
        assert took < 2, f"the upload took {took:.1f} s to answer"
        track = r.json()["id"]
        assert r.json()["state"] == "uploaded"
        state = None
        for f in frames(ws, time.monotonic() + 60):  # the pipeline's steps, live
            if f["t"] == "TRACK_UPDATE" and f["d"]["id"] == track:
                state = f["d"]["state"]
                if state in ("ready", "failed"):
                    break
        assert state == "ready"

    # A like makes it trend once beat has recomputed the scores (nothing else does).
    assert api(platform, fan, "PUT", f"/tracks/{track}/like").status_code == 200
    deadline = time.monotonic() + 5 * TRENDING_EVERY + 10
    while [t["id"] for t in api(platform, fan, "GET", "/tracks/trending").json()] != [track]:
        assert time.monotonic() < deadline, "trending was not recomputed on its schedule"
        time.sleep(0.5)


def test_an_id_past_what_sqlite_holds_is_an_unknown_page_not_a_server_error(platform):
    owner, huge = platform["members"][0], 99999999999999999999
    for method, path in (("GET", f"/guilds/{platform['guild']}/members/{huge}"),
                         ("DELETE", f"/users/{huge}/follow"), ("DELETE", f"/users/@me/blocks/{huge}"),
                         ("GET", f"/v10/guilds/{platform['guild']}/members/{huge}")):
        r = api(platform, owner, method, path)
        assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
        assert r.headers["Content-Type"].startswith("application/json"), (path, r.headers["Content-Type"])




# What the id sweep's paths name, beside the guild, channel and members: a track, a playlist and a
# role of the owner's, and a bot in the guild (members intent on) for /api/v10/.
SWEEP_SETUP = """
import json, sys, django
django.setup()
from apps.bots import services as bots
from apps.guilds.models import Guild
from apps.guilds.permissions import Permission
from apps.tracks.models import Playlist
from tests.factories import make_role, make_track
guild = Guild.objects.get(pk=int(sys.argv[1]))
owner = guild.owner
app, token = bots.create_application(owner=owner, name="Sweeper")
app.members_intent = True
app.save(update_fields=["members_intent"])
bots.authorize_bot(actor=owner, application=app, guild_id=guild.id,
                   permissions=Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.READ_MESSAGE_HISTORY)
mix = Playlist.objects.create(owner=owner, title="Mix")
print(json.dumps({"track_id": make_track(guild, owner).id, "playlist_id": mix.id,
                  "role_id": make_role(guild, name="Sweep").id, "bot_token": token}))
"""


def test_an_id_past_what_sqlite_holds_is_a_clear_error_in_every_body_query_and_frame(platform):
    """Every integer field of the schema's query strings and JSON bodies, /api/v10/'s snowflakes and
    the gateway's ids (tests/big_ids.py): past 2**63-1 each is the field's 400 (or an unknown thing's
    404) in the surface's own error shape, never a 500 (SQLite cannot hold it: an OverflowError)."""
    owner, member = platform["members"][:2]
    made = subprocess.run([sys.executable, "-c", SWEEP_SETUP, str(platform["guild"])], cwd=servers.ROOT,
                          env=platform["env"], check=True, capture_output=True, text=True)
    extra = json.loads(made.stdout.strip().splitlines()[-1])
    guild, channel = platform["guild"], platform["channel"]
    known = {"guild_id": guild, "channel_id": channel, "user_id": member["id"], **extra}
    doc = requests.get(platform["base"] + "/api/schema/?format=json", timeout=60).json()
    swept = big_ids.schema_cases(doc, known)
    assert len(swept) > 100  # every integer field of most operations: the sweep did not go empty
    assert big_ids.unbounded_ids(swept) == set()  # each id field documents its bound (apps.core.fields.IdField)

    with requests.Session() as session:
        def send(prefix):
            def call(method, path, params, body):
                r = session.request(method, platform["base"] + prefix + path, params=params, json=body, timeout=60)
                is_json = r.headers.get("Content-Type", "").startswith("application/json")
                return r.status_code, r.headers.get("Content-Type", ""), r.json() if is_json else None
            return call

        session.headers["Authorization"] = f"Token {owner['token']}"
        assert big_ids.api_failures(send("/api"), big_ids.api_cases(doc, known)) == []
        session.headers["Authorization"] = f"Bot {extra['bot_token']}"
        assert big_ids.discord_failures(send("/api/v10"), big_ids.discord_cases(guild, channel)) == []

    # The gateway: one frame at a time, each refused with the error frame that names the field (its
    # type is an id: docs/gateway.md), and the socket stays open.
    answers = []
    with gateway(platform, owner) as ws:
        for op, d in big_ids.gateway_frames(guild, channel):
            ws.send(json.dumps({"op": op, "d": d}))
            answer = next((f["d"] for f in frames(ws, time.monotonic() + 10) if f["op"] == 9), {})
            answers.append((op, d, answer.get("code"), answer.get("field")))
        ws.send(json.dumps({"op": 1, "d": None}))
        assert any(f["op"] == 11 for f in frames(ws, time.monotonic() + 10))
    assert [a for a in answers if a[2] != "invalid_payload" or a[3] not in a[1]] == []
