"""Automod beyond words: too many mentions, links and invites outside an allow-list, sending too
fast or repeating oneself, accounts and memberships too new to post; and what a blocking rule may
do besides refusing (time the author out, alert a moderator channel). A refused message is never
stored: the sender gets `automod_blocked` with the rule's reason, and nobody else hears of it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.chat.models import Message
from apps.guilds import services as guilds
from apps.guilds.models import AuditLogEntry, Member
from apps.guilds.permissions import Permission
from apps.moderation import services
from apps.moderation.models import Flag
from tests.factories import UserFactory, add_member, make_role
from tests.integration.test_gateway import everyone, text_channel  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("moderators_group")]
P = Permission


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def post(user, channel, content):
    return api_as(user).post(f"/api/channels/{channel.id}/messages", {"content": content}, format="json")


def refused(user, channel, content, reason):
    """The send is refused with the rule's reason, and nothing of it is kept."""
    before = Message.objects.filter(channel=channel).count()
    r = post(user, channel, content)
    assert r.status_code == 400, r.json()
    assert (r.json()["error"]["code"], r.json()["error"]["message"]) == ("automod_blocked", reason)
    assert Message.objects.filter(channel=channel).count() == before


def accepted(user, channel, content):
    r = post(user, channel, content)
    assert r.status_code == 201, r.json()
    return r.json()


def rule(owner, guild, **kw):
    kw.setdefault("action", "block")
    kw.setdefault("name", kw.get("kind", "rule"))
    return services.create_automod_rule(actor=owner, guild=guild, **kw)


def test_mention_spam_is_refused_over_the_limit(guild, owner, alice, bob):  # noqa: F811
    general = text_channel(guild)
    others = [add_member(guild, user=UserFactory(username=f"fan{i}")).user for i in range(4)]
    rule(owner, guild, kind="mention_spam", limit=3, reason="Too many mentions.")
    accepted(alice, general, "@fan0 @fan1 @fan2 come listen")
    refused(alice, general, "@fan0 @fan1 @fan2 @fan3 come listen", "Too many mentions.")
    refused(alice, general, f"<@{others[0].id}> <@{others[1].id}> @bob @everyone hi", "Too many mentions.")
    accepted(alice, general, "@fan0 @fan0 @FAN0 @fan1 the same people count once")


def test_links_outside_the_allow_list_are_refused(guild, owner, alice):  # noqa: F811
    general = text_channel(guild)
    rule(owner, guild, kind="links", allowed_domains=["smartc.example", "WWW.Wikipedia.org"], reason="No links.")
    refused(alice, general, "free stuff at https://evil.example/win", "No links.")
    refused(alice, general, "or www.evil.example", "No links.")
    refused(alice, general, "sneaky https://smartc.example.evil.example/", "No links.")
    accepted(alice, general, "notes at https://docs.smartc.example/mixing and https://en.wikipedia.org/wiki/Dub")
    accepted(alice, general, "plain words, even evil.example without a scheme, are no link")


def test_invites_are_refused_unless_their_host_is_allowed(guild, owner, alice):  # noqa: F811
    general = text_channel(guild)
    rule(owner, guild, kind="invites", allowed_domains=["smartc.example"], reason="No invites.")
    refused(alice, general, "join us discord.gg/abcdef", "No invites.")
    refused(alice, general, "https://discord.com/invite/xyz", "No invites.")
    refused(alice, general, "https://other-instance.example/invite/Ab12Cd34", "No invites.")
    accepted(alice, general, "our own: https://smartc.example/invite/Ab12Cd34")
    accepted(alice, general, "an ordinary link https://other-instance.example/tracks/12 is fine")


