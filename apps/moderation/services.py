"""Every write of moderation: scoring a message, thresholds, and the decisions moderators take in
the review queue (approve, remove, remove and sanction), warnings. Each decision checks the actor's
rights in the one permission engine (apps.guilds.selectors.moderator_access), writes in one
transaction with its audit log entry, and publishes after commit."""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.chat import services as chat
from apps.chat.models import Message
from apps.core import ratelimit
from apps.core.errors import Conflict, DomainError, MissingPermission, NotFound, ValidationFailed
from apps.guilds import sanctions
from apps.guilds import services as guilds
from apps.guilds.models import Channel, Guild, Member, Role
from apps.guilds.permissions import Permission
from apps.guilds.selectors import channel_permissions, moderator_access, visible_channels
from apps.tracks import services as tracks
from apps.tracks.models import Track, TrackComment

from . import automod, events, payloads, pending
from .models import AutomodRule, Flag, Thresholds, Warning
from .scoring import analyse, get_scorer
from .selectors import applicable_rules, automod_rules, guild_thresholds, matching_rule, thresholds_for

log = logging.getLogger(__name__)

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


def score_pending_messages(*, limit: int | None = None) -> dict[int, Flag | None]:
    """Claim up to `limit` (by default pending.drain_size(): MODERATION_SCORE_BATCH, more when more
    wait) messages waiting for their score and score them in one call to the model (see
    apps.moderation.pending). {} when another worker took them all. If scoring fails the ids go back
    to wait for the next drain."""
    if not pending.enabled():
        return {}
    ids = pending.claim(limit or pending.drain_size())
    if not ids:
        return {}
    try:
        flags = score_messages(message_ids=ids)
    except BaseException:
        pending.release(ids)
        raise
    pending.done(ids)
    return flags


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


def _score_text(text: str) -> tuple[float, str]:
    scorer = get_scorer()
    [score] = scorer.score([text])
    return score, scorer.name


def score_track(*, track_id: int) -> Flag | None:
    """Score a track's title and description with the messages' scorer and its guild's thresholds:
    from review it waits in the queue, from hide it is also held (hidden from all but its owner and
    the guild's MANAGE_TRACKS members) until a moderator decides. None if the track is gone, removed
    or has nothing new to score."""
    track = Track.objects.filter(pk=track_id).first()
    if track is None:
        return None
    text = f"{track.title}\n{track.description}".strip()
    existing = Flag.objects.filter(track_id=track_id).first()
    if existing is not None and existing.content == text:
        return existing
    score, scorer = _score_text(text)  # outside the transaction: the model takes its time
    with transaction.atomic():
        track = Track.objects.select_for_update().select_related("guild").filter(pk=track_id).first()
        if track is None or track.visibility == Track.Visibility.REMOVED:
            return None
        review_at, hide_at = guild_thresholds(track.guild_id)
        hide = score >= hide_at
        held = track.visibility == Track.Visibility.HELD
        # As an edited message: a held track stays in the queue whatever its new score.
        flag, _ = Flag.objects.update_or_create(
            track_id=track_id, kind=Flag.Kind.TRACK,
            defaults={"guild_id": track.guild_id, "author_id": track.owner_id, "content": text, "score": score,
                      "scorer": scorer, "scored_at": timezone.now(), "reason": "",
                      "auto_hidden": hide or (held and existing is not None and existing.auto_hidden),
                      "state": Flag.State.OPEN if score >= review_at or hide or held else Flag.State.CLEAN})
        if hide and not held:
            tracks.set_track_visibility(track=track, visibility=Track.Visibility.HELD)
            guilds.record_audit(track.guild, None, "track_auto_hide", target=track,
                                changes={"flag_id": flag.id, "score": round(score, 4), "scorer": scorer,
                                         "author_id": track.owner_id})
    return flag


