"""Every write to chat: send, edit, delete, react, pin, typing, read acknowledgements, attachments.
Each checks permission through the engine, writes in one transaction, then publishes."""
from __future__ import annotations

import re
import time
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from PIL import UnidentifiedImageError

from apps.core import unavailable
from apps.core.converters import is_id
from apps.core.errors import Conflict, Forbidden, PayloadTooLarge, RateLimited, ValidationFailed
from apps.guilds import selectors as guild_selectors
from apps.guilds.models import Channel, DMRecipient, Member, Role
from apps.guilds.permissions import Permission
from apps.guilds.selectors import ChannelAccess, access_channel, member_color, moderator_channel_access
from apps.guilds.services import record_audit

from . import embeds as embed_rules
from . import events, hooks, markdown, media, payloads, thread_services
from .models import Attachment, Message, Reaction, ReadState, attachment_path

MAX_PINS = 50
TYPING_EVERY_SECONDS = 5
# A send that repeats a nonce of the author's within this long is a retry (Discord: "a few minutes").
NONCE_WINDOW = timedelta(minutes=10)
NONCE_MAX_LENGTH = 64
_AT_NAME = re.compile(r"(?<![\w<&@])@([A-Za-z0-9_.+-]{1,150})")


def _clean_content(content: str, *, allow_empty: bool = False) -> str:
    if not isinstance(content, str):
        raise ValidationFailed.field("content", gettext("A message is text."))
    content = content.strip()
    if not content and not allow_empty:
        raise ValidationFailed.field("content", gettext("A message cannot be empty."))
    if len(content) > settings.MESSAGE_MAX_LENGTH:
        limit = settings.MESSAGE_MAX_LENGTH
        raise ValidationFailed.field("content", gettext("A message is at most %(n)s characters.") % {"n": limit})
    return content


def _resolve_mentions(access: ChannelAccess, content: str) -> tuple[str, dict]:
    """Turn @username into <@id> for the people of the channel (a guild's members, a DM's
    recipients), and work out who is pinged."""
    guild_id = access.channel.guild_id
    people = (Member.objects.filter(guild_id=guild_id) if guild_id is not None
              else DMRecipient.objects.filter(channel_id=access.channel.id)).select_related("user")
    names = set(_AT_NAME.findall(content)) - {"everyone", "here"}
    if names:
        found = {m.user.username.lower(): m.user_id for m in people.filter(user__username__in=names)}
        content = _AT_NAME.sub(lambda m: f"<@{found[m.group(1).lower()]}>" if m.group(1).lower() in found
                               else m.group(0), content)
    user_ids, role_ids, everyone, here = markdown.mentioned_ids(content)
    members = {m.user_id: m.shown_name for m in people.filter(user_id__in=user_ids)}
    can_ping_all = bool(access.permissions & Permission.MENTION_EVERYONE)
    roles = {r.id: r for r in Role.objects.filter(guild_id=guild_id, id__in=role_ids, is_default=False)}
    pinged_roles = [r for r in roles.values() if r.mentionable or can_ping_all]
    return content, {
        "users": members, "roles": {r.id: r.name for r in roles.values()}, "pinged_users": list(members),
        "channels": _linked_channels(access, content),
        "pinged_roles": pinged_roles, "everyone": (everyone or here) and can_ping_all,
    }


def _linked_channels(access: ChannelAccess, content: str) -> dict[int, tuple[str, str]]:
    """The channels a message links to with <#id>: of its guild and viewable by its author (any
    other shows as #unknown, so a link never tells the name of a channel its author cannot see)."""
    wanted = markdown.mentioned_channel_ids(content)
    if not wanted or access.channel.guild_id is None:
        return {}
    return {ch.id: (ch.name, reverse("guilds:channel", args=[ch.guild_id, ch.id]))
            for ch, _ in guild_selectors.visible_channels(access.member) if ch.id in wanted}


