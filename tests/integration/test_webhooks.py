"""Incoming webhooks as their managers and their callers meet them: made and managed with
MANAGE_WEBHOOKS (every act in the audit log), executed with Discord's bodies (JSON or multipart
payload_json) at /api/webhooks/{id}/{token} and /api/v10/..., mentions narrowed by allowed_mentions,
rate limited, and posting through the one send path (automod included)."""
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from apps.chat.models import Attachment, Message, Webhook
from apps.guilds import services as guild_services
from apps.guilds.models import AuditLogEntry
from apps.guilds.permissions import Permission as P
from apps.moderation.models import AutomodRule
from tests.factories import UserFactory, add_member_with, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def general(guild):
    return guild.channels.get(name="general")


def client(user=None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


def make_hook(owner, channel, name="CI") -> dict:
    r = client(owner).post(f"/api/channels/{channel.id}/webhooks", {"name": name}, format="json")
    assert r.status_code == 201, r.json()
    return r.json()


def execute(hook, body, *, token=None, route="/api/webhooks", query="?wait=true", **kw):
    return client().post(f"{route}/{hook['id']}/{token or hook['token']}{query}", body, **({"format": "json"} | kw))


def test_a_webhook_is_made_shown_once_and_posts_with_its_name_avatar_and_bot_tag(owner, general):
    hook = make_hook(owner, general)
    assert hook["url"].endswith(f"/api/webhooks/{hook['id']}/{hook['token']}") and len(hook["token"]) >= 60
    stored = Webhook.objects.get(pk=hook["id"])
    assert hook["token"] not in stored.token_hash  # only a hash is kept
    listed = client(owner).get(f"/api/channels/{general.id}/webhooks").json()
    assert [w["name"] for w in listed] == ["CI"] and "token" not in listed[0]

    r = execute(hook, {"content": "Build **green**", "username": "Deploy bot",
                       "avatar_url": "https://ci.example/avatar.png"})
    assert r.status_code == 200, r.json()
    msg = r.json()
    assert msg["author"]["display_name"] == "Deploy bot" and msg["author"]["bot"] is True
    assert msg["webhook_id"] == hook["id"] and msg["content_html"] == "Build <strong>green</strong>"
    assert msg["author"]["avatar"] is None  # shown once its copy is made, never from the caller's URL
    # Without ?wait the answer is 204, as Discord's; the Discord route is the same view.
    r = execute(hook, {"content": "again"}, route="/api/v10/webhooks", query="")
    assert r.status_code == 204
    assert list(Message.objects.values_list("content", "webhook_name")) == [
        ("Build **green**", "Deploy bot"), ("again", "CI")]


def test_multipart_with_payload_json_is_accepted(owner, general):
    hook = make_hook(owner, general)
    body = {"payload_json": json.dumps({"content": "from multipart", "embeds": [{"title": "T"}]})}
    r = execute(hook, body, format="multipart")
    assert r.status_code == 200, r.json()
    assert r.json()["content"] == "from multipart" and r.json()["embeds"][0]["title"] == "T"
    assert execute(hook, {"payload_json": "{nope"}, format="multipart").json()["error"]["fields"] == {
        "payload_json": ["payload_json is not valid JSON."]}


def test_files_travel_with_the_message_and_a_refused_file_leaves_nothing(owner, general):
    hook = make_hook(owner, general)
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(png, "PNG")
    body = {"payload_json": json.dumps({"attachments": [{"id": 0, "filename": "red.png"}]}),
            "files[1]": SimpleUploadedFile("b.txt", b"second"),
            "files[0]": SimpleUploadedFile("red.png", png.getvalue())}
    r = execute(hook, body, format="multipart")
    assert r.status_code == 200, r.json()
    got = r.json()["attachments"]
    assert [(a["filename"], a["width"]) for a in got] == [("red.png", 40), ("b.txt", None)]  # files[n] order

    before = Attachment.objects.count()
    hostile = {"payload_json": json.dumps({"content": "look"}),
               "files[0]": SimpleUploadedFile("fine.txt", b"fine"),
               "files[1]": SimpleUploadedFile("broken.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)}
    r = execute(hook, hostile, format="multipart")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_image", r.json()
    assert Attachment.objects.count() == before and Message.objects.count() == 1  # the good file went too
    r = execute(hook, {"content": "x", "attachments": [{"id": 0}]})  # described but not sent
    assert r.status_code == 400 and "attachments" in r.json()["error"]["fields"]


def test_a_wrong_or_old_token_is_refused_and_regenerating_invalidates_the_old(owner, general):
    hook = make_hook(owner, general)
    guessed = "x" * len(hook["token"])
    for token in (guessed, hook["token"][:-1] + ("A" if hook["token"][-1] != "A" else "B")):
        r = execute(hook, {"content": "hi"}, token=token)
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_webhook"
    assert client().post(f"/api/webhooks/999999/{hook['token']}", {"content": "hi"}, format="json").status_code == 404
    fresh = client(owner).post(f"/api/webhooks/{hook['id']}/token").json()
    assert fresh["token"] != hook["token"]
    assert execute(hook, {"content": "old"}).status_code == 404
    assert execute(hook, {"content": "new"}, token=fresh["token"]).status_code == 200
    assert not Message.objects.filter(content="old").exists()


def test_managing_needs_manage_webhooks_and_every_act_is_audited(guild, owner, general, alice):
    r = client(alice).post(f"/api/channels/{general.id}/webhooks", {"name": "Mine"}, format="json")
    assert r.status_code == 403 and r.json()["error"]["permission"] == "MANAGE_WEBHOOKS"
    hook = make_hook(owner, general)
    for call in (lambda c: c.get(f"/api/webhooks/{hook['id']}"),
                 lambda c: c.patch(f"/api/webhooks/{hook['id']}", {"name": "x"}, format="json"),
                 lambda c: c.post(f"/api/webhooks/{hook['id']}/token"),
                 lambda c: c.delete(f"/api/webhooks/{hook['id']}")):
        assert call(client(alice)).status_code == 403
    manager = add_member_with(guild, P.MANAGE_WEBHOOKS).user
    c = client(manager)
    assert c.patch(f"/api/webhooks/{hook['id']}", {"name": "Builds"}, format="json").json()["name"] == "Builds"
    assert c.post(f"/api/webhooks/{hook['id']}/token").status_code == 200
    assert c.delete(f"/api/webhooks/{hook['id']}").status_code == 204
    assert not Webhook.objects.exists()
    log = list(AuditLogEntry.objects.filter(guild=guild, action__startswith="webhook").order_by("id")
               .values_list("action", "actor_id", "changes__name"))
    assert log == [("webhook_create", owner.id, "CI"), ("webhook_update", manager.id, "Builds"),
                   ("webhook_token_reset", manager.id, "Builds"), ("webhook_delete", manager.id, "Builds")]
    assert client(owner).post(f"/api/channels/{general.id}/webhooks", {"name": ""}, format="json").status_code == 400


def test_allowed_mentions_decide_who_is_pinged_and_everyone_never_by_default(guild, owner, general, alice, bob):
    team = make_role(guild, name="team", mentionable=False)
    hook = make_hook(owner, general)
    text = f"<@{alice.id}> <@{bob.id}> <@&{team.id}> @everyone"
    plain = execute(hook, {"content": text}).json()
    assert set(plain["mentions"]) == {alice.id, bob.id} and plain["mention_roles"] == [team.id]
    assert plain["mention_everyone"] is False
    narrow = execute(hook, {"content": text, "allowed_mentions": {"parse": [], "users": [str(bob.id)]}}).json()
    assert narrow["mentions"] == [bob.id] and narrow["mention_roles"] == [] and not narrow["mention_everyone"]
    assert f"data-user-id=\"{alice.id}\"" in narrow["content_html"]  # shown, not pinged
    everyone = execute(hook, {"content": text, "allowed_mentions": {"parse": ["everyone"]}}).json()
    assert everyone["mention_everyone"] is True and everyone["mentions"] == []
    for bad in ({"parse": ["users"], "users": [alice.id]}, {"parse": ["all"]}, {"users": "x"}, {"nope": 1}):
        r = execute(hook, {"content": "x", "allowed_mentions": bad})
        assert r.status_code == 400 and any(k.startswith("allowed_mentions") for k in r.json()["error"]["fields"])


@pytest.mark.parametrize(("body", "field"), [
    ({}, "content"),
    ({"content": "x" * 4001}, "content"),
    ({"content": "x", "username": "u" * 81}, "name"),
    ({"content": "x", "avatar_url": "javascript:alert(1)"}, "avatar_url"),
    ({"content": "x", "embeds": [{"title": "t" * 257}]}, "embeds[0].title"),
    ({"content": "x", "embeds": [{"title": "t"}] * 11}, "embeds"),
    ({"content": "x", "surprise": 1}, "surprise"),
    (["not", "an", "object"], "non_field_errors"),
])
def test_malformed_payloads_get_a_clear_400(owner, general, body, field):
    hook = make_hook(owner, general)
    r = execute(hook, body)
    assert r.status_code == 400 and field in r.json()["error"]["fields"], r.json()
    assert not Message.objects.exists()


def test_executing_too_fast_answers_429_with_retry_after(owner, general, settings):
    settings.WEBHOOK_RATE_COUNT, settings.WEBHOOK_RATE_SECONDS = 2, 30
    hook = make_hook(owner, general)
    assert [execute(hook, {"content": str(i)}).status_code for i in range(2)] == [200, 200]
    r = execute(hook, {"content": "3"})
    assert r.status_code == 429
    body = r.json()
    assert 1 <= body["retry_after"] <= 30 and int(r["Retry-After"]) == body["retry_after"]
    assert body["error"]["code"] == "rate_limited" and body["global"] is False
    assert Message.objects.count() == 2


def test_webhook_messages_go_through_automod(guild, owner, general):
    AutomodRule.objects.create(guild=guild, name="No spam", kind=AutomodRule.Kind.KEYWORD, keywords=["casino"],
                               action=AutomodRule.Action.BLOCK)
    hook = make_hook(owner, general)
    r = execute(hook, {"content": "best casino here"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "automod_blocked"
    assert not Message.objects.exists()


def test_a_timed_out_or_departed_creator_does_not_stop_the_webhook(guild, owner, general):
    manager = add_member_with(guild, P.MANAGE_WEBHOOKS, user=UserFactory(username="dev")).user
    hook = make_hook(manager, general)
    guild.members.filter(user=manager).delete()
    assert execute(hook, {"content": "still here"}).status_code == 200


def test_members_send_embeds_with_embed_links_and_bad_ones_are_refused(guild, owner, general, alice):
    url = f"/api/channels/{general.id}/messages"
    r = client(alice).post(url, {"content": "", "embeds": [{"title": "Poll", "color": 255}]}, format="json")
    assert r.status_code == 201 and r.json()["embeds"][0] == {"type": "rich", "title": "Poll", "color": 255}
    r = client(alice).post(url, {"content": "x", "embeds": [{"title": "t", "url": "javascript:alert(1)"}]},
                           format="json")
    assert r.status_code == 400 and r.json()["error"]["fields"] == {
        "embeds[0].url": ["Only http and https links are allowed."]}
    member = guild.members.get(user=alice)
    guild_services.set_overwrite(actor=owner, channel=general, member=member, allow=0, deny=int(P.EMBED_LINKS))
    r = client(alice).post(url, {"content": "x", "embeds": [{"title": "t"}]}, format="json")
    assert r.status_code == 403 and r.json()["error"]["permission"] == "EMBED_LINKS"
    assert Message.objects.count() == 1


def test_slow_mode_does_not_hold_a_webhook(owner, general):
    general.slowmode_seconds = 60
    general.save(update_fields=["slowmode_seconds"])
    hook = make_hook(owner, general)
    assert [execute(hook, {"content": str(i)}).status_code for i in range(3)] == [200, 200, 200]