def test_sending_too_fast_or_repeating_oneself_is_refused(guild, owner, alice, bob):  # noqa: F811
    general = text_channel(guild)
    rule(owner, guild, kind="rate", limit=4, duplicate_limit=2, window_seconds=60, reason="Slow down.")
    accepted(alice, general, "buy my mixtape")
    accepted(alice, general, "BUY  my mixtape")  # the same words count as a duplicate
    refused(alice, general, "buy my mixtape", "Slow down.")
    accepted(alice, general, "sorry")  # the refused message counted towards the window too
    refused(alice, general, "really sorry", "Slow down.")
    accepted(bob, general, "buy my mixtape")  # each member has their own counters
    # Edits send nothing new: they neither count nor are refused by a rate rule.
    mine = Message.objects.filter(author=bob).latest("id")
    for text in ("buy my mixtape!", "buy my mixtape!!", "buy my mixtape!!!", "buy my mixtape?", "ok"):
        r = api_as(bob).patch(f"/api/channels/{general.id}/messages/{mine.id}", {"content": text}, format="json")
        assert r.status_code == 200, r.json()


def test_new_accounts_and_new_members_cannot_post(guild, owner, alice, bob):  # noqa: F811
    general = text_channel(guild)
    rule(owner, guild, kind="new_account", min_account_age_minutes=60, reason="New accounts wait an hour.")
    refused(alice, general, "hi all", "New accounts wait an hour.")
    type(alice).objects.filter(pk=alice.pk).update(date_joined=timezone.now() - timedelta(hours=2))
    accepted(alice, general, "hi all")

    guild.automod_rules.all().delete()
    rule(owner, guild, kind="new_account", min_member_age_minutes=10, reason="New members wait 10 minutes.")
    refused(alice, general, "hello again", "New members wait 10 minutes.")
    Member.objects.filter(guild=guild, user=alice).update(joined_at=timezone.now() - timedelta(minutes=11))
    accepted(alice, general, "hello again")


def test_exempt_roles_and_channels_apply_to_every_kind(guild, owner, alice, bob):  # noqa: F811
    general = text_channel(guild)
    spam = guilds.create_channel(actor=owner, guild=guild, name="spam")
    trusted = make_role(guild, name="trusted")
    Member.objects.get(guild=guild, user=bob).roles.add(trusted)
    rule(owner, guild, kind="links", reason="No links.", exempt_role_ids=[trusted.id], exempt_channel_ids=[spam.id])
    refused(alice, general, "https://evil.example", "No links.")
    accepted(alice, spam, "https://evil.example")
    accepted(bob, general, "https://evil.example")
    accepted(owner, general, "https://evil.example")  # managers of the guild are exempt


def test_a_rule_can_time_the_author_out(guild, owner, alice):  # noqa: F811
    general = text_channel(guild)
    rule(owner, guild, name="no-scams", kind="links", reason="No links.", timeout_seconds=600)
    refused(alice, general, "https://scam.example", "No links.")
    member = Member.objects.get(guild=guild, user=alice)
    assert member.is_timed_out
    assert timezone.now() + timedelta(seconds=590) < member.timed_out_until <= timezone.now() + timedelta(seconds=600)
    entry = AuditLogEntry.objects.get(action="member_timeout", guild=guild)
    assert (entry.actor, entry.target_id, entry.reason) == (owner, member.id, "Automod rule: no-scams")
    r = post(alice, general, "what happened?")
    assert r.status_code == 403 and r.json()["error"]["code"] == "timed_out"


def test_a_rule_can_alert_a_moderator_channel_once_a_minute(guild, owner, alice, bob):  # noqa: F811
    general = text_channel(guild)
    modlog = guilds.create_channel(actor=owner, guild=guild, name="mod-log")
    guilds.set_overwrite(actor=owner, channel=modlog, allow=0, deny=int(P.VIEW_CHANNEL), role=everyone(guild))
    rule(owner, guild, name="invites", kind="invites", reason="No invites.", alert_channel_id=modlog.id)
    refused(alice, general, f"join discord.gg/party and ping <@{bob.id}>", "No invites.")
    refused(alice, general, "discord.gg/party2", "No invites.")  # a second one within a minute: one alert
    [alert] = Message.objects.filter(channel=modlog)
    assert alert.author == owner
    assert "invites" in alert.content and "alice" in alert.content and "discord.gg/party" in alert.content
    assert "#general" in alert.content
    assert not alert.mentions.exists()  # the quoted text pings nobody
    assert not Message.objects.filter(channel=general).exists()