def _check_slowmode(access: ChannelAccess) -> None:
    seconds = access.channel.slowmode_seconds
    if not seconds or access.permissions & (Permission.MANAGE_MESSAGES | Permission.MANAGE_CHANNELS):
        return
    key = f"slowmode:{access.channel.id}:{access.member.user_id}"
    if not cache.add(key, time.time() + seconds, timeout=seconds):
        wait = max(1, int((cache.get(key) or time.time()) - time.time() + 0.999))
        message = gettext("Slow mode is on: wait %(n)s seconds before sending again.") % {"n": wait}
        raise RateLimited(message, retry_after=wait)


def send_message(*, author, channel_id: int, content: str, reply_to_id: int | None = None,
                 nonce: str | None = None, attachment_ids: list[int] | None = None,
                 embeds: list | None = None) -> Message:
    """Store a message and publish MESSAGE_CREATE. With a `nonce` the send is idempotent: if the
    author sent one with that nonce to this channel in the last NONCE_WINDOW (a retry after a lost
    answer, or a copy racing the original), that message comes back with `replayed` set, and nothing
    is stored or published. Rich `embeds` need EMBED_LINKS."""
    attachment_ids = _clean_attachment_ids(attachment_ids)
    embed_list = embed_rules.clean(embeds)
    content = _clean_content(content, allow_empty=bool(attachment_ids or embed_list))
    nonce = _clean_nonce(nonce)
    access = access_channel(author, channel_id)
    # Before the checks a retry would fail only because the first try succeeded (slow mode, automod's
    # duplicate rule, attachments already sent).
    sent = _sent_with(nonce, author, access)
    if sent is not None:
        return sent
    thread = thread_services.check_can_post(access)
    access.require(Permission.SEND_MESSAGES)
    if embed_list:
        access.require(Permission.EMBED_LINKS)
    reply = None
    if reply_to_id is not None:
        access.require(Permission.READ_MESSAGE_HISTORY)
        reply = Message.objects.select_related("author").filter(pk=reply_to_id, channel=access.channel).first()
        if reply is None:
            raise ValidationFailed.field("reply_to", gettext("You can only reply to a message of this channel."))
    if attachment_ids:
        access.require(Permission.ATTACH_FILES)
        _check_attachable(author, access.channel, attachment_ids)  # before slow mode counts the send
    try:
        return deliver(access, Message(author=author, content=content, reply_to=reply, nonce=nonce,
                                       embeds=embed_list), attachment_ids=attachment_ids, thread=thread)
    except IntegrityError:
        # A copy of this send with the same nonce committed first (the unique constraint waited for it).
        sent = _sent_with(nonce, author, access)
        if sent is None:
            raise
        return sent


_UNSET = object()


def deliver(access: ChannelAccess, msg: Message, *, attachment_ids: list[int] = (), allowed_mentions=None,
            thread=_UNSET) -> Message:
    """The rules every message goes through, whoever sends it (a member, a webhook): the thread's
    state, automod, mentions, slow mode; then the write, MESSAGE_CREATE, scoring, notifications and
    link previews. `msg` is unsaved, with its author (or webhook), content, reply and embeds set.
    `allowed_mentions` (a webhook's, see webhooks.clean_allowed_mentions) narrows who is pinged."""
    if thread is _UNSET:
        thread = thread_services.check_can_post(access)
    hooks.check_message(access, msg.content)
    content, mentions = _resolve_mentions(access, msg.content)
    if allowed_mentions is not None:
        mentions = allowed_mentions.narrow(mentions)
    if not msg.webhook_name:  # a webhook has its own rate limit (webhooks.execute), not slow mode
        _check_slowmode(access)
    with transaction.atomic():
        msg.channel, msg.content = access.channel, content
        msg.content_html = markdown.render(content, users=mentions["users"], roles=mentions["roles"],
                                           channels=mentions["channels"])
        msg.mention_everyone, msg.attachment_count = mentions["everyone"], len(attachment_ids)
        msg.save()
        if attachment_ids:
            _attach(msg, msg.author, attachment_ids)
        if mentions["pinged_users"]:
            msg.mentions.set(mentions["pinged_users"])
        if mentions["pinged_roles"]:
            msg.mention_roles.set(mentions["pinged_roles"])
        Channel.objects.filter(pk=access.channel.pk).update(last_message_id=msg.id)
        if thread is not None:
            thread_services.record_post(thread, msg)
        _known_empty_relations(msg, mentions, attached=bool(attachment_ids))
        msg.author_color = member_color(access.member) if msg.webhook_name == "" else ""
        events.to_channel(access.channel, events.MESSAGE_CREATE, payloads.message_payload(msg, nonce=msg.nonce))
        hooks.message_written(msg)  # after the event: delivery never waits for scoring
        hooks.message_sent(msg)
        _queue_unfurl(msg, embed_links=bool(access.permissions & Permission.EMBED_LINKS))
    msg.replayed = False
    return msg


