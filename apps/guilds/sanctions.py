"""Sanctions on members: time out, kick, ban and unban. Every door (the API, the settings pages,
the admin, automod, the review queue) calls these; each checks the moderator's rank and permission
(a platform superuser acts with the owner's rank: selectors.moderator_access), writes the audit log
and takes effect on open connections at once."""
from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.errors import Conflict, Forbidden, NotFound, ValidationFailed

from . import events, hooks, payloads
from .models import Ban, Guild, Member
from .permissions import Permission
from .selectors import access_guild, moderator_access
from .services import check_outranks, record_audit, remove_member

MAX_TIMEOUT = timedelta(days=28)


@transaction.atomic
def timeout_member(*, actor, member: Member, duration: timedelta | None, reason: str = "") -> Member:
    """Time a member out for `duration` (None lifts the timeout). They keep only reading rights."""
    access = moderator_access(actor, member.guild_id)
    access.require(Permission.MODERATE_MEMBERS)
    check_outranks(access, member, verb="time out")
    if duration is not None:
        if not timedelta(0) < duration <= MAX_TIMEOUT:
            raise ValidationFailed.field("duration", gettext("A timeout lasts between 1 second and 28 days."))
        target = access_guild(member.user, member.guild_id)
        if target.permissions & Permission.ADMINISTRATOR:
            raise Forbidden(gettext("Administrators cannot be timed out."), code="role_hierarchy")
    member.timed_out_until = timezone.now() + duration if duration else None
    member.save(update_fields=["timed_out_until"])
    record_audit(member.guild, actor, "member_timeout" if duration else "member_timeout_lift", target=member,
                 reason=reason, changes={"user_id": member.user_id,
                                         "until": member.timed_out_until.isoformat() if duration else None})
    events.to_guild(member.guild_id, events.MEMBER_UPDATE, payloads.member_payload(member))
    events.to_user(member.user_id, events.PERMISSIONS_CHANGED, payloads.permissions_changed(member.guild_id))
    return member


@transaction.atomic
def kick_member(*, actor, member: Member, reason: str = "") -> None:
    access = moderator_access(actor, member.guild_id)
    access.require(Permission.KICK_MEMBERS)
    if member.user_id == actor.id:
        raise ValidationFailed(gettext("You cannot kick yourself; leave the guild instead."), code="self_action")
    check_outranks(access, member, verb="kick")
    record_audit(member.guild, actor, "member_kick", target=member, reason=reason, changes={"user_id": member.user_id})
    remove_member(member)


@transaction.atomic
def ban_member(*, actor, guild: Guild, user, reason: str = "", delete_message_days: int = 0) -> Ban:
    access = moderator_access(actor, guild.id)
    access.require(Permission.BAN_MEMBERS)
    if user.id == actor.id:
        raise ValidationFailed(gettext("You cannot ban yourself."), code="self_action")
    if not 0 <= delete_message_days <= 7:
        raise ValidationFailed.field("delete_message_days", gettext("Between 0 and 7 days."))
    if len(reason) > 512:
        raise ValidationFailed.field("reason", gettext("At most 512 characters."))
    member = Member.objects.filter(guild=guild, user=user).prefetch_related("roles").first()
    if member:
        check_outranks(access, member, verb="ban")
    elif user.id == guild.owner_id:
        raise Forbidden(gettext("You cannot ban the guild owner."), code="role_hierarchy")
    ban, created = Ban.objects.get_or_create(guild=guild, user=user, defaults={"reason": reason, "banned_by": actor})
    if not created:
        raise Conflict(gettext("That user is already banned."), code="already_banned")
    deleted = 0
    if delete_message_days:
        deleted = hooks.purge_member_messages(guild_id=guild.id, user_id=user.id,
                                        since=timezone.now() - timedelta(days=delete_message_days))
    record_audit(guild, actor, "member_ban", target=ban, reason=reason,
                 changes={"user_id": user.id, "delete_message_days": delete_message_days, "deleted_messages": deleted})
    # Announced while the banned user's sockets still listen to the guild: they learn why they leave.
    events.to_guild(guild.id, events.BAN_ADD, payloads.guild_user(guild.id, user.id))
    if member:
        remove_member(member)
    return ban


@transaction.atomic
def unban_member(*, actor, guild: Guild, user) -> None:
    moderator_access(actor, guild.id).require(Permission.BAN_MEMBERS)
    deleted, _ = Ban.objects.filter(guild=guild, user=user).delete()
    if not deleted:
        raise NotFound(gettext("That user is not banned."))
    record_audit(guild, actor, "member_unban", changes={"user_id": user.id})
    events.to_guild(guild.id, events.BAN_REMOVE, payloads.guild_user(guild.id, user.id))
