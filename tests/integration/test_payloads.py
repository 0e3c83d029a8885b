"""Every event the gateway sends and every answer the API gives has the shape /api/schema/ documents,
and docs/gateway.md lists exactly the events the apps send.

Each app's events.py names the events it sends (EVENTS); its serializers document each event's `d`
(EVENT_SHAPES, in the schema under x-gateway-events) and each API answer. Here real events are made
the way the app makes them (services on the real database and Redis, read off the hub's Redis
channels; the gateway's own answers through real sockets; the SFU's through a real Janus), every
operation of the API is called once, and each `d` and each answer is validated against the schema
with jsonschema, strictly: no field the schema does not name, none it requires missing, every type
and every time as documented."""
from __future__ import annotations

import io
import json
import re
import uuid
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path

import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from rest_framework.test import APIClient

from apps.chat import services as chat
from apps.chat import thread_services as threads
from apps.chat.models import Message
from apps.core import bus
from apps.core.schema import EVENTS_KEY
from apps.dms import services as dms
from apps.guilds import events as guild_events
from apps.guilds import invites, sanctions
from apps.guilds import services as guilds
from apps.guilds.models import Category, Channel, Role
from apps.guilds.permissions import Permission
from apps.moderation import report_services as reports
from apps.moderation import services as moderation
from apps.notifications import services as notifications
from apps.realtime import events as gateway_events
from apps.rtc import events as rtc_events
from apps.rtc import services as rtc
from apps.tracks import pipeline
from apps.tracks import services as tracks
from apps.tracks.models import Track, TrackComment
from tests import audio
from tests.factories import PASSWORD, UserFactory, add_member, make_guild, make_invite, make_track
from tests.integration.test_gateway import db, gateway, run_async
from tests.push import Device
from tests.servers import janus

pytestmark = pytest.mark.django_db(transaction=True)
P = Permission
GATEWAY_DOC = Path(settings.BASE_DIR) / "docs" / "gateway.md"

# Who makes each event, and so which test below makes it for real. The services publish most; the
# gateway builds its own answers and completes GUILD_CREATE and PERMISSIONS_CHANGED for each
# connection (their published data is not what a client gets); rooms switch to the SFU only with
# a Janus.
BY_THE_GATEWAY = {gateway_events.READY, gateway_events.GUILD_MEMBERS_CHUNK, gateway_events.PRESENCE_UPDATE,
                  guild_events.GUILD_CREATE, guild_events.PERMISSIONS_CHANGED, rtc_events.VOICE_READY,
                  rtc_events.VOICE_STATES}
BY_THE_SFU = {rtc_events.VOICE_TOPOLOGY_UPDATE}


def registry() -> set[str]:
    """Every event name the apps' events.py declare (EVENTS)."""
    names = set()
    for config in django_apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            module = import_module(f"{config.name}.events")
        except ModuleNotFoundError as e:
            if e.name != f"{config.name}.events":
                raise
            continue
        names |= set(getattr(module, "EVENTS", ()))
    return names


BY_THE_SERVICES = registry() - BY_THE_GATEWAY - BY_THE_SFU


# --- the schema, as JSON Schema ---------------------------------------------------------------------

SCHEMA_URI = "urn:smartc:api-schema"
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _aware_iso_datetime(value) -> bool:
    """ISO 8601 with its offset (the docs promise UTC times a client can parse as they are)."""
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def strict(node):
    """An OpenAPI 3.0 schema object as JSON Schema: `nullable` becomes a null alternative, refs
    point into the whole schema, and an object with properties allows no other property."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = SCHEMA_URI + value
        elif key == "properties":
            out[key] = {name: strict(s) for name, s in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "oneOf", "anyOf"):
            out[key] = strict(value)
        elif key not in ("nullable", "readOnly", "writeOnly", "example", "discriminator"):
            out[key] = value
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


class Schema:
    def __init__(self, doc: dict):
        self.doc = doc
        components = {"schemas": {name: strict(s) for name, s in doc["components"]["schemas"].items()}}
        resource = Resource.from_contents({"$id": SCHEMA_URI, "components": components},
                                          default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SCHEMA_URI, resource)

    def errors(self, instance, schema: dict) -> list[str]:
        validator = Draft202012Validator(strict(schema), registry=self.registry, format_checker=FORMATS)
        return [f"{e.json_path}: {e.message}" for e in sorted(validator.iter_errors(instance), key=str)]

    @property
    def events(self) -> dict:
        return self.doc[EVENTS_KEY]

    def event_errors(self, t: str, d) -> list[str]:
        if t not in self.events:
            return [f"{t} is not documented in {EVENTS_KEY}"]
        return [f"{t} {e}" for e in self.errors(d, self.events[t])]

    def answer_schema(self, template: str, method: str, status: int) -> dict | None:
        response = self.doc["paths"][template][method]["responses"].get(str(status))
        assert response is not None, f"{method.upper()} {template} answered {status}, which it does not document"
        return (response.get("content") or {}).get("application/json", {}).get("schema")


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> Schema:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return Schema(response.json())


class Checked:
    """Events validated against the schema: the names seen, and what did not match."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.seen: set[str] = set()
        self.failures: list[str] = []

    def check(self, t: str, d) -> None:
        self.seen.add(t)
        self.failures += self.schema.event_errors(t, d)[:5]

    def assert_all(self, expected: set[str]) -> None:
        assert not self.failures, "\n".join(self.failures)
        assert expected <= self.seen, f"never made here: {sorted(expected - self.seen)}"