def _known_empty_relations(msg: Message, mentions: dict, *, attached: bool) -> None:
    """A message just written has no mention or attachment rows but those deliver() set: the empty
    ones are known without a read. The payloads of MESSAGE_CREATE and of the send's answer read
    them, and most messages have none, so this takes three queries off a send, two of them before
    the publish."""
    known = {}
    if not mentions["pinged_users"]:
        known["mentions"] = msg.mentions.none()
    if not mentions["pinged_roles"]:
        known["mention_roles"] = msg.mention_roles.none()
    if not attached:
        known["attachments"] = msg.attachments.none()
    # Django's prefetch cache: what `msg.<relation>.all()` answers without a query.
    msg._prefetched_objects_cache = known


def _queue_unfurl(msg: Message, *, embed_links: bool) -> None:
    """Once the message commits, the unfurl task copies its embeds' images and previews its links
    (only when its sender may embed links)."""
    links = embed_links and markdown.has_link(msg.content)
    if not (links or msg.embeds or msg.webhook_avatar_url):
        return
    from . import tasks

    message_id = msg.id
    unavailable.after_commit(lambda: tasks.unfurl_message.delay(message_id, links=links),
                             what="queueing the message's link previews")


def _clean_nonce(nonce) -> str | None:
    if nonce is None or nonce == "":
        return None
    if not isinstance(nonce, str) or len(nonce) > NONCE_MAX_LENGTH:
        raise ValidationFailed.field("nonce", gettext("A nonce is a string of at most %(n)s characters.")
                                     % {"n": NONCE_MAX_LENGTH})
    return nonce


def _sent_with(nonce: str | None, author, access: ChannelAccess) -> Message | None:
    """The author's message of the last NONCE_WINDOW in this channel sent with `nonce`, as a retry
    gets it back. An older one keeping the nonce would refuse the new send (the unique constraint):
    its nonce is cleared here, in the same read that looks for a retry (one query per send, not two)."""
    if nonce is None:
        return None
    msg = (Message.objects.select_related("author", "reply_to__author")
           .filter(channel=access.channel, author=author, nonce=nonce).first())
    if msg is None:
        return None
    if msg.created_at < timezone.now() - NONCE_WINDOW:
        Message.objects.filter(pk=msg.pk, nonce=nonce).update(nonce=None)
        return None
    msg.author_color = member_color(access.member)
    msg.replayed = True
    return msg


@transaction.atomic
def edit_message(*, actor, message: Message, content: str) -> Message:
    content = _clean_content(content, allow_empty=message.attachment_count > 0 or bool(message.embeds))
    access = access_channel(actor, message.channel_id)
    if message.author_id != actor.id:
        raise Forbidden(gettext("You can only edit your own messages."), code="not_author")
    access.require(Permission.SEND_MESSAGES)
    hooks.check_message(access, content, edit=True)
    content, mentions = _resolve_mentions(access, content)
    message.content = content
    message.content_html = markdown.render(content, users=mentions["users"], roles=mentions["roles"],
                                           channels=mentions["channels"])
    message.edited_at = timezone.now()
    message.save(update_fields=["content", "content_html", "edited_at"])
    message.mentions.set(list(mentions["users"]))
    message.author_color = member_color(access.member)
    _publish_update(message)
    hooks.message_written(message)
    if message.previews or markdown.has_link(content):  # the previews follow the new links
        _queue_unfurl(message, embed_links=bool(access.permissions & Permission.EMBED_LINKS))
    return message


