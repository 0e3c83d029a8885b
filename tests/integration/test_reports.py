"""Reports as members and moderators meet them: a member reports a message, a track, a track
comment or another member; what they cannot see answers exactly like what does not exist; the
report waits in the admin's queue, where a moderator removes the item (and sanctions its author)
or dismisses it, and the reporter is told on their socket and in their list of reports."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.chat.models import Message
from apps.guilds.models import AuditLogEntry, Member
from apps.guilds.permissions import Permission
from apps.moderation import report_services
from apps.moderation.models import Flag, Report
from apps.tracks import services as tracks
from apps.tracks.models import Track, TrackComment
from tests.factories import UserFactory, make_guild, make_track
from tests.integration.test_gateway import db, gateway, run_async, secret, send, text_channel  # noqa: F401
from tests.integration.test_moderation import admin_client, moderator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("moderators_group")]
P = Permission


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def report(user, **body):
    return api_as(user).post("/api/reports", {"reason": "harassment", **body}, format="json")


def my_reports(user) -> list[dict]:
    r = api_as(user).get("/api/reports")
    assert r.status_code == 200
    return r.json()


def act(client, action: str, *reports) -> str:
    r = client.post("/admin/moderation/report/", {"action": action, "_selected_action": [x.id for x in reports]},
                    follow=True)
    assert r.status_code == 200
    return r.content.decode()


def test_a_member_reports_a_message_once_and_sees_it_in_their_list(guild, alice, bob):  # noqa: F811
    msg = send(bob, text_channel(guild), "you again? nobody wants you here")
    r = report(alice, type="message", id=msg.id, details="He keeps at it every evening.")
    assert r.status_code == 201, r.json()
    first = r.json()
    assert (first["type"], first["reason"], first["state"], first["guild_id"]) == ("message", "harassment", "open",
                                                                                  guild.id)
    # Reporting it again while it is open is the same report, not a second one.
    again = report(alice, type="message", id=msg.id, reason="spam")
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert [x["id"] for x in my_reports(alice)] == [first["id"]]
    assert my_reports(bob) == []
    row = Report.objects.get()
    assert (row.reported_user, row.content, row.message_id) == (bob, msg.content, msg.id)


def test_what_the_reporter_cannot_see_answers_like_what_does_not_exist(guild, owner, alice, bob, secret):  # noqa: F811
    hidden = send(alice, secret, "only alice and the owner read this")
    outsider_guild = make_guild(name="Elsewhere")
    elsewhere = send(outsider_guild.owner, text_channel(outsider_guild), "hello elsewhere")
    track = make_track(outsider_guild)
    stranger = UserFactory()
    answers = [
        report(bob, type="message", id=hidden.id),
        report(bob, type="message", id=elsewhere.id),
        report(bob, type="message", id=10**9),
        report(bob, type="track", id=track.id),
        report(bob, type="track", id=10**9),
        report(bob, type="track_comment", id=10**9),
        report(bob, type="user", id=stranger.id, guild_id=guild.id),  # not a member there
        report(bob, type="user", id=outsider_guild.owner.id, guild_id=outsider_guild.id),  # bob is not there
    ]
    bodies = {(r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]) for r in answers}
    assert bodies == {(404, "not_found", "Nothing to report there.")}
    assert not Report.objects.exists()


def test_bad_reports_are_refused_with_the_field_named(guild, alice, bob):  # noqa: F811
    msg = send(bob, text_channel(guild), "hello")
    r = report(alice, type="message", id=msg.id, details="x" * 1001)
    assert r.status_code == 400 and "details" in r.json()["error"]["fields"]
    r = report(alice, type="message", id=msg.id, reason="i-just-dislike-it")
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    own = send(alice, text_channel(guild), "mine")
    r = report(alice, type="message", id=own.id)
    assert r.status_code == 400 and r.json()["error"]["code"] == "self_report"
    assert not Report.objects.exists()


@run_async
async def test_a_moderator_removes_a_reported_message_and_times_out_its_author(guild, alice, bob):  # noqa: F811
    general = await db(text_channel)(guild)
    msg = await db(send)(bob, general, "you are all worthless")
    carol = await db(lambda: Member.objects.create(guild=guild, user=UserFactory(username="carol")).user)()
    assert (await db(report)(alice, type="message", id=msg.id)).status_code == 201
    assert (await db(report)(carol, type="message", id=msg.id, reason="hate")).status_code == 201
    mod = await db(moderator)(guild, P.MANAGE_MESSAGES, P.MODERATE_MEMBERS)
    client = await db(admin_client)(mod)
    page = await db(client.get)("/admin/moderation/report/", follow=True)
    assert msg.content in page.content.decode()  # the queue shows the reported item

    async with gateway(alice) as a:
        first = await db(Report.objects.get)(reporter=alice)
        await db(act)(client, "act_timeout_1h", first)
        # The channel hears the message go and bob's timeout, then alice alone hears her outcome.
        seen = [await a.frame(5) for _ in range(3)]
    assert [f["t"] for f in seen] == ["MESSAGE_DELETE", "GUILD_MEMBER_UPDATE", "REPORT_UPDATE"]
    update = seen[-1]["d"]
    assert (update["id"], update["state"]) == (first.id, "actioned")
    # The reporter is told that action was taken, not by whom nor which sanction.
    assert mod.username not in str(update) and "time" not in update["outcome"]

    assert await db(lambda: Message.objects.get(pk=msg.id).visibility)() == "removed"
    assert await db(lambda: Member.objects.get(guild=guild, user=bob).is_timed_out)()
    # Both reports of the message are closed, and each reporter sees the outcome in their list.
    for reporter in (alice, carol):
        [mine] = await db(my_reports)(reporter)
        assert mine["state"] == "actioned" and mine["outcome"]
    flag = await db(Flag.objects.get)(message_id=msg.id)
    assert (flag.state, flag.decided_by_id) == ("removed", mod.id)
    actions = await db(lambda: sorted(AuditLogEntry.objects.filter(actor=mod).values_list("action", flat=True)))()
    assert actions == ["member_timeout", "message_remove", "report_action"]


def test_a_dismissed_report_tells_the_reporter_and_changes_nothing_else(guild, alice, bob):  # noqa: F811
    msg = send(bob, text_channel(guild), "pineapple belongs on pizza")
    report(alice, type="message", id=msg.id, reason="other")
    client = admin_client(moderator(guild, P.MANAGE_MESSAGES))
    act(client, "dismiss_reports", Report.objects.get())
    [mine] = my_reports(alice)
    assert mine["state"] == "dismissed"
    assert Message.objects.get(pk=msg.id).visibility == "visible"
    assert AuditLogEntry.objects.filter(action="report_dismiss", guild=guild).exists()
    # Once decided, it can be reported again: a new complaint.
    assert report(alice, type="message", id=msg.id).status_code == 201


def test_a_moderator_without_the_permission_cannot_decide(guild, alice, bob):  # noqa: F811
    msg = send(bob, text_channel(guild), "meh")
    report(alice, type="message", id=msg.id)
    client = admin_client(moderator(guild, P.MODERATE_MEMBERS))  # no MANAGE_MESSAGES
    page = act(client, "act_remove", Report.objects.get())
    assert "MANAGE_MESSAGES" in page
    assert Report.objects.get().state == "open"
    assert Message.objects.get(pk=msg.id).visibility == "visible"


def test_reported_tracks_comments_and_members_are_acted_on(guild, owner, alice, bob):  # noqa: F811
    track = make_track(guild, bob, title="Spam spam spam", description="buy followers at spam.example")
    comment = tracks.comment_on_track(author=bob, track_id=track.id, body="click my profile for free stuff",
                                      position_ms=1000)
    other = make_track(guild, bob, title="Fine song")
    assert report(alice, type="track", id=track.id, reason="spam").status_code == 201
    assert report(alice, type="track_comment", id=comment.id, reason="spam").status_code == 201
    assert report(alice, type="user", id=bob.id, guild_id=guild.id, reason="spam").status_code == 201
    mod = moderator(guild, P.MANAGE_MESSAGES, P.MANAGE_TRACKS, P.MODERATE_MEMBERS, P.BAN_MEMBERS)
    by_kind = {r.kind: r for r in Report.objects.all()}
    assert by_kind["track"].content.startswith("Spam spam spam")

    report_services.act(actor=mod, report=by_kind["track_comment"])
    assert not TrackComment.objects.filter(pk=comment.pk).exists()
    report_services.act(actor=mod, report=by_kind["track"])
    assert not Track.objects.filter(pk=track.pk).exists() and Track.objects.filter(pk=other.pk).exists()
    with pytest.raises(Exception, match="sanction"):
        report_services.act(actor=mod, report=by_kind["user"])  # a member report needs a sanction
    report_services.act(actor=mod, report=by_kind["user"], sanction="ban")
    assert not Member.objects.filter(guild=guild, user=bob).exists()
    assert guild.bans.filter(user=bob).exists()
    assert sorted(r["state"] for r in my_reports(alice)) == ["actioned"] * 3


def test_the_report_api_needs_a_login():
    r = APIClient().post("/api/reports", {"type": "message", "id": 1, "reason": "spam"}, format="json")
    assert r.status_code == 401


def test_whoever_sees_a_private_channel_can_report_in_it(guild, owner, alice, secret):  # noqa: F811
    hidden = send(alice, secret, "a secret that breaks the rules")
    assert report(owner, type="message", id=hidden.id).status_code == 201


def test_my_reports_page_lists_the_outcomes(guild, alice, bob):  # noqa: F811
    from django.test import Client

    from tests.factories import PASSWORD

    msg = send(bob, text_channel(guild), "spam spam spam")
    report(alice, type="message", id=msg.id, reason="spam")
    report_services.dismiss(actor=guild.owner, report=Report.objects.get())
    page = Client()
    page.login(username=alice.username, password=PASSWORD)
    html = page.get("/reports").content.decode()
    assert html.count('class="my-report report-dismissed"') == 1 and "spam spam spam" in html
    assert "took no action" in html
    assert 'href="/reports"' in page.get("/accounts/profile").content.decode()
