"""Reports: a member reports a message, a track, a track comment or a member of a guild; the
guild's moderators act on it (through the same decisions as the toxicity queue and the guild's
sanction services) or dismiss it, and the reporter is told the outcome (REPORT_UPDATE)."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.chat.models import Message
from apps.chat.selectors import message_in
from apps.core.errors import Conflict, MissingPermission, NotFound, ValidationFailed
from apps.guilds import sanctions
from apps.guilds import services as guilds
from apps.guilds.models import Member
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_channel, channel_permissions, member_of, moderator_access
from apps.tracks import services as tracks
from apps.tracks.models import TrackComment
from apps.tracks.selectors import readable_track

from . import events, payloads, services
from .models import Flag, Report

DETAILS_MAX = 1000
K = Report.Kind


def _not_found() -> NotFound:
    # One answer for "does not exist" and "you cannot see it": a report never reveals an item.
    return NotFound(gettext("Nothing to report there."), code="not_found")


def _item(reporter, kind: str, item_id: int, guild_id: int | None) -> dict:
    """The reported item as the reporter can see it, or not_found."""
    try:
        if kind == K.MESSAGE:
            msg = Message.objects.select_related("channel").filter(pk=item_id).first()
            if msg is None or msg.channel.guild_id is None:
                raise _not_found()
            msg = message_in(msg.channel, item_id, viewer=access_channel(reporter, msg.channel_id))
            return {"guild_id": msg.channel.guild_id, "message": msg, "reported_user_id": msg.author_id,
                    "content": msg.content}
        if kind == K.TRACK:
            track = readable_track(reporter, item_id)
            return {"guild_id": track.guild_id, "track": track, "reported_user_id": track.owner_id,
                    "content": f"{track.title}\n{track.description}".strip()}
        if kind == K.TRACK_COMMENT:
            comment = TrackComment.objects.filter(pk=item_id).first()
            if comment is None:
                raise _not_found()
            track = readable_track(reporter, comment.track_id)
            return {"guild_id": track.guild_id, "comment": comment, "track": track,
                    "reported_user_id": comment.author_id, "content": comment.body}
        if kind == K.USER:
            if guild_id is None or member_of(reporter, guild_id) is None:
                raise _not_found()
            member = Member.objects.select_related("user").filter(guild_id=guild_id, user_id=item_id).first()
            if member is None:
                raise _not_found()
            return {"guild_id": guild_id, "reported_user_id": member.user_id, "content": ""}
    except NotFound:
        raise _not_found() from None
    raise ValidationFailed.field("type", gettext("One of message, track, track_comment, user."))


def report(*, reporter, kind: str, item_id: int, category: str, details: str = "",
           guild_id: int | None = None) -> tuple[Report, bool]:
    """File a report (any member who can see the item). A second report of the same item by the
    same reporter while the first is open is the first: (report, created)."""
    if category not in Report.Category.values:
        raise ValidationFailed.field("reason", gettext("Choose a reason from the list."))
    details = (details or "").strip()
    if len(details) > DETAILS_MAX:
        raise ValidationFailed.field("details", gettext("At most %(n)s characters.") % {"n": DETAILS_MAX})
    item = _item(reporter, kind, item_id, guild_id)
    if item["reported_user_id"] == reporter.id:
        raise ValidationFailed(gettext("You cannot report yourself or what you posted."), code="self_report")
    target = f"{kind}:{item_id}" if kind != K.USER else f"user:{item['guild_id']}:{item_id}"
    existing = Report.objects.filter(reporter=reporter, target=target, state=Report.State.OPEN).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            row = Report.objects.create(
                guild_id=item["guild_id"], reporter=reporter, kind=kind, target=target, message=item.get("message"),
                track=item.get("track") if kind == K.TRACK else None, comment=item.get("comment"),
                reported_user_id=item["reported_user_id"], content=item["content"][:4000], category=category,
                details=details)
    except IntegrityError:  # the same report sent twice at once: the other one won
        return Report.objects.get(reporter=reporter, target=target, state=Report.State.OPEN), False
    return row, True


def my_reports(user, *, limit: int = 100) -> list[Report]:
    return list(Report.objects.filter(reporter=user).order_by("-id")[:limit])


# --- decisions ---------------------------------------------------------------------------------

def _require(actor, report: Report) -> None:
    """MANAGE_MESSAGES where the item is (a message: in its channel), MODERATE_MEMBERS for a
    member report; superusers everywhere (moderator_access)."""
    access = moderator_access(actor, report.guild_id)
    if report.kind == K.MESSAGE and report.message is not None:
        if not channel_permissions(access.member, report.message.channel) & Permission.MANAGE_MESSAGES:
            raise MissingPermission(Permission.MANAGE_MESSAGES.name)
    elif report.kind == K.USER:
        access.require(Permission.MODERATE_MEMBERS)
    else:
        access.require(Permission.MANAGE_MESSAGES)


def _locked(report: Report) -> Report:
    report = (Report.objects.select_for_update(of=("self",))
              .select_related("message__channel", "track", "comment", "reported_user", "guild").get(pk=report.pk))
    if report.state != Report.State.OPEN:
        raise Conflict(gettext("This report has already been decided."), code="already_decided")
    return report


def _close(report: Report, actor, state: str, outcome: str) -> None:
    """Close this report and every other open report of the same item, and tell each reporter."""
    now = timezone.now()
    same = list(Report.objects.select_for_update().filter(target=report.target, state=Report.State.OPEN))
    for row in same:
        row.state, row.outcome, row.decided_at, row.decided_by = state, outcome, now, actor
        row.save(update_fields=["state", "outcome", "decided_at", "decided_by"])
        events.to_user(row.reporter_id, events.REPORT_UPDATE, payloads.report_payload(row))


@transaction.atomic
def dismiss(*, actor, report: Report) -> Report:
    """No rule was broken: the report (and the others of the same item) close as dismissed."""
    _require(actor, report)
    report = _locked(report)
    _close(report, actor, Report.State.DISMISSED,
           gettext("A moderator reviewed your report and took no action."))
    guilds.record_audit(report.guild, actor, "report_dismiss", target=report,
                        changes={"kind": report.kind, "target": report.target, "category": report.category})
    report.refresh_from_db()
    return report


def _flag_for(report: Report) -> Flag:
    """The message's review-queue entry, created from the report when the scorer had not put it
    there, so the decision is the queue's one decision."""
    msg = report.message
    flag = Flag.objects.filter(message=msg).first()
    if flag is None:
        flag = Flag.objects.create(message=msg, guild_id=report.guild_id, channel_id=msg.channel_id,
                                   author_id=msg.author_id, content=msg.content, score=0.0, scorer="report",
                                   state=Flag.State.OPEN,
                                   reason=gettext("Reported: %(category)s") % {"category": report.category})
    elif flag.state in (Flag.State.CLEAN, Flag.State.APPROVED):
        # A report reopens a message the scorer or a moderator let through: it is a new complaint.
        flag.state, flag.decided_at, flag.decided_by, flag.label = Flag.State.OPEN, None, None, ""
        flag.save(update_fields=["state", "decided_at", "decided_by", "label"])
    return flag