@transaction.atomic
def delete_message(*, actor, message: Message) -> None:
    """Its author deletes a message, or a moderator (MANAGE_MESSAGES) someone else's: that is in
    the audit log, about the channel (the message is gone, the channel says who may read of it)."""
    if message.author_id == actor.id:
        access = access_channel(actor, message.channel_id)
    else:
        access = moderator_channel_access(actor, message.channel_id)
        access.require(Permission.MANAGE_MESSAGES)
        _audit_message(actor, "message_delete", message, target=access.channel)
    message_id = message.id
    message.delete()
    thread_services.record_delete(access.channel)
    events.to_channel(access.channel, events.MESSAGE_DELETE, payloads.message_deleted(message_id))


def purge_member_messages(*, guild_id: int, user_id: int, since) -> int:
    """Delete a user's messages in a guild's channels (threads included) written since `since`,
    telling each channel (MESSAGE_DELETE). Precondition: inside the caller's transaction, after it
    checked the actor's rights (apps.guilds.sanctions.ban_member's delete_message_days)."""
    doomed = list(Message.objects.select_related("channel").filter(channel__guild_id=guild_id, author_id=user_id,
                                                                 created_at__gte=since))
    Message.objects.filter(pk__in=[m.id for m in doomed]).delete()
    for msg in doomed:
        thread_services.record_delete(msg.channel)
        events.to_channel(msg.channel, events.MESSAGE_DELETE, payloads.message_deleted(msg.id))
    return len(doomed)


def set_visibility(*, message: Message, visibility: str) -> Message:
    """Hold a message for review, remove it, or make it visible again, and tell the sockets.
    Precondition: the caller (apps.moderation.services) has checked the actor's rights."""
    before = message.visibility
    if before == visibility:
        return message
    message.visibility = visibility
    message.save(update_fields=["visibility"])
    channel = message.channel
    if visibility == Message.Visibility.HELD:
        # Everyone drops it; its author (told right after) keeps it, marked as held.
        events.to_channel(channel, events.MESSAGE_DELETE, payloads.message_held(message))
        if message.author_id:
            events.to_user(message.author_id, events.MESSAGE_UPDATE, payloads.author_update(_loaded(message.id)))
    elif visibility == Message.Visibility.REMOVED:
        events.to_channel(channel, events.MESSAGE_DELETE, payloads.message_deleted(message.id))
    elif visibility == Message.Visibility.VISIBLE:
        events.to_channel(channel, events.MESSAGE_UPDATE, payloads.restored(_loaded(message.id)))
    return message


def _check_emoji(emoji: str) -> str:
    """A unicode emoji (with skin tones, ZWJ sequences, flags and keycaps), nothing else."""
    if not isinstance(emoji, str) or not 0 < len(emoji) <= 32:
        raise ValidationFailed.field("emoji", gettext("Use one unicode emoji."))
    for i, ch in enumerate(emoji):
        cat = unicodedata.category(ch)
        keycap = ch in "0123456789#*" and emoji[i + 1: i + 3] in ("\ufe0f\u20e3", "\u20e3")
        if not (cat in ("So", "Sk", "Mn", "Me", "Cf") or keycap or 0x1F3FB <= ord(ch) <= 0x1F3FF):
            raise ValidationFailed.field("emoji", gettext("Use one unicode emoji."))
    return emoji