def score_track_comment(*, comment_id: int) -> Flag | None:
    """Score a track comment like a message: from review it waits in the queue, from hide it is also
    held (hidden from all but its author) until a moderator decides."""
    comment = TrackComment.objects.select_related("track").filter(pk=comment_id).first()
    if comment is None:
        return None
    existing = Flag.objects.filter(track_comment_id=comment_id).first()
    if existing is not None:
        return existing  # comments are not edited: scored once
    score, scorer = _score_text(comment.body)
    with transaction.atomic():
        comment = (TrackComment.objects.select_for_update(of=("self",)).select_related("track")
                   .filter(pk=comment_id).first())
        if comment is None or comment.visibility == TrackComment.Visibility.REMOVED:
            return None
        review_at, hide_at = guild_thresholds(comment.track.guild_id)
        hide = score >= hide_at
        flag, _ = Flag.objects.get_or_create(
            track_comment=comment, kind=Flag.Kind.TRACK_COMMENT,
            defaults={"guild_id": comment.track.guild_id, "author_id": comment.author_id, "content": comment.body,
                      "score": score, "scorer": scorer, "auto_hidden": hide,
                      "state": Flag.State.OPEN if score >= review_at else Flag.State.CLEAN})
        if hide:
            tracks.set_comment_visibility(comment=comment, visibility=TrackComment.Visibility.HELD)
            guilds.record_audit(comment.track.guild, None, "track_comment_auto_hide", target=comment,
                                changes={"flag_id": flag.id, "score": round(score, 4), "scorer": scorer,
                                         "author_id": comment.author_id, "track_id": comment.track_id})
    return flag


@transaction.atomic
def set_thresholds(*, actor, guild: Guild, review_at: float, hide_at: float,
                   channel: Channel | None = None) -> Thresholds:
    """A guild's thresholds, or (with `channel`) one channel's override (MANAGE_GUILD)."""
    access = moderator_access(actor, guild.id)
    access.require(Permission.MANAGE_GUILD)
    if channel is not None and channel.guild_id != guild.id:
        raise ValidationFailed.field("channel", gettext("That channel is not in this guild."))
    if channel is not None and not channel_permissions(access.member, channel) & Permission.VIEW_CHANNEL:
        raise NotFound(gettext("Unknown channel."), code="unknown_channel")  # as if it did not exist
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
    """The actor holds `permission` in the flagged message's channel, or in the guild for a track
    or a comment (a superuser: everywhere)."""
    access = moderator_access(actor, flag.guild_id)
    perms = channel_permissions(access.member, flag.channel) if flag.channel_id else access.permissions
    if not perms & permission:
        raise MissingPermission(permission.name)


