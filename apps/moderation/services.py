"""Every write of moderation: scoring a message, thresholds, and the decisions moderators take in
the review queue (approve, remove, remove and sanction), warnings. Each decision checks the actor's
rights in the one permission engine (apps.guilds.selectors.moderator_access), writes in one
transaction with its audit log entry, and publishes after commit."""
from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.chat import services as chat
from apps.chat.models import Message
from apps.core.errors import Conflict, DomainError, MissingPermission, ValidationFailed
from apps.guilds import services as guilds
from apps.guilds.models import Channel, Guild, Member, Role
from apps.guilds.permissions import Permission
from apps.guilds.selectors import channel_permissions, moderator_access

from . import automod, events
from .models import AutomodRule, Flag, Thresholds, Warning
from .scoring import analyse, get_scorer
from .selectors import automod_rules, matching_rule, thresholds_for

# --- scoring -----------------------------------------------------------------------------------

def score_message(*, message_id: int) -> Flag | None:
    """Score a guild message and act on its channel's thresholds: below review nothing happens
    (the score is kept), from review it waits in the queue, from hide it is also held (hidden
    from all but its author) until a moderator decides. None if there is nothing to score."""
    return score_messages(message_ids=[message_id]).get(message_id)


def score_messages(*, message_ids: list[int]) -> dict[int, Flag | None]:
    """score_message for many messages with one call to the scorer (a model scores a batch much
    faster than its messages one by one). Each message is then decided in its own transaction."""
    msgs = {m.id: m for m in Message.objects.select_related("channel").filter(pk__in=message_ids)}
    scored = {f.message_id: f for f in Flag.objects.filter(message_id__in=list(msgs))}
    out: dict[int, Flag | None] = {}
    todo = []
    for message_id in message_ids:
        msg = msgs.get(message_id)
        if msg is None or msg.channel.guild_id is None or not msg.content:
            out[message_id] = None
        elif message_id in scored and scored[message_id].content == msg.content:
            out[message_id] = scored[message_id]  # already scored as it reads now (a redelivered task)
        else:
            todo.append(msg)
    if not todo:
        return out
    scorer = get_scorer()
    # outside any transaction: the model takes its time
    scores, categories = analyse(scorer, [m.content for m in todo])
    for msg, score, cats in zip(todo, scores, categories, strict=True):
        out[msg.id] = _decide_score(msg.id, msg.content, score, cats, scorer.name)
    return out


def _decide_score(message_id: int, text: str, score: float, categories: dict, scorer_name: str) -> Flag | None:
    with transaction.atomic():
        msg = Message.objects.select_for_update().select_related("channel").filter(pk=message_id).first()
        if msg is None or msg.visibility == Message.Visibility.REMOVED:
            return None
        if msg.content != text:
            return None  # edited while it was scored: the edit queued its own scoring
        flag = Flag.objects.select_for_update().filter(message=msg).first()
        if flag is not None and flag.content == msg.content:
            return flag
        if flag is None:
            flag = Flag(message=msg, guild_id=msg.channel.guild_id, channel_id=msg.channel_id,
                        author_id=msg.author_id)
        review_at, hide_at = thresholds_for(msg.channel)
        hide = score >= hide_at
        held = msg.visibility == Message.Visibility.HELD
        rule = _flagging_rule(msg)
        flag.content, flag.score, flag.scorer, flag.scored_at = msg.content, score, scorer_name, timezone.now()
        flag.categories = categories
        flag.reason = gettext("Automod rule: %(name)s") % {"name": rule.name} if rule else ""
        # An edit is a new text to judge: an earlier decision was about other words. A held message
        # stays in the queue whatever its new score, or editing would be a way out of review.
        flag.state = Flag.State.OPEN if score >= review_at or hide or held or rule else Flag.State.CLEAN
        flag.label, flag.decided_at, flag.decided_by = "", None, None
        flag.auto_hidden = hide or (held and flag.auto_hidden)
        flag.save()
        if hide and not held:
            chat.set_visibility(message=msg, visibility=Message.Visibility.HELD)
            guilds.record_audit(msg.channel.guild, None, "message_auto_hide", target=msg,
                                changes={"flag_id": flag.id, "score": round(score, 4), "scorer": scorer_name,
                                         "author_id": msg.author_id})
    return flag