@transaction.atomic
def add_reaction(*, actor, message: Message, emoji: str) -> bool:
    """React; True if this is a new reaction (adding the same one twice changes nothing)."""
    emoji = _check_emoji(emoji)
    access = access_channel(actor, message.channel_id)
    access.require(Permission.READ_MESSAGE_HISTORY)
    # As in Discord, joining an existing reaction needs no ADD_REACTIONS; starting a new one does.
    if not Reaction.objects.filter(message=message, emoji=emoji).exists():
        access.require(Permission.ADD_REACTIONS)
        if Reaction.objects.filter(message=message).values("emoji").distinct().count() >= 20:
            raise Conflict(gettext("A message has at most 20 different reactions."), code="too_many_reactions")
    _, created = Reaction.objects.get_or_create(message=message, user=actor, emoji=emoji)
    if created:
        events.to_channel(access.channel, events.MESSAGE_REACTION_ADD, payloads.reaction(message.id, actor.id, emoji))
    return created


@transaction.atomic
def remove_reaction(*, actor, message: Message, emoji: str) -> None:
    access = access_channel(actor, message.channel_id)
    deleted, _ = Reaction.objects.filter(message=message, user=actor, emoji=emoji).delete()
    if deleted:
        events.to_channel(access.channel, events.MESSAGE_REACTION_REMOVE,
                          payloads.reaction(message.id, actor.id, emoji))


def _set_pinned(actor, message: Message, pinned: bool) -> Message:
    access = moderator_channel_access(actor, message.channel_id)
    if not access.channel.is_private:  # as in Discord, every recipient of a DM may pin
        access.require(Permission.MANAGE_MESSAGES)
        if pinned != (message.pinned_at is not None):  # a moderator's act on the channel: audited
            _audit_message(actor, "message_pin" if pinned else "message_unpin", message, target=message)
    if pinned and message.pinned_at is None:
        if Message.objects.filter(channel=message.channel, pinned_at__isnull=False).count() >= MAX_PINS:
            message = gettext("A channel has at most %(n)s pinned messages.") % {"n": MAX_PINS}
            raise Conflict(message, code="too_many_pins")
        message.pinned_at = timezone.now()
    elif not pinned:
        message.pinned_at = None
    message.save(update_fields=["pinned_at"])
    events.to_channel(access.channel, events.CHANNEL_PINS_UPDATE, payloads.pins_update(message.id, pinned))
    return message


@transaction.atomic
def pin_message(*, actor, message: Message) -> Message:
    return _set_pinned(actor, message, True)


@transaction.atomic
def unpin_message(*, actor, message: Message) -> Message:
    return _set_pinned(actor, message, False)


def _audit_message(actor, action: str, message: Message, *, target) -> None:
    """A moderator's act on a guild channel's message, in the guild's audit log: ids and the names
    they had, so the entry still reads once the message or its author is gone."""
    channel = message.channel
    author = message.author
    record_audit(channel.guild, actor, action, target=target, changes={
        "message_id": message.id, "channel_id": channel.id, "channel": channel.name,
        "author_id": message.author_id, "author": author.username if author else None})


def start_typing(*, user, channel_id: int) -> None:
    """Tell the channel the user is typing (at most once per few seconds; it is ephemeral)."""
    access = access_channel(user, channel_id)
    access.require(Permission.SEND_MESSAGES)
    if cache.add(f"typing:{channel_id}:{user.id}", 1, timeout=TYPING_EVERY_SECONDS):
        events.to_channel(access.channel, events.TYPING_START,
                          payloads.typing_start(user.id, access.member.shown_name, int(time.time())))


@transaction.atomic
def ack_message(*, user, channel_id: int, message_id: int) -> ReadState:
    """Mark a channel read up to `message_id`; read states only move forward."""
    access = access_channel(user, channel_id)
    if not Message.objects.filter(pk=message_id, channel=access.channel).exists():
        raise ValidationFailed.field("message_id", gettext("Unknown message in this channel."))
    state, _ = ReadState.objects.select_for_update().get_or_create(user=user, channel=access.channel)
    if message_id > state.last_read_id:
        state.last_read_id = message_id
        state.save(update_fields=["last_read_id", "updated_at"])
        events.to_user(user.id, events.MESSAGE_ACK, payloads.message_ack(channel_id, message_id))
    return state


# --- attachments ---------------------------------------------------------------------------------

MAX_ATTACHMENTS_PER_MESSAGE = 10