def _sanction_user(actor, report: Report, sanction: str, reason: str) -> None:
    user = report.reported_user
    if user is None:
        raise ValidationFailed(gettext("The account no longer exists."), code="author_gone")
    if sanction == "ban":
        sanctions.ban_member(actor=actor, guild=report.guild, user=user, reason=reason)
        return
    member = Member.objects.filter(guild_id=report.guild_id, user_id=user.id).first()
    if member is None:
        raise ValidationFailed(gettext("They are no longer a member of the guild."), code="not_a_member")
    if sanction == "warn":
        services.warn_member(actor=actor, member=member, reason=reason)
    elif sanction == "kick":
        sanctions.kick_member(actor=actor, member=member, reason=reason)
    else:
        sanctions.timeout_member(actor=actor, member=member, duration=services.SANCTIONS[sanction], reason=reason)


@transaction.atomic
def act(*, actor, report: Report, sanction: str | None = None, reason: str = "") -> Report:
    """Remove the reported item (a message through the review queue's `remove`, a track or a
    comment through the tracks services) and optionally sanction its author; a member report takes
    a sanction. All of it happens, or none. The reporters are told that action was taken."""
    if sanction is not None and sanction not in services.SANCTIONS:
        raise ValidationFailed.field("sanction", gettext("Unknown sanction."))
    _require(actor, report)
    report = _locked(report)
    reason = (reason or gettext("Reported for %(category)s") % {"category": report.get_category_display()})[:512]
    if report.kind == K.USER:
        if sanction is None:
            raise ValidationFailed.field("sanction", gettext("A member report is acted on with a sanction."))
        _sanction_user(actor, report, sanction, reason)
    elif report.kind == K.MESSAGE:
        if report.message is None:
            raise ValidationFailed(gettext("The message no longer exists."), code="item_gone")
        flag = _flag_for(report)
        if flag.state == Flag.State.REMOVED:
            if sanction is not None:
                _sanction_user(actor, report, sanction, reason)
        else:
            services.remove(actor=actor, flag=flag, sanction=sanction, reason=reason)
    else:
        if report.kind == K.TRACK and report.track is not None:
            tracks.delete_track(actor=actor, track=report.track)
        elif report.kind == K.TRACK_COMMENT and report.comment is not None:
            tracks.delete_track_comment(actor=actor, track_id=report.comment.track_id, comment_id=report.comment.id)
        if sanction is not None:
            _sanction_user(actor, report, sanction, reason)
    _close(report, actor, Report.State.ACTIONED,
           gettext("Thanks: a moderator reviewed your report and took action."))
    guilds.record_audit(report.guild, actor, "report_action", target=report, reason=reason,
                        changes={"kind": report.kind, "target": report.target, "category": report.category,
                                 "sanction": sanction, "user_id": report.reported_user_id})
    report.refresh_from_db()
    return report