class Published:
    """Every event published on the hub's Redis channels, as a gateway node subscribed to every
    group would get it (one pattern subscription)."""

    def __init__(self):
        self.client = redis.Redis.from_url(settings.REDIS_URL)
        self.pubsub = self.client.pubsub()
        self.pubsub.psubscribe(bus.PREFIX + "*")
        assert self.pubsub.get_message(timeout=5)["type"] == "psubscribe"

    def take(self) -> list[tuple[str, dict]]:
        out = []
        while (message := self.pubsub.get_message(timeout=0.5)) is not None:
            if message["type"] == "pmessage":
                t, _published, text = message["data"].decode().split(" ", 2)
                out.append((t, json.loads(text)))
        return out

    def close(self):
        self.pubsub.close()
        self.client.close()


@pytest.fixture
def published():
    listener = Published()
    yield listener
    listener.close()


@pytest.fixture(autouse=True)
def _fresh_voice_state(settings, tmp_path):
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("smartc:voice:*"):
        client.delete(key)
    client.close()
    settings.MEDIA_ROOT = str(tmp_path / "media")


# --- the registry, the schema and the docs agree ------------------------------------------------------

def test_each_event_is_made_by_one_of_the_tests_below():
    assert BY_THE_GATEWAY | BY_THE_SFU <= registry()
    assert not BY_THE_GATEWAY & BY_THE_SFU


def test_the_schema_documents_every_event_the_apps_send_and_no_other(schema):
    assert set(schema.events) == registry()


def gateway_doc_index() -> dict[str, set[str]]:
    """docs/gateway.md's table of every event: {event: the components its row names}."""
    section = GATEWAY_DOC.read_text().split("\n### Every event\n", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]*) \|", section, flags=re.MULTILINE)
    index = {}
    for name, shapes in rows:
        assert name not in index, f"{name} is listed twice in docs/gateway.md"
        index[name] = set(re.findall(r"`(\w+)`", shapes))
    return index


def test_gateway_md_lists_exactly_the_events_the_apps_send_with_their_schema(schema):
    index = gateway_doc_index()
    assert set(index) == registry(), (f"missing from docs/gateway.md: {sorted(registry() - set(index))}; "
                                      f"not sent: {sorted(set(index) - registry())}")
    for name, documented in sorted(schema.events.items()):
        refs = [documented] if "$ref" in documented else documented["oneOf"]
        components = {ref["$ref"].rsplit("/", 1)[1] for ref in refs}
        assert index[name] == components, f"docs/gateway.md says {name} is {index[name]}, the schema {components}"


# --- events the services publish ---------------------------------------------------------------------

def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), "purple").save(out, "PNG")
    return out.getvalue()