def _clean_attachment_ids(ids) -> list[int]:
    if ids is None:
        return []
    if not isinstance(ids, list) or not all(is_id(i) for i in ids):
        raise ValidationFailed.field("attachment_ids", gettext("Attachment ids are a list of integers."))
    if len(ids) > MAX_ATTACHMENTS_PER_MESSAGE:
        message = gettext("A message has at most %(n)s attachments.") % {"n": MAX_ATTACHMENTS_PER_MESSAGE}
        raise ValidationFailed.field("attachment_ids", message)
    if len(set(ids)) != len(ids):
        raise ValidationFailed.field("attachment_ids", gettext("The same attachment is listed twice."))
    return ids


def _attachable(author, channel: Channel, ids: list[int]):
    """The author's own uploads to this channel, not sent with any message yet."""
    return Attachment.objects.filter(id__in=ids, uploader=author, channel=channel, sent_at__isnull=True)


def _unknown_attachments() -> ValidationFailed:
    return ValidationFailed.field("attachment_ids", gettext(
        "Attach only files you uploaded to this channel and have not sent yet."))


def _check_attachable(author, channel: Channel, ids: list[int]) -> None:
    if _attachable(author, channel, ids).count() != len(ids):
        raise _unknown_attachments()


def _attach(msg: Message, author, ids: list[int]) -> None:
    # Locked so that two sends racing with the same upload cannot both take it.
    rows = list(_attachable(author, msg.channel, ids).select_for_update())
    if len(rows) != len(ids):
        raise _unknown_attachments()
    Attachment.objects.filter(id__in=ids).update(message=msg, sent_at=timezone.now())


def upload_attachment(*, uploader, channel_id: int, upload) -> Attachment:
    """Store one uploaded file for a later message. Images are decoded and checked first; nothing is
    stored unless the whole file is accepted. An image's thumbnail is made by the media queue as
    soon as the upload commits, so it is usually ready by the time the message is sent."""
    access = access_channel(uploader, channel_id)
    access.require(Permission.SEND_MESSAGES, Permission.ATTACH_FILES)
    return store_attachment(channel=access.channel, uploader=uploader, upload=upload)


def store_attachment(*, channel: Channel, uploader, upload) -> Attachment:
    """upload_attachment's checks and write, for a caller that has checked the right to attach (a
    webhook's files have no uploader)."""
    if upload is None:
        raise ValidationFailed.field("file", gettext("Choose a file to upload."))
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise attachment_too_large()
    if upload.size == 0:
        raise ValidationFailed.field("file", gettext("The file is empty."))
    filename = media.clean_filename(upload.name)
    found = media.inspect(upload, filename=filename, declared_type=getattr(upload, "content_type", ""))
    att = Attachment(channel=channel, uploader=uploader, filename=filename, size=upload.size,
                     content_type=found.content_type, width=found.width, height=found.height,
                     state=Attachment.State.PENDING if found.width else Attachment.State.READY)
    att.file.save(filename, upload, save=False)
    try:
        with transaction.atomic():
            att.save()
            if att.state == Attachment.State.PENDING:
                from . import tasks

                unavailable.after_commit(lambda: tasks.make_attachment_thumbnail.delay(att.id),
                                         what="queueing the attachment's thumbnail")
    except Exception:
        att.file.delete(save=False)  # the row never made it: neither does the file
        raise
    return att


def attachment_too_large() -> PayloadTooLarge:
    limit_mb = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
    return PayloadTooLarge(gettext("Files are at most %(n)s MB.") % {"n": limit_mb}, code="file_too_large",
                           fields={"file": [gettext("Files are at most %(n)s MB.") % {"n": limit_mb}]})


class TransientMediaError(Exception):
    """Storage or database trouble worth retrying (the file itself may be fine)."""