@transaction.atomic
def set_thresholds(*, actor, guild: Guild, review_at: float, hide_at: float,
                   channel: Channel | None = None) -> Thresholds:
    """A guild's thresholds, or (with `channel`) one channel's override (MANAGE_GUILD)."""
    access = moderator_access(actor, guild.id)
    access.require(Permission.MANAGE_GUILD)
    if channel is not None and channel.guild_id != guild.id:
        raise ValidationFailed.field("channel", gettext("That channel is not in this guild."))
    for name, value in (("review_at", review_at), ("hide_at", hide_at)):
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValidationFailed.field(name, gettext("A threshold is between 0 and 1."))
    if review_at > hide_at:
        raise ValidationFailed.field("hide_at", gettext("Hiding starts at or above the review threshold."))
    row, _ = Thresholds.objects.update_or_create(guild=guild, channel=channel,
                                                 defaults={"review_at": review_at, "hide_at": hide_at})
    guilds.record_audit(guild, actor, "moderation_thresholds", target=channel or guild,
                        changes={"review_at": review_at, "hide_at": hide_at})
    return row


# --- decisions ---------------------------------------------------------------------------------

SANCTIONS = {
    "warn": None,
    "timeout_1h": timedelta(hours=1),
    "timeout_1d": timedelta(days=1),
    "kick": None,
    "ban": None,
}


def _require(actor, flag: Flag, permission: Permission) -> None:
    """The actor holds `permission` in the flagged message's channel (a superuser: everywhere)."""
    access = moderator_access(actor, flag.guild_id)
    if not channel_permissions(access.member, flag.channel) & permission:
        raise MissingPermission(permission.name)


def _locked(flag: Flag) -> Flag:
    # Only the flag row is locked: its author may be gone (a nullable join cannot be locked).
    flag = (Flag.objects.select_for_update(of=("self",)).select_related("message", "channel", "guild", "author")
            .get(pk=flag.pk))
    if flag.state in (Flag.State.APPROVED, Flag.State.REMOVED):
        raise Conflict(gettext("This message has already been reviewed."), code="already_decided")
    return flag


def _decided(flag: Flag, actor, state: str, label: str) -> None:
    flag.state, flag.label, flag.decided_at, flag.decided_by = state, label, timezone.now(), actor
    flag.save(update_fields=["state", "label", "decided_at", "decided_by"])


@transaction.atomic
def approve(*, actor, flag: Flag) -> Flag:
    """Not toxic: the message is shown again to everyone (MANAGE_MESSAGES in its channel)."""
    _require(actor, flag, Permission.MANAGE_MESSAGES)
    flag = _locked(flag)
    _decided(flag, actor, Flag.State.APPROVED, Flag.Label.NOT_TOXIC)
    chat.set_visibility(message=flag.message, visibility=Message.Visibility.VISIBLE)
    guilds.record_audit(flag.guild, actor, "message_approve", target=flag.message,
                        changes={"flag_id": flag.id, "score": round(flag.score, 4), "author_id": flag.author_id})
    return flag


@transaction.atomic
def remove(*, actor, flag: Flag, sanction: str | None = None, reason: str = "") -> Flag:
    """Toxic: the message is removed for good (kept here as evidence), and its author optionally
    warned, timed out, kicked or banned. MANAGE_MESSAGES in the channel, and the sanction's own
    permission (MODERATE_MEMBERS, KICK_MEMBERS, BAN_MEMBERS): all of it happens, or none."""
    if sanction is not None and sanction not in SANCTIONS:
        raise ValidationFailed.field("sanction", gettext("Unknown sanction."))
    _require(actor, flag, Permission.MANAGE_MESSAGES)
    flag = _locked(flag)
    reason = (reason or gettext("Message removed by moderation: “%(text)s”") % {"text": flag.content[:200]})[:512]
    _decided(flag, actor, Flag.State.REMOVED, Flag.Label.TOXIC)
    chat.set_visibility(message=flag.message, visibility=Message.Visibility.REMOVED)
    guilds.record_audit(flag.guild, actor, "message_remove", target=flag.message, reason=reason,
                        changes={"flag_id": flag.id, "score": round(flag.score, 4), "author_id": flag.author_id,
                                 "sanction": sanction})
    if sanction is not None:
        _sanction(actor, flag, sanction, reason)
    return flag


def _sanction(actor, flag: Flag, sanction: str, reason: str) -> None:
    if flag.author is None:
        raise ValidationFailed(gettext("The author's account no longer exists."), code="author_gone")
    if sanction == "ban":
        guilds.ban_member(actor=actor, guild=flag.guild, user=flag.author, reason=reason)
        return
    member = Member.objects.filter(guild_id=flag.guild_id, user_id=flag.author_id).first()
    if member is None:
        raise ValidationFailed(gettext("The author is no longer a member of the guild."), code="not_a_member")
    if sanction == "warn":
        warn_member(actor=actor, member=member, reason=reason, flag=flag)
    elif sanction == "kick":
        guilds.kick_member(actor=actor, member=member, reason=reason)
    else:
        guilds.timeout_member(actor=actor, member=member, duration=SANCTIONS[sanction], reason=reason)