def test_every_event_the_services_publish_has_its_documented_shape(schema, published):
    owner = UserFactory(username="owner")
    alice, bob, carol = (UserFactory(username=n) for n in ("alice", "bob", "carol"))
    guild = make_guild(owner, name="Night Owls")
    add_member(guild, alice)
    general = Channel.objects.get(guild=guild, name="general")
    voice = Channel.objects.get(guild=guild, type="voice")

    # Guilds: the guild, channels, roles, members, invites, bans.
    guilds.update_guild(actor=owner, guild=guild, description="Late talk")
    news = guilds.create_channel(actor=owner, guild=guild, name="news", category=Category.objects.filter(
        guild=guild).first())
    guilds.update_channel(actor=owner, channel=news, topic="Today")
    mods = guilds.create_role(actor=owner, guild=guild, name="Mods", permissions=int(P.MANAGE_MESSAGES))
    guilds.update_role(actor=owner, role=mods, permissions=int(P.MANAGE_MESSAGES | P.KICK_MEMBERS))
    guilds.assign_role(actor=owner, member=guild.members.get(user=alice), role=mods)
    guilds.set_overwrite(actor=owner, channel=news, allow=0, deny=int(P.SEND_MESSAGES),
                         role=Role.objects.get(guild=guild, is_default=True))
    invite = invites.create_invite(actor=owner, guild=guild, max_uses=5)
    invites.join_by_invite(user=bob, code=invite.code)
    invites.revoke_invite(actor=owner, invite=invite)
    sanctions.timeout_member(actor=owner, member=guild.members.get(user=bob), duration=timedelta(minutes=5))
    sanctions.kick_member(actor=owner, member=guild.members.get(user=bob))
    sanctions.ban_member(actor=owner, guild=guild, user=bob)
    sanctions.unban_member(actor=owner, guild=guild, user=bob)
    guilds.delete_channel(actor=owner, channel=news)
    guilds.delete_role(actor=owner, role=mods)

    # Chat: messages with a reply, a mention, a nonce and an attachment; edits, reactions, pins,
    # typing, read marks, moderation's hold and approval, threads.
    first = chat.send_message(author=owner, channel_id=general.id, content="Anyone **here**?")
    upload = chat.upload_attachment(uploader=alice, channel_id=general.id,
                                    upload=SimpleUploadedFile("sky.png", png(), content_type="image/png"))
    reply = chat.send_message(author=alice, channel_id=general.id, content="Yes @owner", reply_to_id=first.id,
                              nonce="c-1", attachment_ids=[upload.id])
    chat.process_attachment(upload.id)
    notifications.notify_message(reply.id)  # the task that follows a send, run here: owner is mentioned
    notifications.update_guild_settings(user=owner, guild_id=guild.id, level="all", muted=True, mute_minutes=60)
    notifications.update_channel_settings(user=owner, channel_id=general.id, level="mentions")
    chat.edit_message(actor=alice, message=reply, content="Yes, @owner!")
    chat.add_reaction(actor=owner, message=reply, emoji="👍")
    chat.remove_reaction(actor=owner, message=reply, emoji="👍")
    chat.pin_message(actor=owner, message=first)
    chat.unpin_message(actor=owner, message=first)
    chat.start_typing(user=alice, channel_id=general.id)
    chat.ack_message(user=alice, channel_id=general.id, message_id=reply.id)
    chat.set_visibility(message=Message.objects.get(pk=reply.id), visibility=Message.Visibility.HELD)
    chat.set_visibility(message=Message.objects.get(pk=reply.id), visibility=Message.Visibility.VISIBLE)
    thread = threads.create_thread(actor=owner, channel_id=general.id, message_id=first.id, name="Meetup")
    chat.send_message(author=alice, channel_id=thread.pk, content="in the thread")
    threads.update_thread(actor=owner, thread_id=thread.pk, archived=True)
    threads.leave_thread(user=alice, thread_id=thread.pk)
    threads.delete_thread(actor=owner, thread_id=thread.pk)
    chat.delete_message(actor=owner, message=first)

    # Direct messages: a DM, a group, its members coming and going, its name.
    add_member(guild, carol)
    dm, _ = dms.open_dm(user=alice, recipient_id=owner.id)
    chat.send_message(author=alice, channel_id=dm.id, content="psst")
    group = dms.create_group_dm(owner=owner, recipient_ids=[alice.id], name="Weekend")
    dms.add_recipient(actor=owner, channel_id=group.id, user_id=carol.id)
    dms.rename_group_dm(actor=alice, channel_id=group.id, name="Long weekend")
    dms.remove_recipient(actor=owner, channel_id=group.id, user_id=carol.id)

    # Tracks: an upload through the pipeline's first step, comments, moderation, deletion.
    upload = SimpleUploadedFile("s.mp3", audio.track_file(Path(settings.MEDIA_ROOT) / "s.mp3", 2.0).read_bytes())
    uploaded = tracks.upload_track(uploader=alice, guild_id=guild.id, upload=upload, title="Sine")
    pipeline.probe_track(uploaded.id)
    song = make_track(guild, owner, title="Night Drive")
    comment = tracks.comment_on_track(author=alice, track_id=song.id, body="that drop!", position_ms=1000)
    tracks.set_comment_visibility(comment=comment, visibility=TrackComment.Visibility.HELD)
    tracks.delete_track_comment(actor=alice, track_id=song.id, comment_id=comment.id)
    tracks.set_track_visibility(track=song, visibility=Track.Visibility.HELD)
    tracks.set_track_visibility(track=song, visibility=Track.Visibility.VISIBLE)
    tracks.delete_track(actor=alice, track=Track.objects.get(pk=uploaded.id))

    # Moderation: a warning and its notice read, a report decided.
    warning = moderation.warn_member(actor=owner, member=guild.members.get(user=alice), reason="Keep it civil.")
    moderation.acknowledge_warning(user=alice, warning_id=warning.id)
    said = chat.send_message(author=owner, channel_id=general.id, content="you all are slow")
    report, _ = reports.report(reporter=alice, kind="message", item_id=said.id, category="harassment")
    reports.dismiss(actor=owner, report=report)

    # Voice: two participants, a signal, a server mute, a listening party, leaving.
    rtc.join_voice(user=owner, session_id="s-owner", channel_id=voice.id)
    rtc.join_voice(user=alice, session_id="s-alice", channel_id=voice.id, self_video=True)
    rtc.relay_signal(user=owner, session_id="s-owner", guild_id=guild.id, to=alice.id, kind="offer", sdp="v=0")
    rtc.relay_signal(user=alice, session_id="s-alice", guild_id=guild.id, to=owner.id, kind="candidate",
                     candidate={"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"})
    rtc.server_mute(actor=owner, guild_id=guild.id, user_id=alice.id, mute=True)
    party_song = make_track(guild, owner, title="Together", duration_ms=20_000)
    rtc.listening_party(user=owner, session_id="s-owner", guild_id=guild.id, action="start", track_id=party_song.id,
                        queue=[song.id])
    rtc.listening_party(user=owner, session_id="s-owner", guild_id=guild.id, action="pause")
    rtc.leave_voice(user=owner, session_id="s-owner", guild_id=guild.id)
    rtc.leave_voice(user=alice, session_id="s-alice", guild_id=guild.id)

    guilds.delete_guild(actor=owner, guild=guild)

    checked = Checked(schema)
    for t, d in published.take():
        if t not in BY_THE_GATEWAY:  # completed per connection: checked as clients get them below
            checked.check(t, d)
    checked.assert_all(BY_THE_SERVICES)