def process_attachment(attachment_id: int) -> str:
    """Make an image attachment's WebP thumbnail and mark it ready (or failed, with the reason).
    Idempotent: an attachment already processed, or gone, is left alone. Returns the final state."""
    att = Attachment.objects.filter(pk=attachment_id).first()
    if att is None or att.state != Attachment.State.PENDING:
        return att.state if att else "gone"
    try:
        with att.file.open("rb") as fh:
            data = media.make_thumbnail(fh)
        reason = ""
    except FileNotFoundError:
        data, reason = None, gettext("The stored file is missing.")
    except media.BAD_IMAGE_ERRORS as exc:
        if isinstance(exc, OSError) and not isinstance(exc, UnidentifiedImageError) and exc.errno:
            raise TransientMediaError(str(exc)) from exc  # a read error of the storage, not of the image
        data, reason = None, gettext("The image could not be read.")
    name = ""
    if data is not None:
        name = default_storage.save(attachment_path(att, "thumbnail.webp"), ContentFile(data))
    try:
        with transaction.atomic():
            att = Attachment.objects.select_for_update().filter(pk=attachment_id).first()
            if att is None or att.state != Attachment.State.PENDING:
                if name:  # another run finished first (or the upload was purged): keep theirs
                    default_storage.delete(name)
                return att.state if att else "gone"
            if data is not None:
                att.thumbnail.name, att.thumbnail_size, att.state = name, len(data), Attachment.State.READY
            else:
                att.state, att.failure_reason = Attachment.State.FAILED, reason[:255]
            att.save(update_fields=["thumbnail", "thumbnail_size", "state", "failure_reason"])
            if att.message_id:
                _publish_message_update(att.message_id)
    except Exception:
        if name:
            default_storage.delete(name)
        raise
    return att.state


def _loaded(message_id: int) -> Message:
    """A message with what its payload needs (its author's colour too)."""
    msg = Message.objects.select_related("author", "reply_to__author", "channel").get(pk=message_id)
    member = Member.objects.filter(guild_id=msg.channel.guild_id, user_id=msg.author_id).first()
    msg.author_color = member_color(member) if member else ""
    return msg


def _publish_message_update(message_id: int) -> None:
    msg = _loaded(message_id)
    _publish_update(msg)


def _publish_update(msg: Message) -> None:
    """MESSAGE_UPDATE to whoever may see the message: the channel, or only its author while held."""
    if msg.visibility == Message.Visibility.VISIBLE:
        events.to_channel(msg.channel, events.MESSAGE_UPDATE, payloads.message_payload(msg))
    elif msg.visibility == Message.Visibility.HELD and msg.author_id:
        events.to_user(msg.author_id, events.MESSAGE_UPDATE, payloads.author_update(msg))


def purge_stale_attachments(*, older_than: timedelta | None = None) -> int:
    """Delete uploads never sent within ATTACHMENT_UNSENT_HOURS, and files whose message was deleted,
    rows and stored files both. Returns how many attachments went."""
    older_than = older_than if older_than is not None else timedelta(hours=settings.ATTACHMENT_UNSENT_HOURS)
    stale = Attachment.objects.filter(
        Q(sent_at__isnull=True, created_at__lt=timezone.now() - older_than)
        | Q(sent_at__isnull=False, message__isnull=True)
    )
    return sum(delete_attachment(att, message__isnull=True) for att in stale.iterator())


def delete_attachment(att: Attachment, **still) -> bool:
    """Delete an attachment's row if it still matches `still` (it was not sent meanwhile), then its
    stored files. Whether it went."""
    names = [n for n in (att.file.name, att.thumbnail.name) if n]
    with transaction.atomic():
        deleted, _ = Attachment.objects.filter(pk=att.pk, **still).delete()
    for name in names if deleted else ():
        default_storage.delete(name)
    return bool(deleted)


def fail_attachment(attachment_id: int, *, reason: str) -> None:
    """Give up on a pending attachment (its pipeline ran out of retries)."""
    with transaction.atomic():
        att = Attachment.objects.select_for_update().filter(pk=attachment_id, state=Attachment.State.PENDING).first()
        if att is None:
            return
        att.state, att.failure_reason = Attachment.State.FAILED, reason[:255]
        att.save(update_fields=["state", "failure_reason"])
        if att.message_id:
            _publish_message_update(att.message_id)
