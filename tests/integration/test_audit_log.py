"""The audit log as a guild's moderators read it: on the settings page and through the API,
filtered by action, actor and time, paginated, exported as CSV or JSON; only with VIEW_AUDIT_LOG;
and append-only in the admin."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.guilds import sanctions
from apps.guilds import services as guilds
from apps.guilds.models import AuditLogEntry, Member
from apps.guilds.permissions import Permission
from tests.factories import PASSWORD, UserFactory, add_member_with
from tests.integration.test_moderation import admin_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("moderators_group")]
P = Permission


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def history(guild, owner, alice, bob):  # noqa: F811
    """A few things done in the guild by the owner and by a moderator, oldest first."""
    mod = add_member_with(guild, P.MODERATE_MEMBERS, P.VIEW_AUDIT_LOG, user=UserFactory(username="mod")).user
    guilds.create_channel(actor=owner, guild=guild, name="news")
    sanctions.timeout_member(actor=mod, member=Member.objects.get(guild=guild, user=alice),
                             duration=timedelta(minutes=5), reason="Cool down, please")
    sanctions.timeout_member(actor=mod, member=Member.objects.get(guild=guild, user=bob),
                             duration=timedelta(minutes=5), reason="You too")
    guilds.create_channel(actor=owner, guild=guild, name="events")
    return mod


def entries(user, guild, **params) -> dict:
    r = api_as(user).get(f"/api/guilds/{guild.id}/audit-log", params)
    assert r.status_code == 200, r.json()
    return r.json()


def test_the_api_filters_by_action_and_actor_and_pages(guild, owner, history):
    mod = history
    timeouts = entries(owner, guild, action="member_timeout")["results"]
    assert [(e["action"], e["actor"]["username"], e["reason"]) for e in timeouts] == [
        ("member_timeout", "mod", "You too"), ("member_timeout", "mod", "Cool down, please")]
    by_owner = entries(mod, guild, actor_id=owner.id)["results"]
    assert {e["action"] for e in by_owner} >= {"channel_create", "guild_create"}
    assert all(e["actor"]["id"] == owner.id for e in by_owner)
    # Newest first, two a page, and the next page continues where the first stopped.
    first = entries(owner, guild, limit=2)
    r = api_as(owner).get(first["next"])
    second = r.json()
    ids = [e["id"] for e in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
    assert first["results"][0]["changes"]["name"] == "events"


def test_the_api_filters_by_time(guild, owner, history):
    AuditLogEntry.objects.filter(guild=guild, action="channel_create", changes__name="news").update(
        created_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    recent = entries(owner, guild, since=since, action="channel_create")["results"]
    assert [e["changes"]["name"] for e in recent] == ["events"]
    old = entries(owner, guild, until=since, action="channel_create")["results"]
    assert [e["changes"]["name"] for e in old] == ["news"]


def test_export_as_csv_and_json_keeps_the_filters(guild, owner, history):
    r = api_as(owner).get(f"/api/guilds/{guild.id}/audit-log/export", {"format": "csv", "action": "member_timeout"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"] == f'attachment; filename="audit-log-{guild.id}.csv"'
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert [(row["action"], row["actor"], row["reason"]) for row in rows] == [
        ("member_timeout", "mod", "You too"), ("member_timeout", "mod", "Cool down, please")]
    assert json.loads(rows[0]["changes"])["user_id"] == Member.objects.get(guild=guild, user__username="bob").user_id

    r = api_as(owner).get(f"/api/guilds/{guild.id}/audit-log/export", {"format": "json", "actor_id": owner.id})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    assert r["Content-Disposition"] == f'attachment; filename="audit-log-{guild.id}.json"'
    data = json.loads(r.content)
    assert data and all(e["actor"]["id"] == owner.id for e in data)
    assert {e["action"] for e in data} >= {"guild_create", "channel_create"}


def test_reading_the_log_needs_view_audit_log(guild, history, alice):  # noqa: F811
    for url in (f"/api/guilds/{guild.id}/audit-log", f"/api/guilds/{guild.id}/audit-log/export?format=json"):
        r = api_as(alice).get(url)
        assert r.status_code == 403 and r.json()["error"]["permission"] == "VIEW_AUDIT_LOG"
        assert api_as(UserFactory()).get(url).status_code == 404  # outsiders do not learn the guild exists
    r = api_as(alice).get(f"/api/guilds/{guild.id}/audit-log/export?format=csv")
    assert r.status_code == 403 and "VIEW_AUDIT_LOG" in r.content.decode()
    page = Client()
    page.login(username=alice.username, password=PASSWORD)
    assert page.get(f"/guilds/{guild.id}/settings/audit-log").status_code == 403
    assert "Audit log" not in page.get(f"/guilds/{guild.id}/settings/invites").content.decode()


def test_the_settings_page_filters_and_pages(guild, owner, history):
    mod = history
    for i in range(60):
        guilds.create_category(actor=owner, guild=guild, name=f"cat{i}")
    page = Client()
    page.login(username=mod.username, password=PASSWORD)
    url = f"/guilds/{guild.id}/settings/audit-log"
    html = page.get(url).content.decode()
    assert html.count('class="audit-entry"') == 50 and "Page 1 of 2" in html
    assert "cat59" in html and "Cool down, please" not in html  # newest first
    html = page.get(url, {"page": 2}).content.decode()
    assert "Cool down, please" in html and "cat0" in html
    html = page.get(url, {"action": "member_timeout"}).content.decode()
    assert html.count('class="audit-entry"') == 2 and "You too" in html and "cat1" not in html
    assert "action=member_timeout" in html  # the export links keep the filter
    html = page.get(url, {"actor": mod.id}).content.decode()
    assert html.count('class="audit-entry"') == 2
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    html = page.get(url, {"since": tomorrow}).content.decode()
    assert 'class="audit-entry"' not in html and "Nothing recorded yet." in html


def test_the_admin_filters_but_never_changes_the_log(guild, owner, history):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = admin_client(staff)
    entry = AuditLogEntry.objects.filter(guild=guild, action="member_timeout").first()
    html = client.get("/admin/guilds/auditlogentry/", {"guild__id__exact": guild.id,
                                                       "actor__id__exact": history.id}).content.decode()
    assert "2 audit log entries" in html or "2 results" in html
    assert client.get(f"/admin/guilds/auditlogentry/{entry.id}/delete/").status_code == 403
    r = client.post(f"/admin/guilds/auditlogentry/{entry.id}/change/", {"reason": "rewritten"})
    assert r.status_code == 403
    client.post("/admin/guilds/auditlogentry/", {"action": "delete_selected", "_selected_action": [entry.id],
                                                     "post": "yes"})
    assert AuditLogEntry.objects.filter(pk=entry.pk, reason=entry.reason).exists()  # still there, unchanged


def test_the_settings_page_names_targets_and_changes_instead_of_ids(guild, owner, alice, bob):  # noqa: F811
    from apps.moderation.services import warn_member

    alice_member = Member.objects.get(guild=guild, user=alice)
    general = guild.channels.get(name="general")
    mods = guilds.create_role(actor=owner, guild=guild, name="Moderators", permissions=int(P.KICK_MEMBERS))
    guilds.set_overwrite(actor=owner, channel=general, role=mods, allow=int(P.MANAGE_MESSAGES), deny=0)
    warning = warn_member(actor=owner, member=alice_member, reason="Keep it civil.")
    sanctions.timeout_member(actor=owner, member=alice_member, duration=timedelta(minutes=5), reason="Cool down")
    sanctions.kick_member(actor=owner, member=Member.objects.get(guild=guild, user=bob), reason="Bye")
    doomed = guilds.create_channel(actor=owner, guild=guild, name="doomed")
    guilds.delete_channel(actor=owner, channel=doomed)

    page = Client()
    page.force_login(owner)
    html = page.get(f"/guilds/{guild.id}/settings/audit-log").content.decode()
    rows = {action: html.split(f"<code>{action}</code>", 1)[1].split("</tr>", 1)[0]
            for action in ("member_warn", "member_timeout", "member_kick", "overwrite_set", "role_create",
                           "channel_delete")}
    warn = rows["member_warn"]
    assert '<td class="audit-target">alice</td>' in warn
    assert "Member:</span> alice" in warn and f"Warning:</span> #{warning.id}" in warn
    assert "{" not in warn and "user_id" not in warn and "member #" not in html  # no Python reprs, no raw ids
    timeout = rows["member_timeout"]
    assert '<td class="audit-target">alice</td>' in timeout and "Until:</span> <time datetime=" in timeout
    assert '<td class="audit-target">bob</td>' in rows["member_kick"]  # gone from the guild, still named
    assert '<td class="audit-target">#general</td>' in rows["overwrite_set"]
    assert "For:</span> Moderators role" in rows["overwrite_set"] and "Allowed:</span> MANAGE_MESSAGES" in rows[
        "overwrite_set"]
    assert '<td class="audit-target">Moderators role</td>' in rows["role_create"]
    assert "Permissions:</span> KICK_MEMBERS" in rows["role_create"]
    assert "doomed" in rows["channel_delete"]  # deleted since: the name it had
    french = page.get(f"/guilds/{guild.id}/settings/audit-log", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Pour:</span> rôle Moderators" in french
    # The API and the exports keep the raw data.
    raw = api_as(owner).get(f"/api/guilds/{guild.id}/audit-log", {"action": "member_warn"}).json()["results"][0]
    assert raw["changes"] == {"user_id": alice.id, "warning_id": warning.id}
    assert (raw["target_type"], raw["target_id"]) == ("member", alice_member.id)


def test_the_page_reads_the_names_in_a_few_queries(guild, owner, alice, django_assert_max_num_queries):  # noqa: F811
    alice_member = Member.objects.get(guild=guild, user=alice)
    for i in range(20):
        sanctions.timeout_member(actor=owner, member=alice_member, duration=timedelta(minutes=i + 1))
        guilds.create_role(actor=owner, guild=guild, name=f"r{i}")
    page = Client()
    page.force_login(owner)
    page.get(f"/guilds/{guild.id}/settings/audit-log")
    with django_assert_max_num_queries(30):
        assert page.get(f"/guilds/{guild.id}/settings/audit-log").status_code == 200


def test_the_page_never_names_a_channel_its_reader_cannot_see(guild, owner):
    mod = add_member_with(guild, P.VIEW_AUDIT_LOG, user=UserFactory(username="auditor")).user
    secret = guilds.create_channel(actor=owner, guild=guild, name="war-room")
    everyone = guild.roles.get(is_default=True)
    guilds.set_overwrite(actor=owner, channel=secret, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    general = guild.channels.get(name="general")
    guilds.reorder_channels(actor=owner, guild=guild, order=[(secret.id, None), (general.id, None)])
    page = Client()
    page.force_login(mod)
    html = page.get(f"/guilds/{guild.id}/settings/audit-log").content.decode()
    assert "channel_reorder" in html and "#general" in html
    assert "war-room" not in html and "a channel you cannot see" in html
