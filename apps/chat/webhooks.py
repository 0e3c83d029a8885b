"""Incoming webhooks: made, renamed, re-keyed and deleted by members with MANAGE_WEBHOOKS in the
channel (each act in the audit log), and executed by whoever holds the URL.

A token is 64 random URL-safe characters, shown once; only its SHA-256 is stored and a presented
token is compared with it in constant time. An execution is rate limited per webhook and goes
through chat's one send path (services.deliver: thread state, automod, mentions, scoring,
notifications, previews) as the webhook: no author, the name and avatar the call gave."""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from apps.core import ratelimit
from apps.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from apps.guilds.models import Channel, Member
from apps.guilds.permissions import Permission
from apps.guilds.selectors import ChannelAccess, access_channel
from apps.guilds.services import record_audit

from . import embeds as embed_rules
from . import services, uploads
from .models import Message, Webhook

MAX_PER_CHANNEL = 15
NAME_MAX = 80
# What a webhook may do in its channel: post, with embeds and previews, and ping @everyone when the
# call's allowed_mentions asks for it (never by default).
WEBHOOK_PERMISSIONS = (Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.EMBED_LINKS
                       | Permission.ATTACH_FILES | Permission.READ_MESSAGE_HISTORY | Permission.MENTION_EVERYONE)
_POSTABLE = (Channel.Type.TEXT, Channel.Type.ANNOUNCEMENT)
# Compared against when the id is unknown, so an unknown id takes as long as a wrong token.
_NO_HASH = hashlib.sha256(b"no webhook").hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(48)


def _name(value) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= NAME_MAX:
        raise ValidationFailed.field("name", gettext("A webhook's name is 1 to %(n)s characters.") % {"n": NAME_MAX})
    return value.strip()


def _managed_channel(actor, channel_id: int) -> ChannelAccess:
    access = access_channel(actor, channel_id)
    if access.channel.guild_id is None or access.channel.type not in _POSTABLE:
        raise NotFound(gettext("Unknown channel."))
    access.require(Permission.MANAGE_WEBHOOKS)
    return access


def managed_webhook(actor, webhook_id: int) -> Webhook:
    """A webhook the actor may manage (MANAGE_WEBHOOKS in its channel); 404 otherwise."""
    webhook = Webhook.objects.select_related("channel__guild").filter(pk=webhook_id).first()
    if webhook is None:
        raise NotFound(gettext("Unknown webhook."), code="unknown_webhook")
    _managed_channel(actor, webhook.channel_id)
    return webhook


def channel_webhooks(actor, channel_id: int) -> list[Webhook]:
    access = _managed_channel(actor, channel_id)
    return list(Webhook.objects.filter(channel=access.channel).select_related("creator"))


def _audit(actor, action: str, webhook: Webhook, **changes) -> None:
    channel = webhook.channel
    record_audit(channel.guild, actor, action, target=webhook,
                 changes={"name": webhook.name, "channel_id": channel.id, "channel": channel.name, **changes})


@transaction.atomic
def create_webhook(*, actor, channel_id: int, name: str) -> tuple[Webhook, str]:
    """A new webhook and its token (the only time the token is told)."""
    name = _name(name)
    access = _managed_channel(actor, channel_id)
    Channel.objects.select_for_update().filter(pk=access.channel.pk).first()  # the count below holds
    if Webhook.objects.filter(channel=access.channel).count() >= MAX_PER_CHANNEL:
        raise Conflict(gettext("A channel has at most %(n)s webhooks.") % {"n": MAX_PER_CHANNEL},
                       code="too_many_webhooks")
    token = _new_token()
    webhook = Webhook.objects.create(channel=access.channel, name=name, creator=actor, token_hash=_hash(token))
    _audit(actor, "webhook_create", webhook)
    return webhook, token


@transaction.atomic
def rename_webhook(*, actor, webhook: Webhook, name: str) -> Webhook:
    name = _name(name)
    managed_webhook(actor, webhook.id)
    if name != webhook.name:
        before = webhook.name
        webhook.name = name
        webhook.save(update_fields=["name"])
        _audit(actor, "webhook_update", webhook, previous_name=before)
    return webhook


@transaction.atomic
def regenerate_token(*, actor, webhook: Webhook) -> tuple[Webhook, str]:
    """A new token; the old URL stops working at once."""
    managed_webhook(actor, webhook.id)
    token = _new_token()
    webhook.token_hash = _hash(token)
    webhook.save(update_fields=["token_hash"])
    _audit(actor, "webhook_token_reset", webhook)
    return webhook, token


@transaction.atomic
def delete_webhook(*, actor, webhook: Webhook) -> None:
    managed_webhook(actor, webhook.id)
    _audit(actor, "webhook_delete", webhook)
    webhook.delete()


# --- execution ---------------------------------------------------------------------------------

def authenticate(webhook_id: int, token: str) -> Webhook:
    """The webhook whose URL this is. An unknown id and a wrong token get the same 404, after the
    same constant-time comparison."""
    webhook = Webhook.objects.select_related("channel__guild").filter(pk=webhook_id).first()
    given = _hash(token if isinstance(token, str) else "")
    if not hmac.compare_digest(given, webhook.token_hash if webhook else _NO_HASH) or webhook is None:
        raise NotFound(gettext("Unknown webhook."), code="unknown_webhook")
    return webhook