# --- events the gateway builds or completes ------------------------------------------------------------

JOIN, REQUEST_MEMBERS, REQUEST_VOICE_STATES, PARTY = 12, 8, 14, 15


async def until(gw, t: str, checked: Checked, timeout: float = 10) -> dict:
    """Read a socket's frames up to the next DISPATCH of `t`, checking every dispatch on the way."""
    while True:
        f = await gw.frame(timeout)
        assert f["op"] == 0, f
        checked.check(f["t"], f["d"])
        if f["t"] == t:
            return f["d"]


@run_async
async def test_every_event_the_gateway_builds_has_its_documented_shape(schema):
    checked = Checked(schema)
    owner = await db(UserFactory)(username="owner")
    alice, bob = await db(UserFactory)(username="alice"), await db(UserFactory)(username="bob")
    guild = await db(make_guild)(owner, name="Night Owls")
    await db(add_member)(guild, alice)
    general = await db(Channel.objects.get)(guild=guild, name="general")
    voice = await db(Channel.objects.get)(guild=guild, type="voice")
    # What READY shows: a thread, a DM with its last message, unread counts.
    first = await db(chat.send_message)(author=alice, channel_id=general.id, content="Who is in?")
    await db(threads.create_thread)(actor=alice, channel_id=general.id, message_id=first.id, name="Meetup")
    dm, _ = await db(dms.open_dm)(user=alice, recipient_id=owner.id)
    await db(chat.send_message)(author=alice, channel_id=dm.id, content="psst")
    song = await db(make_track)(guild, owner, title="Together", duration_ms=20_000)
    invite = await db(make_invite)(guild)

    async with gateway(owner) as o:
        checked.check(gateway_events.READY, o.ready)
        assert o.ready["guilds"][0]["threads"] and o.ready["private_channels"][0]["last_message"]
        await o.send(REQUEST_MEMBERS, {"guild_id": guild.id})
        await until(o, gateway_events.GUILD_MEMBERS_CHUNK, checked)
        async with gateway(alice) as a, gateway(bob) as b:
            checked.check(gateway_events.READY, a.ready)
            await until(o, gateway_events.PRESENCE_UPDATE, checked)
            await db(invites.join_by_invite)(user=bob, code=invite.code)
            created = await until(b, guild_events.GUILD_CREATE, checked)
            assert created["channels"] and created["threads"]
            await db(guilds.set_overwrite)(actor=owner, channel=general, allow=0, deny=int(P.ADD_REACTIONS),
                                           member=await db(guild.members.get)(user=alice))
            await until(a, guild_events.PERMISSIONS_CHANGED, checked)

            await o.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_mute": True})
            await until(o, rtc_events.VOICE_READY, checked)
            await o.send(REQUEST_VOICE_STATES, {"guild_id": guild.id})
            assert (await until(o, rtc_events.VOICE_STATES, checked))["voice_states"]
            await o.send(PARTY, {"action": "start", "track_id": song.id})
            await until(o, rtc_events.LISTENING_PARTY_UPDATE, checked)
            await o.send(PARTY, {"action": "sync", "nonce": "sync-1"})
            while (await until(o, rtc_events.LISTENING_PARTY_UPDATE, checked)).get("nonce") != "sync-1":
                pass
    checked.assert_all(BY_THE_GATEWAY)