def _locked(flag: Flag) -> Flag:
    # Only the flag row is locked: its author may be gone (a nullable join cannot be locked).
    flag = (Flag.objects.select_for_update(of=("self",))
            .select_related("message", "channel", "guild", "author", "track", "track_comment__track")
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
    if flag.kind == Flag.Kind.MESSAGE:
        chat.set_visibility(message=flag.message, visibility=Message.Visibility.VISIBLE)
    elif flag.kind == Flag.Kind.TRACK_COMMENT and flag.track_comment is not None:
        tracks.set_comment_visibility(comment=flag.track_comment, visibility=TrackComment.Visibility.VISIBLE)
    elif flag.kind == Flag.Kind.TRACK and flag.track is not None:
        tracks.set_track_visibility(track=flag.track, visibility=Track.Visibility.VISIBLE)
    guilds.record_audit(flag.guild, actor, f"{flag.kind}_approve", target=_item(flag),
                        changes={"flag_id": flag.id, "score": round(flag.score, 4), "author_id": flag.author_id})
    return flag


def _item(flag: Flag):
    return {Flag.Kind.MESSAGE: flag.message, Flag.Kind.TRACK: flag.track,
            Flag.Kind.TRACK_COMMENT: flag.track_comment}[flag.kind]


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
    target = _item(flag)
    guilds.record_audit(flag.guild, actor, f"{flag.kind}_remove", target=target, reason=reason,
                        changes={"flag_id": flag.id, "score": round(flag.score, 4), "author_id": flag.author_id,
                                 "sanction": sanction})
    if flag.kind == Flag.Kind.MESSAGE:
        chat.set_visibility(message=flag.message, visibility=Message.Visibility.REMOVED)
    elif flag.kind == Flag.Kind.TRACK_COMMENT and target is not None:
        tracks.set_comment_visibility(comment=target, visibility=TrackComment.Visibility.REMOVED)
    elif flag.kind == Flag.Kind.TRACK and target is not None:
        # As a comment: hidden for good, the row and its audio kept with the flag as evidence.
        tracks.set_track_visibility(track=target, visibility=Track.Visibility.REMOVED)
    if sanction is not None:
        _sanction(actor, flag, sanction, reason)
    return flag


def _sanction(actor, flag: Flag, sanction: str, reason: str) -> None:
    if flag.author is None:
        raise ValidationFailed(gettext("The author's account no longer exists."), code="author_gone")
    if sanction == "ban":
        sanctions.ban_member(actor=actor, guild=flag.guild, user=flag.author, reason=reason)
        return
    member = Member.objects.filter(guild_id=flag.guild_id, user_id=flag.author_id).first()
    if member is None:
        raise ValidationFailed(gettext("The author is no longer a member of the guild."), code="not_a_member")
    if sanction == "warn":
        warn_member(actor=actor, member=member, reason=reason, flag=flag)
    elif sanction == "kick":
        sanctions.kick_member(actor=actor, member=member, reason=reason)
    else:
        sanctions.timeout_member(actor=actor, member=member, duration=SANCTIONS[sanction], reason=reason)


@transaction.atomic
def warn_member(*, actor, member: Member, reason: str, flag: Flag | None = None) -> Warning:
    """Record a warning (MODERATE_MEMBERS) and tell the member on their open sockets."""
    access = moderator_access(actor, member.guild_id)
    access.require(Permission.MODERATE_MEMBERS)
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 512:
        raise ValidationFailed.field("reason", gettext("A warning gives a reason of at most 512 characters."))
    warning = Warning.objects.create(guild=access.guild, user_id=member.user_id, moderator=actor,
                                     reason=reason, flag=flag)
    guilds.record_audit(access.guild, actor, "member_warn", target=member, reason=reason,
                        changes={"user_id": member.user_id, "warning_id": warning.id})
    events.to_user(member.user_id, events.MEMBER_WARNING, payloads.warning_payload(warning))
    return warning


@transaction.atomic
def acknowledge_warning(*, user, warning_id: int) -> Warning:
    """The warned member read the warning: its notice leaves their pages (and their other tabs)."""
    warning = Warning.objects.select_for_update().filter(pk=warning_id, user_id=user.id).first()
    if warning is None:
        raise NotFound(gettext("Unknown warning."))
    if warning.seen_at is None:
        warning.seen_at = timezone.now()
        warning.save(update_fields=["seen_at"])
        events.to_user(user.id, events.MEMBER_WARNING_ACK, payloads.warning_seen(warning))
    return warning


# --- automod -----------------------------------------------------------------------------------

class AutomodBlocked(DomainError):
    status = 400
    code = "automod_blocked"


def check_message(*, access, content: str, edit: bool = False) -> None:
    """Refuse a guild message that breaks one of the guild's blocking automod rules, with the
    rule's reason; nothing of the message is kept. A rule may also time the author out and alert a
    moderator channel: those happen, and are kept, before the refusal. Members who manage the
    guild are exempt, as in Discord."""
    guild_id = access.channel.guild_id
    if guild_id is None or access.permissions & Permission.MANAGE_GUILD:
        return
    rules = automod_rules(guild_id)
    if not rules:
        return
    role_ids = {r.id for r in access.member.roles.all()}
    applicable = applicable_rules(rules, channel=access.channel, role_ids=role_ids, action=AutomodRule.Action.BLOCK)
    K = AutomodRule.Kind
    # Cheapest first; rate counters last, so a message another rule refuses is not counted.
    order = {K.NEW_ACCOUNT: 0, K.RATE: 2}
    for rule in sorted(applicable, key=lambda r: order.get(r.kind, 1)):
        if edit and rule.kind in (K.NEW_ACCOUNT, K.RATE):
            continue  # they judge sending; an edit sends nothing new (its text is judged as usual)
        if rule.kind == K.NEW_ACCOUNT:
            broken = _too_new(rule, access.member)
        elif rule.kind == K.RATE:
            broken = _too_fast(rule, access.member.user_id, content)
        else:
            broken = automod.breaks(rule, content)
        if broken:
            _enforce(rule, access, content)


def _too_new(rule: AutomodRule, member: Member) -> bool:
    now = timezone.now()
    if rule.min_account_age_minutes and member.user.date_joined > now - timedelta(minutes=rule.min_account_age_minutes):
        return True
    return bool(rule.min_member_age_minutes
                and member.joined_at > now - timedelta(minutes=rule.min_member_age_minutes))


def _too_fast(rule: AutomodRule, user_id: int, content: str) -> bool:
    """Counts this message in the rule's window (Redis, fixed windows) for its author, and for its
    text when duplicates are limited."""
    window = rule.window_seconds or 60
    key = f"automod:{rule.id}:{user_id}"
    too_many = bool(rule.limit) and ratelimit.hit(key, window=window) > rule.limit
    if rule.duplicate_limit and content:
        digest = hashlib.sha1(" ".join(content.lower().split()).encode()).hexdigest()[:16]
        too_many = ratelimit.hit(f"{key}:{digest}", window=window) > rule.duplicate_limit or too_many
    return too_many


ALERT_EVERY_SECONDS = 60


def _enforce(rule: AutomodRule, access, content: str) -> None:
    reason = rule.reason or gettext("This message breaks a rule of this guild.")
    member, guild = access.member, access.channel.guild
    if rule.timeout_seconds:
        # The guild owner's rank acts for automod (as a superuser's does in the admin): the
        # timeout is the one sanction service, checked and audited as any other.
        try:
            sanctions.timeout_member(actor=guild.owner, member=member, duration=timedelta(seconds=rule.timeout_seconds),
                                     reason=gettext("Automod rule: %(name)s") % {"name": rule.name})
        except DomainError:
            log.warning("automod rule %s could not time out member %s", rule.id, member.id, exc_info=True)
    if rule.alert_channel_id and cache.add(f"automod-alert:{rule.id}:{member.user_id}", 1, ALERT_EVERY_SECONDS):
        _alert(rule, access, content)
    raise AutomodBlocked(reason, fields={"content": [reason]})


def _alert(rule: AutomodRule, access, content: str) -> None:
    """A message in the rule's alert channel, sent by the guild owner through chat's one send
    service (so it is stored, delivered and permission-checked like any message). At most one per
    rule and member a minute, so a flood of refused messages is one alert. Mentions in the quoted
    text are broken with a zero-width space so that the alert pings nobody."""
    quoted = (content or "").replace("@", "@\u200b").replace("\n", " ")[:300]
    text = gettext("Automod rule “%(rule)s” blocked a message from **%(user)s** in #%(channel)s.") % {
        "rule": rule.name, "user": access.member.user.username, "channel": access.channel.name}
    if quoted:
        text += "\n> " + quoted
    try:
        chat.send_message(author=access.channel.guild.owner, channel_id=rule.alert_channel_id, content=text)
    except DomainError:
        log.warning("automod rule %s could not alert channel %s", rule.id, rule.alert_channel_id, exc_info=True)


def _flagging_rule(msg: Message) -> AutomodRule | None:
    rules = automod_rules(msg.channel.guild_id)
    if not rules:
        return None
    member = Member.objects.filter(guild_id=msg.channel.guild_id, user_id=msg.author_id).first()
    role_ids = set(member.roles.values_list("id", flat=True)) if member else set()
    return matching_rule(rules, channel=msg.channel, role_ids=role_ids, text=msg.content,
                         action=AutomodRule.Action.FLAG)


RULE_LIMIT_MAX = 1000
RULE_WINDOW_MAX = 24 * 3600
RULE_AGE_MAX = 90 * 24 * 60  # minutes


def _bounded(value, field: str, high: int, *, required: bool = False) -> int | None:
    if value is None:
        if required:
            raise ValidationFailed.field(field, gettext("Required for this kind of rule."))
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ValidationFailed.field(field, gettext("A whole number from 1 to %(n)s.") % {"n": high})
    return value


def _rule_settings(kind: str, action: str, *, keywords, patterns, limit, duplicate_limit, window_seconds,
                   allowed_domains, min_account_age_minutes, min_member_age_minutes) -> dict:
    """The fields a rule of `kind` uses, checked; the others left empty."""
    K = AutomodRule.Kind
    if kind not in K.values:
        raise ValidationFailed.field("kind", gettext("Unknown kind of rule."))
    if kind in (K.RATE, K.NEW_ACCOUNT) and action != AutomodRule.Action.BLOCK:
        raise ValidationFailed.field("action", gettext("Rate and new-account rules can only block."))
    out = {"keywords": [], "patterns": [], "limit": None, "duplicate_limit": None, "window_seconds": None,
           "allowed_domains": [], "min_account_age_minutes": None, "min_member_age_minutes": None}
    if kind == K.KEYWORD:
        out["keywords"], out["patterns"] = automod.clean_rule(keywords=list(keywords), patterns=list(patterns))
    elif kind == K.MENTION_SPAM:
        out["limit"] = _bounded(limit, "limit", 100, required=True)
    elif kind in (K.LINKS, K.INVITES):
        out["allowed_domains"] = automod.clean_domains(list(allowed_domains))
    elif kind == K.RATE:
        out["limit"] = _bounded(limit, "limit", RULE_LIMIT_MAX)
        out["duplicate_limit"] = _bounded(duplicate_limit, "duplicate_limit", RULE_LIMIT_MAX)
        out["window_seconds"] = _bounded(window_seconds, "window_seconds", RULE_WINDOW_MAX, required=True)
        if not out["limit"] and not out["duplicate_limit"]:
            raise ValidationFailed.field("limit", gettext("Give a message limit, a duplicate limit, or both."))
    else:
        out["min_account_age_minutes"] = _bounded(min_account_age_minutes, "min_account_age_minutes", RULE_AGE_MAX)
        out["min_member_age_minutes"] = _bounded(min_member_age_minutes, "min_member_age_minutes", RULE_AGE_MAX)
        if not out["min_account_age_minutes"] and not out["min_member_age_minutes"]:
            raise ValidationFailed.field("min_account_age_minutes",
                                         gettext("Give an account age, a membership age, or both."))
    return out


@transaction.atomic
def create_automod_rule(*, actor, guild: Guild, name: str, action: str, reason: str = "", kind: str = "keyword",
                        keywords=(), patterns=(), limit: int | None = None, duplicate_limit: int | None = None,
                        window_seconds: int | None = None, allowed_domains=(),
                        min_account_age_minutes: int | None = None, min_member_age_minutes: int | None = None,
                        timeout_seconds: int = 0,
                        alert_channel_id: int | None = None, exempt_role_ids=(), exempt_channel_ids=()) -> AutomodRule:
    """A rule (MANAGE_GUILD) of one kind: keyword (words and regular expressions; patterns that
    could take forever to match are refused, `unsafe_pattern`), mention_spam, links, invites, rate
    or new_account. A blocking rule may also time the author out and alert a text channel."""
    access = moderator_access(actor, guild.id)
    access.require(Permission.MANAGE_GUILD)
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed.field("name", gettext("A name has 1 to 100 characters."))
    if action not in AutomodRule.Action.values:
        raise ValidationFailed.field("action", gettext("The action is block or flag."))
    if len(reason or "") > 255:
        raise ValidationFailed.field("reason", gettext("At most 255 characters."))
    fields = _rule_settings(kind, action, keywords=keywords, patterns=patterns, limit=limit,
                            duplicate_limit=duplicate_limit, window_seconds=window_seconds,
                            allowed_domains=allowed_domains, min_account_age_minutes=min_account_age_minutes,
                            min_member_age_minutes=min_member_age_minutes)
    if timeout_seconds or alert_channel_id:
        if action != AutomodRule.Action.BLOCK:
            raise ValidationFailed.field("action", gettext("Only a blocking rule times out or alerts."))
    if timeout_seconds:
        access.require(Permission.MODERATE_MEMBERS)  # nobody sets up a sanction they could not give
    timeout_seconds = _bounded(timeout_seconds or None, "timeout_seconds",
                               int(sanctions.MAX_TIMEOUT.total_seconds())) or 0
    alert = None
    # Only channels the actor can view: a hidden one is refused like one that does not exist.
    visible = Channel.objects.filter(guild=guild, id__in=[c.id for c, _ in visible_channels(access.member)])
    if alert_channel_id is not None:
        alert = visible.filter(pk=alert_channel_id, type=Channel.Type.TEXT).first()
        if alert is None:
            raise ValidationFailed.field("alert_channel_id", gettext("Choose a text channel of this guild."))
    roles = list(Role.objects.filter(guild=guild, id__in=list(exempt_role_ids)))
    channels = list(visible.filter(id__in=list(exempt_channel_ids)))
    if len(roles) != len(set(exempt_role_ids)) or len(channels) != len(set(exempt_channel_ids)):
        raise ValidationFailed(gettext("Exempt roles and channels must belong to this guild."), code="unknown_target")
    rule = AutomodRule.objects.create(guild=guild, name=name, action=action, reason=(reason or "").strip(), kind=kind,
                                      timeout_seconds=timeout_seconds, alert_channel=alert, created_by=actor,
                                      **fields)
    rule.exempt_roles.set(roles)
    rule.exempt_channels.set(channels)
    guilds.record_audit(guild, actor, "automod_rule_create", target=rule,
                        changes={"name": name, "kind": kind, "action": action, "timeout_seconds": timeout_seconds,
                                 "alert_channel_id": alert_channel_id,
                                 **{k: v for k, v in fields.items() if v not in (None, [])}})
    return rule


@transaction.atomic
def delete_automod_rule(*, actor, rule: AutomodRule) -> None:
    access = moderator_access(actor, rule.guild_id)
    access.require(Permission.MANAGE_GUILD)
    guilds.record_audit(access.guild, actor, "automod_rule_delete", target=rule, changes={"name": rule.name})
    rule.delete()
