"""Web Push with a real receiving end: a member subscribes a device over the API, a message is sent,
a real Celery worker decides and pushes, and the local push service (tests/push.py) checks the
VAPID JWT and decrypts the payload with the device's own key. A push service that says the
subscription is gone deletes it; one that fails or does not answer is tried again; a member with a
tab in use gets no push. Subscriptions with bad input are refused, and nothing is stored."""
import asyncio
import json
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from apps.chat import services as chat
from apps.chat.models import Message
from apps.dms import services as dms
from apps.notifications import services
from apps.notifications.models import PushSubscription
from apps.realtime import presence
from tests.factories import UserFactory, add_member, make_guild
from tests.integration.test_body_limits import call, declared
from tests.integration.test_events import Listener
from tests.push import Device, PushService, verify_vapid
from tests.servers import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def worker():
    """One worker for the module, on the `default` queue, waiting at most 1 s for a push service."""
    with celery_worker(queues="default", env={"PUSH_TIMEOUT": "1"}) as proc:
        yield proc


@pytest.fixture
def push_service():
    service = PushService(hang_seconds=3).start()
    yield service
    service.stop()


@pytest.fixture
def people(db):
    alice = UserFactory(username="alice", display_name="Alice")
    bob = UserFactory(username="bob", display_name="Bob")
    guild = make_guild(alice, name="Synth Lab")
    add_member(guild, bob)
    return {"alice": alice, "bob": bob, "guild": guild, "general": guild.channels.get(name="general")}


def subscribe(user, device: Device, **headers):
    api = APIClient()
    api.force_authenticate(user)
    return api.post("/api/push/subscriptions", device.subscription(), format="json", **headers)


def checked(push: dict, device: Device, origin: str) -> dict:
    """The push's payload, once its VAPID JWT and encoding hold."""
    headers = {k.lower(): v for k, v in push["headers"].items()}
    verify_vapid(headers["authorization"], public_key=settings.VAPID_PUBLIC_KEY, origin=origin,
                 subject=settings.VAPID_SUBJECT)
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == str(settings.PUSH_TTL)
    assert headers["urgency"] == "high"
    return device.decrypt(push["body"])


