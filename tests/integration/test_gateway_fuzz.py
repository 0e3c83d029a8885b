"""Hypothesis-made frames against a gateway node served by uvicorn (as production runs it), for each
client op and as raw text: wrong types, deep nesting, sizes near and past the frame limit, unicode
edge cases (NUL, lone surrogates, joiners, right-to-left marks, astral characters).

Every frame is answered by an ERROR frame with a known code, by what the op does, or by a 4xxx
close; never `internal_error` nor 1011. After each one the same socket still answers a heartbeat
and still receives the channel's messages, so odd input never disturbs the socket's other traffic.
"""
from __future__ import annotations

import json
import urllib.request
from contextlib import ExitStack

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.chat import services as chat
from apps.guilds.models import Channel
from apps.realtime.protocol import ID, IDS, PAYLOADS, Op
from tests.factories import UserFactory, add_member, api_token
from tests.servers import running_server

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OP = 12
EDGE_CHARACTERS = ["\x00", "\ud800", "\udfff", "\u200d", "\u202e", "\ufeff", "\uffff", "\U0001f469\u200d\U0001f4bb",
                   "\U0010ffff", "\n", "\\", '"', "é", "e\u0301"]
text = st.one_of(st.text(max_size=20), st.lists(st.sampled_from(EDGE_CHARACTERS), max_size=8).map("".join),
                 st.text(st.characters(), max_size=40))
leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2 ** 80), max_value=2 ** 80),
                 st.floats(allow_nan=False, allow_infinity=False), text)
json_value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                          max_leaves=12)


def field_value(kind: type | str, real: list) -> st.SearchStrategy:
    """A value for one field: a real id now and then, the right type, or anything at all."""
    right = {int: st.integers(), ID: st.integers(), str: text, bool: st.booleans(),
             dict: st.dictionaries(text, json_value, max_size=3), IDS: st.lists(st.integers(), max_size=5)}[kind]
    return st.one_of(*([st.sampled_from(real)] if real else []), right, json_value)