@dataclass
class AllowedMentions:
    """Discord's allowed_mentions: who a webhook's message may ping. The text still shows every
    mention; only the pings (mentions, mention_roles, mention_everyone) are narrowed."""

    parse: set[str] = field(default_factory=lambda: {"users", "roles"})
    users: set[int] = field(default_factory=set)
    roles: set[int] = field(default_factory=set)

    def narrow(self, mentions: dict) -> dict:
        return {**mentions,
                "pinged_users": [u for u in mentions["pinged_users"] if "users" in self.parse or u in self.users],
                "pinged_roles": [r for r in mentions["pinged_roles"] if "roles" in self.parse or r.id in self.roles],
                "everyone": mentions["everyone"] and "everyone" in self.parse}


def _ids(value, where: str) -> set[int]:
    if value is None:
        return set()
    if not isinstance(value, list) or len(value) > 100:
        raise ValidationFailed.field(where, gettext("A list of at most 100 ids."))
    out = set()
    for item in value:
        if isinstance(item, bool) or not (isinstance(item, int) or (isinstance(item, str) and item.isdigit())):
            raise ValidationFailed.field(where, gettext("A list of at most 100 ids."))
        out.add(int(item))
    return out


def clean_allowed_mentions(raw) -> AllowedMentions:
    """Checked allowed_mentions; absent, users and roles may be pinged, never @everyone/@here."""
    if raw is None:
        return AllowedMentions()
    if not isinstance(raw, dict) or set(raw) - {"parse", "users", "roles", "replied_user"}:
        raise ValidationFailed.field("allowed_mentions", gettext(
            "allowed_mentions is an object of parse, users, roles and replied_user."))
    parse = raw.get("parse", [])
    if not isinstance(parse, list) or not set(parse) <= {"users", "roles", "everyone"} \
            or not all(isinstance(p, str) for p in parse):
        raise ValidationFailed.field("allowed_mentions.parse", gettext(
            "parse lists some of users, roles and everyone."))
    users, roles = _ids(raw.get("users"), "allowed_mentions.users"), _ids(raw.get("roles"), "allowed_mentions.roles")
    for kind, listed in (("users", users), ("roles", roles)):
        if kind in parse and listed:
            raise ValidationFailed.field(f"allowed_mentions.{kind}", gettext(
                "Give %(kind)s either in parse or as a list of ids, not both.") % {"kind": kind})
    return AllowedMentions(parse=set(parse), users=users, roles=roles)


def _check_rate(webhook: Webhook) -> None:
    """At most WEBHOOK_RATE_COUNT posts per WEBHOOK_RATE_SECONDS window; a refusal says how long is
    left of the window (fixed windows, counted in Redis)."""
    window, limit = settings.WEBHOOK_RATE_SECONDS, settings.WEBHOOK_RATE_COUNT
    now = time.time()
    if ratelimit.hit(f"webhook:{webhook.id}:{int(now // window)}", window=window) > limit:
        wait = max(1, math.ceil(window - now % window))
        raise RateLimited(gettext("This webhook is sending too fast: wait %(n)s seconds.") % {"n": wait},
                          retry_after=wait)


def _poster(webhook: Webhook) -> ChannelAccess:
    """The webhook's access to its channel. Automod judges its messages as if its creator (or,
    once they left, the guild's owner) had sent them; its permissions are WEBHOOK_PERMISSIONS."""
    guild = webhook.channel.guild
    members = Member.objects.select_related("user").prefetch_related("roles").filter(guild=guild)
    member = members.filter(user_id=webhook.creator_id).first() if webhook.creator_id else None
    if member is None:
        member = members.filter(user_id=guild.owner_id).first()
    return ChannelAccess(member=member, permissions=WEBHOOK_PERMISSIONS, channel=webhook.channel)


def execute(*, webhook_id: int, token: str, data, files=()) -> Message:
    """Post a message through a webhook (Discord's execute-webhook body: content, username,
    avatar_url, embeds, allowed_mentions; `files` sent with it, `attachments` describing them)."""
    webhook = authenticate(webhook_id, token)
    if not isinstance(data, Mapping):
        raise ValidationFailed.field("non_field_errors", gettext("The body must be a JSON object."))
    unknown = set(data) - {"content", "username", "avatar_url", "embeds", "allowed_mentions", "tts", "flags",
                           "attachments"}
    if unknown:
        raise ValidationFailed.field(sorted(unknown)[0], gettext("Unknown field."))
    if data.get("attachments") and not files:
        raise ValidationFailed.field("attachments", gettext(
            "Send the files themselves with the message (multipart: payload_json and files[n])."))
    embeds = embed_rules.clean(data.get("embeds"))
    content = data.get("content") if data.get("content") is not None else ""
    content = services._clean_content(content, allow_empty=bool(embeds or files))
    username = data.get("username")
    name = _name(username) if username not in (None, "") else webhook.name
    avatar = data.get("avatar_url")
    avatar = embed_rules.clean_url(avatar, "avatar_url") if avatar not in (None, "") else ""
    allowed = clean_allowed_mentions(data.get("allowed_mentions"))
    _check_rate(webhook)
    msg = Message(author=None, webhook=webhook, webhook_name=name, webhook_avatar_url=avatar, content=content,
                  embeds=embeds)
    poster = _poster(webhook)
    if not files:
        return services.deliver(poster, msg, allowed_mentions=allowed)
    return uploads.send_with_files(
        lambda ids: services.deliver(poster, msg, attachment_ids=ids, allowed_mentions=allowed),
        store=lambda upload: services.store_attachment(channel=webhook.channel, uploader=None, upload=upload),
        files=list(files))
