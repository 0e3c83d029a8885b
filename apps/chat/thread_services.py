"""Every write to threads: start one from a message, rename, archive, lock, delete, join, leave,
and what posting in a thread does to it (count, activity, unarchive, auto-join).

A thread is a guilds.Channel of type thread whose parent is the text channel; messages, reactions,
pins and read states work on its id unchanged. Its permissions are the parent's (the engine maps
SEND_MESSAGES to SEND_MESSAGES_IN_THREADS there); the rules only threads have live here."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.errors import Conflict, Forbidden, MissingPermission, NotFound, ValidationFailed
from apps.guilds.models import Channel, Member
from apps.guilds.permissions import Permission
from apps.guilds.selectors import ChannelAccess, access_channel, member_color, moderator_channel_access
from apps.guilds.services import record_audit

from . import events, payloads
from .models import Message, Thread, ThreadMember

NAME_MAX_LENGTH = 100
THREAD_PARENT_TYPES = (Channel.Type.TEXT, Channel.Type.ANNOUNCEMENT)


def _clean_name(name) -> str:
    if not isinstance(name, str):
        raise ValidationFailed.field("name", gettext("A thread name is text."))
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed.field("name", gettext("A thread needs a name."))
    if len(name) > NAME_MAX_LENGTH:
        message = gettext("A thread name is at most %(n)s characters.") % {"n": NAME_MAX_LENGTH}
        raise ValidationFailed.field("name", message)
    return name


def access_thread(user, thread_id: int, *, moderating: bool = False) -> tuple[ChannelAccess, Thread]:
    """The thread and the user's permissions in it; 404 unless the user can view its parent
    (`moderating`: a superuser acts with the owner's rank, selectors.moderator_channel_access)."""
    access = (moderator_channel_access if moderating else access_channel)(user, thread_id)
    thread = Thread.objects.select_related("channel").filter(pk=access.channel.id).first()
    if thread is None:
        raise NotFound(gettext("Unknown thread."), code="unknown_thread")
    return access, thread


def _publish_starter(thread: Thread, *, gone: bool = False) -> None:
    """MESSAGE_UPDATE of the starter message in the parent, carrying the thread's summary (or null
    once the thread is gone), so the parent shows the thread's state live."""
    msg = (Message.objects.select_related("author", "reply_to__author")
           .filter(pk=thread.starter_message_id).first()) if thread.starter_message_id else None
    if msg is None:
        return
    member = Member.objects.prefetch_related("roles").filter(guild_id=thread.channel.guild_id,
                                                             user_id=msg.author_id).first()
    msg.author_color = member_color(member) if member else ""
    msg.thread_summary = None if gone else payloads.thread_summary(thread)
    events.to_channel(thread.channel.parent, events.MESSAGE_UPDATE, payloads.message_payload(msg))


def _members_update(thread: Thread, *, added: list[int] = (), removed: list[int] = ()) -> None:
    events.to_parent(thread.channel, events.THREAD_MEMBERS_UPDATE, payloads.thread_members_update(
        thread, member_count=thread.members.count(), added=added, removed=removed))


def create_thread(*, actor, channel_id: int, message_id: int, name: str) -> Thread:
    """Start a thread from a message of a text or announcement channel (CREATE_THREADS); its
    creator joins it."""
    name = _clean_name(name)
    access = access_channel(actor, channel_id)
    parent = access.channel
    if parent.type == Channel.Type.THREAD:
        raise ValidationFailed(gettext("A thread cannot be started inside a thread."), code="thread_nesting")
    if parent.type not in THREAD_PARENT_TYPES:
        raise ValidationFailed(gettext("Threads can only be started in text and announcement channels."),
                               code="invalid_channel_type")
    access.require(Permission.CREATE_THREADS)
    with transaction.atomic():
        # The lock makes a second thread on the same message wait and then see the first.
        msg = Message.objects.select_for_update().filter(pk=message_id, channel=parent).first()
        if msg is None:
            raise NotFound(gettext("Unknown message."), code="unknown_message")
        if Thread.objects.filter(starter_message=msg).exists():
            raise Conflict(gettext("This message already has a thread."), code="thread_exists")
        channel = Channel.objects.create(guild_id=parent.guild_id, parent=parent, category_id=parent.category_id,
                                         type=Channel.Type.THREAD, name=name, position=0)
        try:
            with transaction.atomic():
                thread = Thread.objects.create(channel=channel, starter_message=msg, creator=actor)
        except IntegrityError:
            raise Conflict(gettext("This message already has a thread."), code="thread_exists") from None
        ThreadMember.objects.create(thread=thread, user=actor)
        thread.member_count = 1
        events.to_parent(channel, events.THREAD_CREATE, payloads.thread_payload(thread))
        _publish_starter(thread)
    return thread


def check_can_post(access: ChannelAccess) -> Thread | None:
    """Before a message is sent: None outside threads; in a thread, the thread once the sender may
    post (SEND_MESSAGES_IN_THREADS; a locked thread only takes MANAGE_THREADS)."""
    if access.channel.type != Channel.Type.THREAD:
        return None
    access.require(Permission.SEND_MESSAGES_IN_THREADS)
    thread = Thread.objects.select_related("channel__parent").get(pk=access.channel.id)
    if thread.locked and not access.permissions & Permission.MANAGE_THREADS:
        raise Forbidden(gettext("This thread is locked: only moderators can post in it."), code="thread_locked")
    return thread


def record_post(thread: Thread, msg: Message) -> None:
    """Inside the send's transaction: count the message, unarchive (as posting does in Discord),
    make the author a member, and tell the parent."""
    thread = Thread.objects.select_for_update(of=("self",)).select_related("channel__parent").get(pk=thread.pk)
    was_archived = thread.archived
    thread.message_count += 1
    thread.last_message_at = msg.created_at
    thread.archived, thread.archived_at = False, None
    thread.save(update_fields=["message_count", "last_message_at", "archived", "archived_at"])
    _, joined = ThreadMember.objects.get_or_create(thread=thread, user_id=msg.author_id)
    if was_archived:
        events.to_parent(thread.channel, events.THREAD_UPDATE, payloads.thread_payload(thread))
    if joined:
        _members_update(thread, added=[msg.author_id])
    _publish_starter(thread)


def record_delete(channel: Channel) -> None:
    """Inside a message delete's transaction: one message fewer in the thread, if it is one."""
    if channel.type != Channel.Type.THREAD:
        return
    Thread.objects.filter(pk=channel.id).update(message_count=Greatest(F("message_count") - 1, 0))
    thread = Thread.objects.select_related("channel__parent").filter(pk=channel.id).first()
    if thread is not None:
        _publish_starter(thread)


@transaction.atomic
def update_thread(*, actor, thread_id: int, name: str | None = None, archived: bool | None = None,
                  locked: bool | None = None) -> Thread:
    """Rename, archive or lock. MANAGE_THREADS may do anything; the creator may rename and
    (un)archive their own thread while it is not locked."""
    access, thread = access_thread(actor, thread_id, moderating=True)
    thread = Thread.objects.select_for_update(of=("self",)).select_related("channel__parent").get(pk=thread.pk)
    manage = bool(access.permissions & Permission.MANAGE_THREADS)
    own = thread.creator_id == actor.id and bool(access.permissions & Permission.SEND_MESSAGES_IN_THREADS)
    if name is not None:
        name = _clean_name(name)
    renaming = name is not None and name != thread.channel.name
    archiving = archived is not None and archived != thread.archived
    locking = locked is not None and locked != thread.locked
    if locking and not manage:
        raise MissingPermission("MANAGE_THREADS")
    if (renaming or archiving) and not manage:
        if not own:
            raise MissingPermission("MANAGE_THREADS")
        if thread.locked:
            raise Forbidden(gettext("This thread is locked: only moderators can change it."), code="thread_locked")
    if not (renaming or archiving or locking):
        return thread
    if locking or thread.creator_id != actor.id:  # a moderator's act (MANAGE_THREADS): audited
        changes = {"name": name} if renaming else {}
        changes |= {"archived": archived} if archiving else {}
        changes |= {"locked": locked} if locking else {}
        _audit(actor, "thread_update", thread, target=thread.channel, changes=changes)
    if renaming:
        thread.channel.name = name
        thread.channel.save(update_fields=["name"])
    if archiving:
        thread.archived = archived
        thread.archived_at = timezone.now() if archived else None
    if locking:
        thread.locked = locked
    thread.save(update_fields=["archived", "archived_at", "locked"])
    events.to_parent(thread.channel, events.THREAD_UPDATE, payloads.thread_payload(thread))
    _publish_starter(thread)
    return thread


@transaction.atomic
def delete_thread(*, actor, thread_id: int) -> None:
    """Delete a thread and its messages (MANAGE_THREADS); the starter message stays. Audited about
    the parent channel (the thread is gone; the parent says who may read of it)."""
    access, thread = access_thread(actor, thread_id, moderating=True)
    access.require(Permission.MANAGE_THREADS)
    channel = Channel.objects.select_related("parent__guild").get(pk=thread.pk)
    _audit(actor, "thread_delete", thread, target=channel.parent, changes={"message_count": thread.message_count})
    payload = payloads.thread_deleted(channel)
    thread.channel = channel
    channel.delete()
    events.to_parent(channel, events.THREAD_DELETE, payload)
    _publish_starter(thread, gone=True)


def _audit(actor, action: str, thread: Thread, *, target, changes: dict) -> None:
    creator = thread.creator
    record_audit(thread.channel.guild, actor, action, target=target, changes={
        "thread_id": thread.channel_id, "thread": thread.channel.name, "parent_id": thread.channel.parent_id,
        "creator_id": thread.creator_id, "creator": creator.username if creator else None, **changes})


@transaction.atomic
def join_thread(*, user, thread_id: int) -> bool:
    """Join a thread one can view; True if newly joined."""
    access, thread = access_thread(user, thread_id)
    _, created = ThreadMember.objects.get_or_create(thread=thread, user=user)
    if created:
        _members_update(thread, added=[user.id])
    return created


@transaction.atomic
def leave_thread(*, user, thread_id: int) -> None:
    access, thread = access_thread(user, thread_id)
    deleted, _ = ThreadMember.objects.filter(thread=thread, user=user).delete()
    if deleted:
        _members_update(thread, removed=[user.id])