# --- voice rooms through the SFU -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def janus_server():
    with janus() as server:
        yield server


def test_voice_through_the_sfu_has_its_documented_shape(schema, published, settings, janus_server):
    settings.RTC_MESH_MAX = 2
    settings.JANUS_URL = janus_server.http_url
    settings.JANUS_ADMIN_URL = janus_server.admin_url
    settings.JANUS_PUBLIC_URL = janus_server.ws_url
    settings.JANUS_ADMIN_KEY = janus_server.admin_key
    owner = UserFactory(username="owner")
    guild = make_guild(owner, name="Big Room")
    voice = Channel.objects.get(guild=guild, type="voice")
    people = [owner, *(add_member(guild, UserFactory(username=n)).user for n in ("alice", "bob"))]
    checked = Checked(schema)
    for user in people:  # the third joiner takes the room past RTC_MESH_MAX: everyone moves to Janus
        answer = rtc.join_voice(user=user, session_id=f"s-{user.username}", channel_id=voice.id)
        checked.check(rtc_events.VOICE_READY, answer)
    assert answer["topology"] == "sfu" and answer["sfu"]
    for user in reversed(people):  # and back to the mesh as they leave
        rtc.leave_voice(user=user, session_id=f"s-{user.username}", guild_id=guild.id)
    for t, d in published.take():
        if t not in BY_THE_GATEWAY:
            checked.check(t, d)
    checked.assert_all(BY_THE_SFU | {rtc_events.VOICE_READY})


# --- every answer of the API --------------------------------------------------------------------------