@transaction.atomic
def warn_member(*, actor, member: Member, reason: str, flag: Flag | None = None) -> Warning:
    """Record a warning (MODERATE_MEMBERS) and tell the member on their open sockets."""
    access = moderator_access(actor, member.guild_id)
    access.require(Permission.MODERATE_MEMBERS)
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 512:
        raise ValidationFailed.field("reason", gettext("A warning gives a reason of at most 512 characters."))
    warning = Warning.objects.create(guild_id=member.guild_id, user_id=member.user_id, moderator=actor,
                                     reason=reason, flag=flag)
    guilds.record_audit(access.guild, actor, "member_warn", target=member, reason=reason,
                        changes={"user_id": member.user_id, "warning_id": warning.id})
    events.to_user(member.user_id, events.MEMBER_WARNING, events.warning_payload(warning))
    return warning


# --- automod -----------------------------------------------------------------------------------

class AutomodBlocked(DomainError):
    status = 400
    code = "automod_blocked"


def check_message(*, access, content: str) -> None:
    """Refuse a guild message that breaks one of the guild's blocking automod rules, with the
    rule's reason. Members who manage the guild are exempt, as in Discord."""
    guild_id = access.channel.guild_id
    if guild_id is None or access.permissions & Permission.MANAGE_GUILD or not content:
        return
    rules = automod_rules(guild_id)
    if not rules:
        return
    role_ids = {r.id for r in access.member.roles.all()}
    rule = matching_rule(rules, channel=access.channel, role_ids=role_ids, text=content,
                         action=AutomodRule.Action.BLOCK)
    if rule is not None:
        reason = rule.reason or gettext("This message breaks a rule of this guild.")
        raise AutomodBlocked(reason, fields={"content": [reason]})


def _flagging_rule(msg: Message) -> AutomodRule | None:
    rules = automod_rules(msg.channel.guild_id)
    if not rules:
        return None
    member = Member.objects.filter(guild_id=msg.channel.guild_id, user_id=msg.author_id).first()
    role_ids = set(member.roles.values_list("id", flat=True)) if member else set()
    return matching_rule(rules, channel=msg.channel, role_ids=role_ids, text=msg.content,
                         action=AutomodRule.Action.FLAG)


@transaction.atomic
def create_automod_rule(*, actor, guild: Guild, name: str, action: str, reason: str = "", keywords=(),
                        patterns=(), exempt_role_ids=(), exempt_channel_ids=()) -> AutomodRule:
    """A keyword/regex rule (MANAGE_GUILD). Patterns that could take forever to match are refused
    (`unsafe_pattern`)."""
    access = moderator_access(actor, guild.id)
    access.require(Permission.MANAGE_GUILD)
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed.field("name", gettext("A name has 1 to 100 characters."))
    if action not in AutomodRule.Action.values:
        raise ValidationFailed.field("action", gettext("The action is block or flag."))
    if len(reason or "") > 255:
        raise ValidationFailed.field("reason", gettext("At most 255 characters."))
    keywords, patterns = automod.clean_rule(keywords=list(keywords), patterns=list(patterns))
    roles = list(Role.objects.filter(guild=guild, id__in=list(exempt_role_ids)))
    channels = list(Channel.objects.filter(guild=guild, id__in=list(exempt_channel_ids)))
    if len(roles) != len(set(exempt_role_ids)) or len(channels) != len(set(exempt_channel_ids)):
        raise ValidationFailed(gettext("Exempt roles and channels must belong to this guild."), code="unknown_target")
    rule = AutomodRule.objects.create(guild=guild, name=name, action=action, reason=(reason or "").strip(),
                                      keywords=keywords, patterns=patterns, created_by=actor)
    rule.exempt_roles.set(roles)
    rule.exempt_channels.set(channels)
    guilds.record_audit(guild, actor, "automod_rule_create", target=rule,
                        changes={"name": name, "action": action, "keywords": keywords, "patterns": patterns})
    return rule


@transaction.atomic
def delete_automod_rule(*, actor, rule: AutomodRule) -> None:
    access = moderator_access(actor, rule.guild_id)
    access.require(Permission.MANAGE_GUILD)
    guilds.record_audit(access.guild, actor, "automod_rule_delete", target=rule, changes={"name": rule.name})
    rule.delete()
