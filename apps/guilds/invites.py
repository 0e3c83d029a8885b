"""Invites: create, revoke, and join a guild by one. Each checks permission through the engine,
writes in one transaction, records the audit log and publishes after commit, as services.py does."""
from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.errors import Conflict, DomainError, Forbidden, MissingPermission, NotFound, ValidationFailed

from . import events, payloads
from .models import Ban, Channel, Guild, Invite, Member
from .permissions import Permission
from .selectors import access_guild, channel_permissions, moderator_access
from .services import record_audit

MAX_INVITE_AGE = timedelta(days=7)
MAX_INVITE_USES = 100


class InviteUnusable(DomainError):
    status = 410
    code = "invite_unusable"


def _invite_code() -> str:
    return secrets.token_urlsafe(6)[:8]


@transaction.atomic
def create_invite(*, actor, guild: Guild, channel: Channel | None = None, max_uses: int = 0,
                  max_age_seconds: int = 86400) -> Invite:
    access = access_guild(actor, guild.id)
    if channel is not None:
        if channel.guild_id != guild.id:
            raise ValidationFailed.field("channel_id", gettext("That channel belongs to another guild."))
        if not channel_permissions(access.member, channel) & Permission.CREATE_INVITE:
            raise MissingPermission("CREATE_INVITE")
    else:
        access.require(Permission.CREATE_INVITE)
    if not 0 <= max_uses <= MAX_INVITE_USES:
        raise ValidationFailed.field("max_uses", gettext("Between 0 (unlimited) and %(n)s.") % {"n": MAX_INVITE_USES})
    if not 0 <= max_age_seconds <= MAX_INVITE_AGE.total_seconds():
        raise ValidationFailed.field("max_age_seconds", gettext("Between 0 (never expires) and 604800 (7 days)."))
    expires = timezone.now() + timedelta(seconds=max_age_seconds) if max_age_seconds else None
    for _ in range(5):
        try:
            with transaction.atomic():
                invite = Invite.objects.create(code=_invite_code(), guild=guild, channel=channel, creator=actor,
                                               max_uses=max_uses, expires_at=expires)
            break
        except IntegrityError:  # code collision; try another
            continue
    else:
        raise Conflict(gettext("Could not allocate an invite code; try again."), code="invite_code")
    record_audit(guild, actor, "invite_create", target=invite, changes={"code": invite.code})
    events.to_guild(guild.id, events.INVITE_CREATE, payloads.invite_payload(invite))
    return invite


@transaction.atomic
def revoke_invite(*, actor, invite: Invite) -> Invite:
    access = moderator_access(actor, invite.guild_id)
    if invite.creator_id != actor.id:
        access.require(Permission.MANAGE_GUILD)
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
        record_audit(invite.guild, actor, "invite_revoke", target=invite, changes={"code": invite.code})
        events.to_guild(invite.guild_id, events.INVITE_DELETE, payloads.invite_payload(invite))
    return invite


@transaction.atomic
def join_by_invite(*, user, code: str) -> Member:
    """Join the invite's guild. Joining a guild one is already in changes nothing."""
    invite = Invite.objects.select_for_update().select_related("guild").filter(code=code).first()
    if invite is None:
        raise NotFound(gettext("This invite does not exist."), code="unknown_invite")
    existing = Member.objects.filter(guild=invite.guild, user=user).first()
    if existing:
        return existing
    if invite.revoked_at or invite.is_expired:
        raise InviteUnusable(gettext("This invite has expired."), code="invite_expired")
    if invite.is_exhausted:
        raise InviteUnusable(gettext("This invite has reached its maximum number of uses."), code="invite_exhausted")
    if Ban.objects.filter(guild=invite.guild, user=user).exists():
        raise Forbidden(gettext("You are banned from this guild."), code="banned")
    member = Member.objects.create(guild=invite.guild, user=user)
    Invite.objects.filter(pk=invite.pk).update(uses=F("uses") + 1)
    record_audit(invite.guild, user, "member_join", target=member, changes={"invite": invite.code})
    events.to_guild(invite.guild_id, events.MEMBER_ADD, payloads.member_payload(member))
    events.to_user(user.id, events.GUILD_CREATE, payloads.guild_payload(invite.guild))
    return member