def test_a_dm_reaches_a_device_with_no_tab_open(worker, push_service, people):
    alice, bob = people["alice"], people["bob"]
    device = push_service.device("bob-phone")
    answer = subscribe(bob, device, HTTP_USER_AGENT="Firefox on a phone", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 201
    sub = PushSubscription.objects.get(user=bob)
    assert (sub.endpoint, sub.user_agent, sub.language) == (device.endpoint, "Firefox on a phone", "fr")

    dm, _ = dms.open_dm(user=alice, recipient_id=bob.id)
    msg = chat.send_message(author=alice, channel_id=dm.id, content="See you at **8**?")
    [push] = push_service.wait("bob-phone")
    payload = checked(push, device, push_service.origin)
    assert payload["title"] == "Alice"
    assert payload["body"] == "See you at 8?"
    assert payload["url"] == f"/channels/@me/{dm.id}?around={msg.id}"
    assert payload["tag"] == f"msg-{msg.id}"
    assert (payload["message_id"], payload["channel_id"], payload["reason"]) == (msg.id, dm.id, "dm")

    sub.refresh_from_db()
    assert sub.last_used_at is not None

    # Files only: said in the language the device subscribed in.
    upload = SimpleUploadedFile("setlist.txt", b"1. intro\n2. outro\n", content_type="text/plain")
    att = chat.upload_attachment(uploader=alice, channel_id=dm.id, upload=upload)
    files = chat.send_message(author=alice, channel_id=dm.id, content="", attachment_ids=[att.id])
    pushes = push_service.wait("bob-phone", 2)
    payload = checked(pushes[1], device, push_service.origin)
    assert (payload["message_id"], payload["body"], payload["text"], payload["files"]) == (
        files.id, "A envoyé un fichier", "", 1)


def test_a_guild_mention_is_pushed_in_the_devices_language_and_a_tab_in_use_gets_none(worker, push_service,
                                                                                       people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    device = push_service.device("bob-laptop")
    assert subscribe(bob, device, HTTP_ACCEPT_LANGUAGE="fr").status_code == 201
    chat.send_message(author=alice, channel_id=general.id, content="just chatting")  # pings nobody
    mention = chat.send_message(author=alice, channel_id=general.id, content="@bob the **release** is out")
    [push] = push_service.wait("bob-laptop")
    payload = checked(push, device, push_service.origin)
    assert (payload["title"], payload["body"]) == ("Alice (#general, Synth Lab)", "@Bob the release is out")
    assert payload["url"] == f"/guilds/{general.guild_id}/channels/{general.id}?around={mention.id}"

    # Bob opens a tab (online): his sockets hear of the next mention, his device does not.
    async def online(status):
        await presence.store().update(bob.id, "bob-tab", status, 60)
        await presence.store().close()
    asyncio.run(online(presence.ONLINE))
    sockets = Listener(f"user.{bob.id}")
    try:
        again = chat.send_message(author=alice, channel_id=general.id, content="@bob still there?")
        event = sockets.receive(timeout=30)
        assert (event["t"], event["d"]["message_id"]) == ("NOTIFICATION_CREATE", again.id)
        # Idle (no input for a while): away from the desk, so the device hears again.
        asyncio.run(online(presence.IDLE))
        third = chat.send_message(author=alice, channel_id=general.id, content="@bob hello?")
        pushes = push_service.wait("bob-laptop", 2)
    finally:
        sockets.close()
        asyncio.run(online(None))
    assert [checked(p, device, push_service.origin)["message_id"] for p in pushes] == [mention.id, third.id]


def test_a_push_service_answering_410_deletes_the_subscription(worker, push_service, people):
    alice, bob = people["alice"], people["bob"]
    gone = push_service.device("old-browser", 410)
    kept = push_service.device("new-browser")
    assert subscribe(bob, gone).status_code == 201
    assert subscribe(bob, kept).status_code == 201
    dm, _ = dms.open_dm(user=alice, recipient_id=bob.id)
    chat.send_message(author=alice, channel_id=dm.id, content="ping")
    push_service.wait("old-browser")
    push_service.wait("new-browser")
    deadline = time.monotonic() + 10
    while PushSubscription.objects.filter(endpoint=gone.endpoint).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [kept.endpoint]


def test_a_failing_or_silent_push_service_is_tried_again(worker, push_service, people):
    alice, bob = people["alice"], people["bob"]
    device = push_service.device("flaky", 503, "hang", 201)
    assert subscribe(bob, device).status_code == 201
    dm, _ = dms.open_dm(user=alice, recipient_id=bob.id)
    msg = chat.send_message(author=alice, channel_id=dm.id, content="third time lucky")
    pushes = push_service.wait("flaky", 3)
    assert [p["answer"] for p in pushes] == [503, "hang", 201]
    assert checked(pushes[-1], device, push_service.origin)["message_id"] == msg.id
    assert PushSubscription.objects.filter(endpoint=device.endpoint).exists()


def test_a_message_held_before_its_push_leaves_is_not_pushed(push_service, people):
    alice, bob = people["alice"], people["bob"]
    device = push_service.device("bob")
    assert subscribe(bob, device).status_code == 201
    sub = PushSubscription.objects.get(user=bob)
    msg = Message.objects.create(channel=people["general"], author=alice, content="@bob rude", content_html="rude",
                                 visibility=Message.Visibility.HELD)
    assert services.deliver_push(subscription_id=sub.id, message_id=msg.id, reason="mention") == "skipped"
    assert push_service.pushes("bob") == []
    connection.close()


# --- subscriptions: bad input -------------------------------------------------------------------

P256 = Device("https://fcm.googleapis.com/fcm/send/x").subscription()["keys"]


@pytest.mark.parametrize(("body", "field"), [
    ({"endpoint": "not a url", "keys": P256}, "endpoint"),
    ({"endpoint": "ftp://fcm.googleapis.com/x", "keys": P256}, "endpoint"),
    ({"endpoint": "http://fcm.googleapis.com/fcm/send/x", "keys": P256}, "endpoint"),  # not https
    ({"endpoint": "https://evil.example/collect", "keys": P256}, "endpoint"),  # not a push service
    ({"endpoint": "https://user:pw@fcm.googleapis.com/x", "keys": P256}, "endpoint"),
    ({"endpoint": "http://10.0.0.8/push/x", "keys": P256}, "endpoint"),
    ({"endpoint": 42, "keys": P256}, "endpoint"),
    ({"endpoint": "https://fcm.googleapis.com/" + "x" * 2100, "keys": P256}, "endpoint"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/x"}, "keys"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {**P256, "p256dh": "BAAA"}}, "keys.p256dh"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {**P256, "p256dh": "B" + "A" * 86}},
     "keys.p256dh"),  # 65 bytes, but not a point on the curve
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {**P256, "auth": "c2hvcnQ"}}, "keys.auth"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {**P256, "auth": "!!!!!!!!!!!!!!!!!!!!!!"}},
     "keys.auth"),
])
def test_malformed_subscriptions_are_refused(people, body, field):
    api = APIClient()
    api.force_authenticate(people["bob"])
    answer = api.post("/api/push/subscriptions", body, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["code"] == "validation_failed"
    fields = answer.json()["error"]["fields"]
    assert field in fields or field.split(".")[0] in fields, fields
    assert not PushSubscription.objects.exists()


def test_an_oversized_subscription_is_refused_unread(people):
    body = json.dumps({"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": P256, "pad": "x" * 5000}).encode()
    status, _, answer, taken = call("/api/push/subscriptions", headers=declared(len(body)), chunks=[body])
    assert (status, taken) == (413, 0)
    assert json.loads(answer)["error"] == {"code": "request_too_large", "fields": {},
                                           "message": "A push subscription is at most 4 KB."}
    # Without a Content-Length, the body is cut off once it passes the limit.
    status, _, _, taken = call("/api/push/subscriptions", headers=[(b"content-type", b"application/json")],
                               chunks=[body[:3000], body[3000:]])
    assert status == 413
    assert not PushSubscription.objects.exists()


def test_subscriptions_move_with_the_browser_and_can_be_dropped(people, settings):
    alice, bob = people["alice"], people["bob"]
    device = Device("https://updates.push.services.mozilla.com/wpush/v2/abc")
    assert subscribe(bob, device).status_code == 201
    assert subscribe(bob, device).status_code == 200  # the same browser again: refreshed
    assert subscribe(alice, device).status_code == 200  # someone else signed in on it
    assert list(PushSubscription.objects.values_list("user__username", flat=True)) == ["alice"]
    api = APIClient()
    api.force_authenticate(alice)
    assert [s["endpoint"] for s in api.get("/api/push/subscriptions").json()] == [device.endpoint]
    assert api.get("/api/push/vapid-key").json() == {"public_key": settings.VAPID_PUBLIC_KEY}
    answer = api.delete("/api/push/subscriptions", {"endpoint": device.endpoint}, format="json")
    assert answer.status_code == 204
    assert not PushSubscription.objects.exists()
    settings.VAPID_PRIVATE_KEY = ""
    assert api.get("/api/push/vapid-key").status_code == 409
    assert subscribe(bob, device).json()["error"]["code"] == "push_disabled"
    assert not PushSubscription.objects.exists()


# --- as `make run` serves it --------------------------------------------------------------------

MAKE_RUN_SETUP = """
import json, sys, django
django.setup()
from django.conf import settings
from django.test import Client
from tests.factories import api_token
from apps.dms import services as dms
from apps.notifications.models import PushSubscription
from tests.factories import UserFactory, add_member, make_guild
alice, bob = UserFactory(username="alice", display_name="Alice"), UserFactory(username="bob")
guild = make_guild(alice, name="Lounge")
add_member(guild, bob)
dm, _ = dms.open_dm(user=alice, recipient_id=bob.id)
sub = json.loads(sys.argv[1])
PushSubscription.objects.create(user=bob, endpoint=sub["endpoint"], **sub["keys"])
client = Client()
client.force_login(bob)
print(json.dumps({"dm": dm.id, "token": api_token(alice),
                  "bob_session": client.cookies[settings.SESSION_COOKIE_NAME].value}))
"""


def test_make_run_pushes_from_its_own_worker_to_members_with_no_tab_open(push_service, tmp_path):
    """Embedded defaults: no Redis, the worker inside the server, presence in the server's memory."""
    import subprocess
    import sys

    import requests
    from websockets.sync.client import connect

    from tests import servers

    device = push_service.device("make-run")
    env = servers.make_run_env(tmp_path, VAPID_PRIVATE_KEY=settings.VAPID_PRIVATE_KEY,
                               VAPID_SUBJECT=settings.VAPID_SUBJECT, PUSH_HTTP_HOSTS="127.0.0.1")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=servers.ROOT, env=env, check=True)
    setup = subprocess.run([sys.executable, "-c", MAKE_RUN_SETUP, json.dumps(device.subscription())],
                           cwd=servers.ROOT, env=env, check=True, capture_output=True, text=True)
    made = json.loads(setup.stdout.strip().splitlines()[-1])
    with servers.running_server(make_run=env) as base:
        def send(content):
            r = requests.post(f"{base}/api/channels/{made['dm']}/messages", json={"content": content}, timeout=30,
                              headers={"Authorization": f"Token {made['token']}"})
            assert r.status_code == 201, r.text
            return r.json()["id"]

        # Bob's tab is open: his socket hears of the message, his device does not.
        cookie = f"{settings.SESSION_COOKIE_NAME}={made['bob_session']}"
        with connect(base.replace("http://", "ws://") + "/ws/gateway/", origin=base, open_timeout=30,
                     additional_headers={"Cookie": cookie}) as ws:
            ws.recv(timeout=30)  # HELLO
            assert json.loads(ws.recv(timeout=30))["t"] == "READY"
            time.sleep(1.5)  # presence is written in batches
            first = send("are you there?")
            while (frame := json.loads(ws.recv(timeout=30)))["t"] != "NOTIFICATION_CREATE":
                pass
            assert frame["d"]["message_id"] == first
        time.sleep(1.5)
        assert push_service.pushes("make-run") == []
        # His tab closed: the next one is pushed, signed with the configured key.
        second = send("see you tomorrow then")
        [push] = push_service.wait("make-run")
    assert checked(push, device, push_service.origin)["message_id"] == second


def test_vapid_keys_are_made_once(tmp_path):
    from django.core.management import call_command

    from apps.notifications import push as web_push

    path = tmp_path / ".vapid.env"
    call_command("vapid_keys", file=str(path))
    written = path.read_text()
    call_command("vapid_keys", file=str(path))
    assert path.read_text() == written  # kept: devices subscribed with its public key
    keys = dict(line.split("=", 1) for line in written.splitlines() if "=" in line and not line.startswith("#"))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    web_push._vapid.cache_clear()
    with override_settings(VAPID_PRIVATE_KEY=keys["VAPID_PRIVATE_KEY"], VAPID_PUBLIC_KEY=""):
        assert web_push.public_key() == keys["VAPID_PUBLIC_KEY"]
