"""Every write to direct messages: open a 1:1 DM, create a group DM, add or remove recipients,
leave, rename. Access to an existing DM goes through the one engine entry point (access_channel);
messages, reactions, pins and read states are chat's own services, unchanged."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from apps.core.converters import is_id
from apps.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from apps.guilds.models import Channel, DirectPair, DMRecipient
from apps.guilds.selectors import access_channel

from . import events, payloads, selectors

MAX_GROUP_SIZE = 10  # people in a group DM, its owner included
MAX_NAME_LENGTH = 100


def _user_id(value, field: str) -> int:
    if not is_id(value) or value == 0:
        raise ValidationFailed.field(field, gettext("A user id is a positive integer."))
    return value


def _cannot_message() -> Forbidden:
    return Forbidden(gettext("You cannot send messages to this user."), code="cannot_message_user")


def _check_shared_guild(user, other_id: int) -> None:
    """Who may start a conversation with whom: people who share a guild (Discord's default)."""
    if not selectors.share_a_guild(user.id, other_id):
        raise Forbidden(gettext("You can only message people you share a guild with."), code="no_shared_guild")


def _name(value) -> str:
    if not isinstance(value, str):
        raise ValidationFailed.field("name", gettext("A name is text."))
    value = value.strip()
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationFailed.field("name", gettext("A name is at most %(n)s characters.") % {"n": MAX_NAME_LENGTH})
    return value


def _publish_created(channel: Channel, users) -> None:
    payload = payloads.channel_payload(channel, users)
    events.to_users([u.id for u in users], events.CHANNEL_CREATE, payload)


def open_dm(*, user, recipient_id) -> tuple[Channel, bool]:
    """The 1:1 DM of `user` and `recipient_id`: the existing one, or a new one. (channel, created)"""
    recipient_id = _user_id(recipient_id, "recipient_id")
    if recipient_id == user.id:
        raise ValidationFailed.field("recipient_id", gettext("You cannot message yourself."))
    other = get_user_model().objects.filter(pk=recipient_id, is_active=True).first()
    if other is None:
        raise NotFound(gettext("Unknown user."), code="unknown_user")
    if selectors.blocked_either_way(user.id, [other.id]):
        raise _cannot_message()
    existing = selectors.direct_channel(user.id, other.id)
    if existing is not None:
        return existing, False
    _check_shared_guild(user, other.id)
    low, high = sorted((user.id, other.id))
    try:
        with transaction.atomic():
            channel = Channel.objects.create(guild=None, type=Channel.Type.DM, name="")
            DMRecipient.objects.bulk_create([DMRecipient(channel=channel, user=user),
                                             DMRecipient(channel=channel, user=other)])
            DirectPair.objects.create(channel=channel, user_low_id=low, user_high_id=high)
            _publish_created(channel, [user, other])
    except IntegrityError:
        # Both opened it at the same moment: the other transaction's DM is the one.
        channel = selectors.direct_channel(user.id, other.id)
        if channel is None:
            raise
        return channel, False
    return channel, True


@transaction.atomic
def create_group_dm(*, owner, recipient_ids, name="") -> Channel:
    """A group DM of `owner` and the listed people (at most MAX_GROUP_SIZE in all)."""
    name = _name(name)
    if not isinstance(recipient_ids, list) or not recipient_ids:
        raise ValidationFailed.field("recipient_ids", gettext("List the people to add."))
    ids = [_user_id(v, "recipient_ids") for v in recipient_ids]
    if len(set(ids)) != len(ids):
        raise ValidationFailed.field("recipient_ids", gettext("List each person only once."))
    if owner.id in ids:
        raise ValidationFailed.field("recipient_ids", gettext("You are in the group already: list the others."))
    if len(ids) + 1 > MAX_GROUP_SIZE:
        message = gettext("A group has at most %(n)s people, you included.") % {"n": MAX_GROUP_SIZE}
        raise ValidationFailed.field("recipient_ids", message)
    users = {u.id: u for u in get_user_model().objects.filter(pk__in=ids, is_active=True)}
    unknown = [i for i in ids if i not in users]
    if unknown:
        raise ValidationFailed.field("recipient_ids", gettext("Unknown user: %(id)s.") % {"id": unknown[0]})
    members = [owner, *(users[i] for i in ids)]
    _check_no_blocks([u.id for u in members])
    for uid in ids:
        _check_shared_guild(owner, uid)
    channel = Channel.objects.create(guild=None, type=Channel.Type.GROUP_DM, name=name, owner=owner)
    DMRecipient.objects.bulk_create([DMRecipient(channel=channel, user=u) for u in members])
    _publish_created(channel, members)
    return channel


def _check_no_blocks(user_ids: list[int], *, joining: int | None = None) -> None:
    """Nobody joins a group with someone who blocked them or whom they blocked."""
    for uid in ([joining] if joining is not None else user_ids):
        if selectors.blocked_either_way(uid, [o for o in user_ids if o != uid]):
            raise Forbidden(gettext("You cannot add this user to this group."), code="cannot_add_user")


def _group(actor, channel_id: int):
    access = access_channel(actor, channel_id)
    if access.channel.type != Channel.Type.GROUP_DM:
        raise ValidationFailed(gettext("Only a group DM has people to add, remove or rename."),
                               code="not_group_dm")
    # Lock the group: adds and removes that race see each other's counts.
    return Channel.objects.select_for_update().get(pk=access.channel.pk)


@transaction.atomic
def add_recipient(*, actor, channel_id: int, user_id) -> bool:
    """The owner adds someone to a group DM; True if they were not in it already."""
    user_id = _user_id(user_id, "user_id")
    channel = _group(actor, channel_id)
    if channel.owner_id != actor.id:
        raise Forbidden(gettext("Only the group's owner can add people."), code="not_owner")
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound(gettext("Unknown user."), code="unknown_user")
    present = selectors.recipient_ids(channel)
    if user.id in present:
        return False
    if len(present) >= MAX_GROUP_SIZE:
        message = gettext("A group has at most %(n)s people.") % {"n": MAX_GROUP_SIZE}
        raise Conflict(message, code="group_full")
    _check_no_blocks([*present, user.id], joining=user.id)
    _check_shared_guild(actor, user.id)
    DMRecipient.objects.create(channel=channel, user=user)
    events.to_users(present, events.CHANNEL_RECIPIENT_ADD, payloads.recipient_change(channel, user))
    _publish_created_for(channel, user)
    return True


def _publish_created_for(channel: Channel, user) -> None:
    events.to_users([user.id], events.CHANNEL_CREATE,
                    payloads.channel_payload(channel, selectors.recipients_of(channel)))


@transaction.atomic
def remove_recipient(*, actor, channel_id: int, user_id) -> None:
    """The owner removes someone from a group DM, or anyone leaves it (user_id = their own id).
    The last one out deletes the group; an owner who leaves hands it to the longest-standing member."""
    user_id = _user_id(user_id, "user_id")
    channel = _group(actor, channel_id)
    if user_id != actor.id and channel.owner_id != actor.id:
        raise Forbidden(gettext("Only the group's owner can remove people."), code="not_owner")
    row = DMRecipient.objects.select_related("user").filter(channel=channel, user_id=user_id).first()
    if row is None:
        raise NotFound(gettext("This person is not in the group."), code="unknown_recipient")
    gone = payloads.deleted(channel)
    row.delete()
    remaining = list(DMRecipient.objects.filter(channel=channel).select_related("user"))
    events.to_users([user_id], events.CHANNEL_DELETE, gone)
    if not remaining:
        channel.delete()
        return
    others = [r.user_id for r in remaining]
    events.to_users(others, events.CHANNEL_RECIPIENT_REMOVE, payloads.recipient_change(channel, row.user))
    if channel.owner_id == user_id:
        channel.owner = remaining[0].user
        channel.save(update_fields=["owner"])
        events.to_users(others, events.CHANNEL_UPDATE, payloads.channel_payload(channel, [r.user for r in remaining]))


@transaction.atomic
def rename_group_dm(*, actor, channel_id: int, name) -> Channel:
    """Any member of a group DM may rename it (an empty name shows the members' names)."""
    name = _name(name)
    channel = _group(actor, channel_id)
    channel.name = name
    channel.save(update_fields=["name"])
    users = selectors.recipients_of(channel)
    events.to_users([u.id for u in users], events.CHANNEL_UPDATE, payloads.channel_payload(channel, users))
    return channel