def json_operations(schema: Schema) -> set[tuple[str, str]]:
    """(method, path template) of every operation that documents a JSON body for a 2xx answer."""
    found = set()
    for template, operations in schema.doc["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("2") and "application/json" in (response.get("content") or {}):
                    found.add((method, template))
    return found


class Api:
    """Calls operations by their path template and validates each answer against the schema of that
    operation and status. A list answer must not be empty: its items are what is checked."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.client = APIClient()
        self.called: set[tuple[str, str]] = set()
        self.failures: list[str] = []

    def as_(self, user) -> Api:
        self.client.force_authenticate(user)
        return self

    def __call__(self, method: str, template: str, body=None, *, query: str = "", multipart: bool = False,
                 empty_ok: bool = False, **ids):
        path = template.format(**ids) + (f"?{query}" if query else "")
        kwargs = {"format": "multipart"} if multipart else {"format": "json"}
        response = getattr(self.client, method)(path, body, **kwargs)
        assert 200 <= response.status_code < 300, (method, path, response.status_code, response.content[:500])
        self.called.add((method, template))
        documented = self.schema.answer_schema(template, method, response.status_code)
        if documented is None:
            return None
        body = response.json()
        items = body if isinstance(body, list) else body.get("results", body.get("items"))
        if isinstance(items, list) and not empty_ok:
            assert items, f"{method.upper()} {path} answered an empty list: nothing of its items was checked"
        self.failures += [f"{method.upper()} {template} {e}" for e in self.schema.errors(body, documented)[:5]]
        return body


def test_every_answer_of_the_api_has_its_documented_shape(schema):
    api = Api(schema)
    owner = UserFactory(username="owner")
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")

    # Accounts.
    api("post", "/api/auth/token", {"username": "alice", "password": PASSWORD})
    api.as_(owner)("post", "/api/users/@me/blocks/{user_id}", user_id=bob.id)
    api("get", "/api/users/@me/blocks")
    api("delete", "/api/users/@me/blocks/{user_id}", user_id=bob.id)
    api("get", "/api/users/@me")
    token = api("post", "/api/users/@me/tokens", {"name": "bot", "scopes": ["read"], "expires_in_days": 7})
    api("get", "/api/users/@me/tokens")
    api("delete", "/api/users/@me/tokens/{token_id}", token_id=token["id"])

    # Guilds, channels, categories, overwrites, roles, members, bans, invites, the audit log.
    gid = api("post", "/api/guilds", {"name": "Night Owls", "discoverable": True})["id"]
    api("get", "/api/guilds")
    api("get", "/api/guilds/{guild_id}", guild_id=gid)
    api("patch", "/api/guilds/{guild_id}", {"description": "Late talk"}, guild_id=gid)
    api("get", "/api/explore")
    api("get", "/api/guilds/{guild_id}/permissions", guild_id=gid)
    code = api("post", "/api/guilds/{guild_id}/invites", {"max_uses": 10}, guild_id=gid)["code"]
    api("get", "/api/guilds/{guild_id}/invites", guild_id=gid)
    api("get", "/api/invites/{code}", code=code)
    api.as_(alice)("post", "/api/invites/{code}/accept", code=code)
    api.as_(bob)("post", "/api/invites/{code}/accept", code=code)
    api.as_(owner)
    category = api("post", "/api/guilds/{guild_id}/categories", {"name": "Talk"}, guild_id=gid)
    api("get", "/api/guilds/{guild_id}/categories", guild_id=gid)
    channel = api("post", "/api/guilds/{guild_id}/channels", {"name": "news", "category_id": category["id"]},
                  guild_id=gid)
    cid = channel["id"]
    channels = api("get", "/api/guilds/{guild_id}/channels", guild_id=gid)
    api("patch", "/api/guilds/{guild_id}/channels",
        [{"id": c["id"], "category_id": c["category_id"]} for c in reversed(channels)], guild_id=gid)
    api("get", "/api/channels/{channel_id}", channel_id=cid)
    api("patch", "/api/channels/{channel_id}", {"topic": "Today"}, channel_id=cid)
    api("get", "/api/channels/{channel_id}/permissions", channel_id=cid)
    role = api("post", "/api/guilds/{guild_id}/roles", {"name": "Mods", "permissions": str(int(P.MANAGE_MESSAGES))},
               guild_id=gid)
    roles = api("get", "/api/guilds/{guild_id}/roles", guild_id=gid)
    api("patch", "/api/guilds/{guild_id}/roles", {"order": [r["id"] for r in roles if not r["is_default"]]},
        guild_id=gid)
    api("patch", "/api/guilds/{guild_id}/roles/{role_id}", {"color": 0x5865F2}, guild_id=gid, role_id=role["id"])
    api("put", "/api/channels/{channel_id}/overwrites/{target_type}/{target_id}",
        {"allow": "0", "deny": str(int(P.SEND_MESSAGES))}, channel_id=cid, target_type="role", target_id=role["id"])
    api("get", "/api/channels/{channel_id}/overwrites", channel_id=cid)
    api("get", "/api/guilds/{guild_id}/members", guild_id=gid)
    api("get", "/api/guilds/{guild_id}/members/search", query="query=al", guild_id=gid)
    api("get", "/api/guilds/{guild_id}/members/{user_id}", guild_id=gid, user_id=alice.id)
    api("patch", "/api/guilds/{guild_id}/members/{user_id}", {"nickname": "Ali", "roles": [role["id"]]},
        guild_id=gid, user_id=alice.id)
    api("post", "/api/guilds/{guild_id}/members/{user_id}/timeout", {"seconds": 60}, guild_id=gid, user_id=bob.id)
    api("post", "/api/guilds/{guild_id}/members/{user_id}/warnings", {"reason": "Keep it civil."}, guild_id=gid,
        user_id=bob.id)
    api("put", "/api/guilds/{guild_id}/bans/{user_id}", {"reason": "spam"}, guild_id=gid, user_id=bob.id)
    api("get", "/api/guilds/{guild_id}/bans", guild_id=gid)
    api("get", "/api/guilds/{guild_id}/audit-log", guild_id=gid)
    api("get", "/api/guilds/{guild_id}/audit-log/export", query="format=json", guild_id=gid)
    api("post", "/api/guilds/{guild_id}/automod/rules", {"name": "No spoilers", "action": "block",
                                                          "keywords": ["spoiler"]}, guild_id=gid)
    api("get", "/api/guilds/{guild_id}/automod/rules", guild_id=gid)
    api("put", "/api/guilds/{guild_id}/moderation/thresholds", {"review_at": 0.5, "hide_at": 0.9}, guild_id=gid)

    # Messages, attachments, pins, search, mentions, threads.
    general = Channel.objects.get(guild_id=gid, name="general").id
    upload = api.as_(alice)("post", "/api/channels/{channel_id}/attachments", {"file": SimpleUploadedFile(
        "sky.png", png(), content_type="image/png")}, multipart=True, channel_id=general)
    first = api("post", "/api/channels/{channel_id}/messages", {"content": "Night drive tonight, @owner?",
                                                                "nonce": "n-1", "attachment_ids": [upload["id"]]},
                channel_id=general)
    api("post", "/api/channels/{channel_id}/messages", {"content": "Night drive tonight, @owner?", "nonce": "n-1"},
        channel_id=general)  # the retry: 200 with the same message
    api.as_(owner)("post", "/api/channels/{channel_id}/messages", {"content": "count me in",
                                                                   "reply_to": first["id"]}, channel_id=general)
    # Webhooks: made, listed, renamed, re-keyed, executed (both routes), with a rich embed.
    embed = {"title": "Build #12", "description": "**green**", "url": "https://ci.example/12", "color": 0x2ECC71,
             "author": {"name": "CI", "icon_url": "https://ci.example/i.png"}, "footer": {"text": "main"},
             "fields": [{"name": "Tests", "value": "812 passed", "inline": True}],
             "image": {"url": "https://ci.example/graph.png"}, "thumbnail": {"url": "https://ci.example/t.png"}}
    hook = api.as_(owner)("post", "/api/channels/{channel_id}/webhooks", {"name": "CI"}, channel_id=general)
    api("get", "/api/channels/{channel_id}/webhooks", channel_id=general)
    api("get", "/api/webhooks/{webhook_id}", webhook_id=hook["id"])
    api("patch", "/api/webhooks/{webhook_id}", {"name": "Builds"}, webhook_id=hook["id"])
    token = api("post", "/api/webhooks/{webhook_id}/token", webhook_id=hook["id"])["token"]
    # (Discord's /api/v10/ route answers in Discord's shape, outside this schema: test_discord_webhook.py.)
    api("post", "/api/webhooks/{webhook_id}/{token}", {"content": "Deployed", "username": "Deploy bot",
                                                       "embeds": [embed]}, query="wait=true",
        webhook_id=hook["id"], token=token)
    seen = api.as_(owner)("post", "/api/channels/{channel_id}/messages", {"content": f"see {embed['url']}",
                                                                          "embeds": [embed]}, channel_id=general)
    api("post", "/api/channels/{channel_id}/messages/{message_id}/suppress-embeds", {"suppress": True},
        channel_id=general, message_id=seen["id"])
    api.as_(alice)("patch", "/api/channels/{channel_id}/messages/{message_id}", {"content": "Night drive, @owner?"},
                   channel_id=general, message_id=first["id"])
    api.as_(owner)("put", "/api/channels/{channel_id}/pins/{message_id}", channel_id=general, message_id=first["id"])
    api("get", "/api/channels/{channel_id}/pins", channel_id=general)
    api("get", "/api/channels/{channel_id}/messages", channel_id=general)
    api("get", "/api/channels/{channel_id}/messages/{message_id}", channel_id=general, message_id=first["id"])
    api("get", "/api/guilds/{guild_id}/messages/search", query="q=drive", guild_id=gid)
    api("get", "/api/users/@me/mentions")
    thread = api("post", "/api/channels/{channel_id}/messages/{message_id}/threads", {"name": "Route"},
                 channel_id=general, message_id=first["id"])
    api("get", "/api/channels/{channel_id}/threads", channel_id=general)
    api("get", "/api/threads/{thread_id}", thread_id=thread["id"])
    api("patch", "/api/threads/{thread_id}", {"name": "The route"}, thread_id=thread["id"])
    api("get", "/api/threads/{thread_id}/members", thread_id=thread["id"])

    # Direct messages.
    api.as_(alice)("post", "/api/users/@me/channels", {"recipient_id": owner.id})
    group = api("post", "/api/users/@me/channels", {"recipient_ids": [owner.id], "name": "Weekend"})
    api("patch", "/api/users/@me/channels/{channel_id}", {"name": "Long weekend"}, channel_id=group["id"])
    api("get", "/api/users/@me/channels")

    # Tracks, comments, likes, plays, follows, the stream, trending, search, playlists.
    sine = audio.track_file(Path(settings.MEDIA_ROOT) / "s.mp3", 2.0).read_bytes()
    api("post", "/api/guilds/{guild_id}/tracks", {"file": SimpleUploadedFile("s.mp3", sine), "title": "Sine",
                                                  "tags": "test"}, multipart=True, guild_id=gid)
    song = make_track(Channel.objects.get(pk=general).guild, owner, title="Night Drive", tags=["synth"])
    Track.objects.filter(pk=song.pk).update(trending_score=1.0)
    api("get", "/api/guilds/{guild_id}/tracks", guild_id=gid)
    api("get", "/api/tracks/{track_id}", track_id=song.id)
    api("put", "/api/tracks/{track_id}/like", track_id=song.id)
    api("delete", "/api/tracks/{track_id}/like", track_id=song.id)
    api("put", "/api/tracks/{track_id}/repost", track_id=song.id)
    api("delete", "/api/tracks/{track_id}/repost", track_id=song.id)
    api("post", "/api/tracks/{track_id}/plays", track_id=song.id)
    api("post", "/api/tracks/{track_id}/comments", {"body": "that drop!", "position_ms": 1000}, track_id=song.id)
    api("post", "/api/tracks/{track_id}/comments", {"body": "again", "position_ms": 2000, "channel_id": general},
        track_id=song.id)
    api("get", "/api/tracks/{track_id}/comments", track_id=song.id)
    api.as_(owner)("patch", "/api/tracks/{track_id}", {"credits": "Mixed by Ada", "downloadable": True},
                   track_id=song.id)
    api("get", "/api/tracks/{track_id}/insights", track_id=song.id)
    api("post", "/api/tracks/{track_id}/audio", {"file": SimpleUploadedFile("s.mp3", sine)}, multipart=True,
        track_id=song.id)
    api.as_(alice)
    api("put", "/api/users/{user_id}/follow", user_id=owner.id)
    api("get", "/api/stream")
    api("delete", "/api/users/{user_id}/follow", user_id=owner.id)
    api("get", "/api/tracks/trending")
    api("get", "/api/tracks/search", query="q=night")
    playlist = api("post", "/api/playlists", {"title": "Mix"})
    api("post", "/api/playlists/{playlist_id}/tracks", {"track_id": song.id}, playlist_id=playlist["id"])
    entries = api("get", "/api/playlists/{playlist_id}", playlist_id=playlist["id"])["entries"]
    api("put", "/api/playlists/{playlist_id}/order", {"entry_ids": [e["id"] for e in entries]},
        playlist_id=playlist["id"])
    api("patch", "/api/playlists/{playlist_id}", {"description": "for the road"}, playlist_id=playlist["id"])
    api("get", "/api/playlists")
    api("get", "/api/users/{user_id}/playlists", user_id=alice.id)
    api("delete", "/api/playlists/{playlist_id}/tracks/{track_id}", playlist_id=playlist["id"], track_id=song.id)
    # Who hears a track: its audience and secret link (its uploader), the guild's rule (MANAGE_GUILD).
    api.as_(owner)("put", "/api/tracks/{track_id}/sharing", {"audience": "unlisted"}, track_id=song.id)
    api("get", "/api/tracks/{track_id}/sharing", track_id=song.id)
    api("post", "/api/tracks/{track_id}/secret", track_id=song.id)
    api("get", "/api/guilds/{guild_id}/track-settings", guild_id=gid)
    api("put", "/api/guilds/{guild_id}/track-settings", {"allow_public": True}, guild_id=gid)

    # Reports.
    api.as_(owner)("post", "/api/reports", {"type": "message", "id": first["id"], "reason": "spam"})
    api("post", "/api/reports", {"type": "message", "id": first["id"], "reason": "spam"})  # again: 200
    api("get", "/api/reports")

    # Notifications: settings per guild and per channel, and a device's Web Push subscription.
    api.as_(alice)("patch", "/api/users/@me/guilds/{guild_id}/notification-settings",
                   {"level": "all", "muted": True, "mute_minutes": 60}, guild_id=gid)
    api("patch", "/api/users/@me/channels/{channel_id}/notification-settings", {"level": "nothing"},
        channel_id=general)
    api("get", "/api/users/@me/guilds/{guild_id}/notification-settings", guild_id=gid)
    api("get", "/api/users/@me/channels/{channel_id}/notification-settings", channel_id=general)
    api("get", "/api/users/@me/notification-settings")
    api("get", "/api/push/vapid-key")
    api("post", "/api/push/subscriptions", Device("http://127.0.0.1:9/push/alice").subscription())
    api("get", "/api/push/subscriptions")
    # The activity bell: alice's follow and comments above are the owner's activity.
    api.as_(owner)("get", "/api/users/@me/activity")
    api("post", "/api/users/@me/activity/read")
    api("get", "/api/users/@me/activity-settings")
    api("patch", "/api/users/@me/activity-settings", {"like": False})
    api.as_(alice)

    # Voice: renewing ICE servers while in a room, a moderator muting someone.
    voice = Channel.objects.get(guild_id=gid, type="voice")
    rtc.join_voice(user=alice, session_id=uuid.uuid4().hex, channel_id=voice.id)
    api.as_(alice)("get", "/api/rtc/ice-servers")
    api.as_(owner)("patch", "/api/guilds/{guild_id}/voice-states/{user_id}", {"mute": True}, guild_id=gid,
                   user_id=alice.id)

    api("post", "/api/guilds/{guild_id}/transfer", {"owner_id": alice.id}, guild_id=gid)

    assert not api.failures, "\n".join(api.failures)
    assert json_operations(schema) <= api.called, f"never called: {sorted(json_operations(schema) - api.called)}"