def op_frames(op: Op, real: dict) -> st.SearchStrategy:
    """Frames of one op: its fields (each present or not, of any type), odd `d`s, nesting, sizes."""
    spec = PAYLOADS.get(op, {})
    fields = st.fixed_dictionaries({}, optional={name: field_value(kind, real.get(name, [])) for name, (kind, _) in
                                                 spec.items()})
    extra = st.dictionaries(text, json_value, max_size=2)
    d = st.one_of(st.builds(lambda f, e: {**e, **f}, fields, extra), fields, json_value)
    as_json = st.builds(lambda d, ascii_only: frame_text({"op": int(op), "d": d}, ascii_only), d, st.booleans())
    nested = st.builds(lambda n, bracket: f'{{"op": {int(op)}, "d": {bracket[0] * n}{bracket[1] * n}}}',
                       st.integers(1, 3000), st.sampled_from(["[]", ["{\"a\":", "}"]]))
    nested = nested.map(lambda t: t.replace('{"a":}', '{"a":1}'))
    oversized = st.integers(settings.GATEWAY_MAX_FRAME_BYTES - 200, settings.GATEWAY_MAX_FRAME_BYTES + 200).map(
        lambda n: frame_text({"op": int(op), "d": {"channel_id": 1, "content": "é" * (n // 2)}}, False))
    return st.one_of(as_json, as_json, as_json, nested, oversized)


def frame_text(frame: dict, ascii_only: bool) -> str:
    # A lone surrogate has no UTF-8 form: only its JSON escape can travel.
    text_ = json.dumps(frame, ensure_ascii=ascii_only)
    try:
        text_.encode()
    except UnicodeEncodeError:
        text_ = json.dumps(frame)
    return text_


raw_frames = st.one_of(
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass").decode("utf-8", "replace")),
    st.sampled_from(["", "null", "[]", "{}", '{"op": null}', '{"op": 1e400}', '{"op": 2e9, "d": 1}',
                     '{"op": -1}', '{"op": 6, "d": NaN}', '{"op": 1, "d": Infinity}', '{"op": 1, "op": "x"}',
                     '{"op": 6, "d": {"content": "x"', '"\\ud800"', '{"op": 1, "d": 1.5}']),
    json_value.map(lambda v: frame_text(v, True)),
    st.binary(max_size=64),
)


class Socket:
    """alice's gateway socket; reopened after a 4xxx close."""

    def __init__(self, base: str, cookie: str):
        self.base, self.cookie, self.connection = base, cookie, None
        self.open()

    def open(self):
        self.close()
        self.connection = ExitStack()
        self.ws = self.connection.enter_context(connect(
            self.base.replace("http://", "ws://") + "/ws/gateway/", origin=self.base,
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={self.cookie}"}, open_timeout=10))
        assert self.frame()["op"] == 10
        ready = self.frame()
        assert (ready["op"], ready["t"]) == (0, "READY")

    def close(self):
        if self.connection is not None:
            self.connection.close()

    def frame(self) -> dict:
        return json.loads(self.ws.recv(timeout=10))

    def until(self, done) -> list[dict]:
        """Frames up to the one `done` accepts; none of them an internal error."""
        seen = []
        while True:
            f = self.frame()
            seen.append(f)
            if f["op"] == Op.ERROR:
                assert f["d"]["code"] != "internal_error", f
                assert isinstance(f["d"]["message"], str) and f["d"]["message"], f
            if done(f):
                return seen


def post(base: str, token: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(base + path, method="POST", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def check_frame(sock: Socket, frame: str | bytes, *, fence) -> None:
    """Send one frame, then a heartbeat: everything before the heartbeat's answer is the frame's own
    outcome. A close must be a 4xxx one; then the next frame goes to a new socket."""
    heartbeats = 1 + _is_heartbeat(frame)
    try:
        sock.ws.send(frame)
        sock.ws.send('{"op": 1, "d": null}')
        for _ in range(heartbeats):
            sock.until(lambda f: f["op"] == Op.HEARTBEAT_ACK)
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        assert code is not None and 4000 <= code < 5000, f"closed with {code}"
        sock.open()
    fence(sock)


def _is_heartbeat(frame) -> bool:
    if isinstance(frame, bytes):
        return False  # binary frames are refused whatever they hold
    try:
        data = json.loads(frame)
    except (ValueError, TypeError, RecursionError):
        return False
    d = data.get("d") if isinstance(data, dict) else None
    return (isinstance(data, dict) and data.get("op") == 1 and type(data["op"]) is int
            and (d is None or type(d) is int))


def test_gateway_frames_never_hurt_the_socket(guild, owner):
    alice = add_member(guild, user=UserFactory(username="alice")).user
    general = Channel.objects.get(guild=guild, name="general")
    voice = Channel.objects.filter(guild=guild, type=Channel.Type.VOICE).first()
    message = chat.send_message(author=owner, channel_id=general.id, content="hello")
    real = {"channel_id": [general.id] + ([voice.id] if voice else []), "guild_id": [guild.id],
            "message_id": [message.id], "to": [owner.id], "reply_to": [message.id], "status": ["online", "idle"],
            "action": ["sync", "play", "pause", "stop"], "type": ["offer", "answer", "candidate"]}
    client = Client()
    client.force_login(alice)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    token = api_token(owner)

    sent = []

    def fence(sock: Socket) -> None:
        """A message in the channel still reaches the socket."""
        posted = post(base, token, f"/api/channels/{general.id}/messages", {"content": f"fence {len(sent)}"})
        sent.append(posted["id"])
        sock.until(lambda f: f["t"] == "MESSAGE_CREATE" and f["d"]["id"] == posted["id"])

    # Unlimited frames for this socket, so the fuzzing is never cut short by the rate limit's close.
    with running_server(server="uvicorn", env={"GATEWAY_RATE_LIMIT": "1000000"}) as base:
        sock = Socket(base, cookie)
        try:
            for op in [*PAYLOADS, Op.HEARTBEAT, Op.HELLO, Op.DISPATCH]:
                run = given(frame=op_frames(op, real))(lambda frame: check_frame(sock, frame, fence=fence))
                hypothesis_settings(max_examples=EXAMPLES_PER_OP, deadline=None, database=None,
                                    suppress_health_check=list(HealthCheck))(run)()
            run = given(frame=raw_frames)(lambda frame: check_frame(sock, frame, fence=fence))
            hypothesis_settings(max_examples=3 * EXAMPLES_PER_OP, deadline=None, database=None,
                                suppress_health_check=list(HealthCheck))(run)()
        finally:
            sock.close()
    assert len(sent) >= len(PAYLOADS) * EXAMPLES_PER_OP // 2