def test_a_flagging_link_rule_lets_the_message_through_to_review(guild, owner, alice):  # noqa: F811
    general = text_channel(guild)
    rule(owner, guild, name="links-to-review", kind="links", action="flag")
    sent = accepted(alice, general, "have a look https://unknown.example/track")
    flag = services.score_message(message_id=sent["id"])
    assert (flag.state, flag.reason) == (Flag.State.OPEN, "Automod rule: links-to-review")


def test_rules_are_checked_when_saved(guild, owner):
    api = api_as(owner)
    url = f"/api/guilds/{guild.id}/automod/rules"
    bad = [
        ({"kind": "rate", "action": "flag", "limit": 3, "window_seconds": 10}, "action"),
        ({"kind": "rate", "action": "block", "window_seconds": 10}, "limit"),
        ({"kind": "mention_spam", "action": "block"}, "limit"),
        ({"kind": "links", "action": "block", "allowed_domains": ["not a host"]}, "allowed_domains"),
        ({"kind": "new_account", "action": "block"}, "min_account_age_minutes"),
        ({"kind": "links", "action": "flag", "timeout_seconds": 60}, "action"),
        ({"kind": "links", "action": "block", "timeout_seconds": 29 * 24 * 3600}, "timeout_seconds"),
        ({"kind": "links", "action": "block", "alert_channel_id": 10**9}, "alert_channel_id"),
    ]
    for body, field in bad:
        r = api.post(url, {"name": "x", **body}, format="json")
        assert r.status_code == 400 and field in r.json()["error"]["fields"], (body, r.json())
    assert not guild.automod_rules.exists()
    r = api.post(url, {"name": "calm", "kind": "rate", "action": "block", "limit": 5, "window_seconds": 10},
                 format="json")
    assert r.status_code == 201
    assert {k: r.json()[k] for k in ("kind", "limit", "window_seconds", "duplicate_limit")} == {
        "kind": "rate", "limit": 5, "window_seconds": 10, "duplicate_limit": None}


def test_only_a_member_who_may_time_out_sets_up_a_timeout_rule(guild, alice):  # noqa: F811
    manager = add_member(guild, roles=[make_role(guild, permissions=P.MANAGE_GUILD)]).user
    r = api_as(manager).post(f"/api/guilds/{guild.id}/automod/rules", {
        "name": "x", "kind": "links", "action": "block", "timeout_seconds": 60}, format="json")
    assert r.status_code == 403 and r.json()["error"]["permission"] == "MODERATE_MEMBERS"


def test_guild_managers_set_thresholds_and_rules_on_the_settings_page(guild, owner, alice):  # noqa: F811
    from django.test import Client

    from apps.moderation.models import Thresholds
    from tests.factories import PASSWORD

    general = text_channel(guild)
    page = Client()
    page.login(username=owner.username, password=PASSWORD)
    url = f"/guilds/{guild.id}/settings/moderation"
    assert page.get(url).status_code == 200
    r = page.post(url, {"thresholds": "1", "review_at": "0.7", "hide_at": "0.4"})
    assert r.status_code == 400 and "Hiding starts at or above the review threshold." in r.content.decode()
    assert page.post(url, {"thresholds": "1", "review_at": "0.3", "hide_at": "0.8"}).status_code == 302
    assert Thresholds.objects.filter(guild=guild, channel=None, review_at=0.3, hide_at=0.8).exists()

    r = page.post(url, {"rule": "1", "name": "links", "kind": "links", "action": "block", "reason": "No links.",
                        "allowed_domains": "smartc.example, wikipedia.org"})
    assert r.status_code == 302
    html = page.get(url).content.decode()
    assert html.count('class="automod-rule"') == 1 and "No links." in html
    refused(alice, general, "https://evil.example", "No links.")
    accepted(alice, general, "https://en.wikipedia.org/wiki/Dub")
    r = page.post(url, {"rule": "1", "name": "bad", "kind": "keyword", "action": "block", "patterns": "(a+)+$"})
    assert r.status_code == 400 and "Nested quantifiers" in r.content.decode()

    rule = guild.automod_rules.get()
    assert page.post(f"{url}/rules/{rule.id}/delete").status_code == 302
    assert not guild.automod_rules.exists()
    accepted(alice, general, "https://evil.example")

    member = Client()
    member.login(username=alice.username, password=PASSWORD)
    assert member.get(url).status_code == 403
