"""Erasing an account whose grace period ended: everything of the person goes, through the
services that already remove each thing (so counts stay right and open tabs hear of it), then the
user row, whose foreign keys cascade the rest (tokens, settings, read states, blocks, reports...).

Messages stay, shown as from "Deleted user" (their author is cleared), or go, as the member chose.
A 1:1 DM stays for the other person, with the history it had; the member leaves their group DMs
(the last one out deletes the group). Files are deleted from storage once the rows are gone."""
from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.accounts import session_services
from apps.chat import events as chat_events
from apps.chat import payloads as chat_payloads
from apps.chat import services as chat
from apps.chat.models import Attachment, Message, Reaction
from apps.core.errors import DomainError
from apps.dms import services as dms
from apps.guilds import services as guilds
from apps.guilds.models import Channel, DMRecipient, Member
from apps.notifications import services as notifications
from apps.notifications.models import PushSubscription
from apps.tracks import services as tracks
from apps.tracks.models import Follow, Playlist, Track, TrackComment, TrackLike, TrackRepost

from .models import DeletionRequest
from .services import check_no_owned_guilds

log = logging.getLogger(__name__)
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def erase_account(user_id: int) -> int:
    """Erase one account whose deletion is due; 1 if it was erased, 0 if there was nothing to do
    (cancelled meanwhile, or not due). Raises OwnsGuilds, changing nothing, if it owns a guild.
    Each step is its own transaction, so a crash part-way leaves a request that the next run
    finishes; the request row goes last, with the user."""
    user = get_user_model().objects.filter(pk=user_id).first()
    request = DeletionRequest.objects.filter(user_id=user_id, delete_after__lte=timezone.now()).first()
    if user is None or request is None:
        return 0
    check_no_owned_guilds(user)
    remove_messages = request.messages == DeletionRequest.Messages.REMOVE
    files: list[str] = []

    _forget_track_life(user, files)
    _forget_reactions(user)
    if remove_messages:
        _remove_messages(user)
    files += _remove_attachments(user)
    kept = list(Message.objects.filter(author_id=user.id).values_list("id", flat=True))
    kept += _unname_mentions(user)
    _leave_everything(user)
    for sub in PushSubscription.objects.filter(user=user):
        notifications.unsubscribe(user=user, endpoint=sub.endpoint)
    if user.avatar:
        files += [user.avatar.name, *user.avatar_thumbs.values()]

    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user_id)
        if not DeletionRequest.objects.filter(user_id=user_id).exists():
            return 0  # signed in at the last moment: what is done is done, the account stays
        check_no_owned_guilds(user)
        _end_sessions(user_id)
        Message.objects.filter(author_id=user_id).update(nonce=None)
        user.delete()  # Message.author is SET_NULL: kept messages read "Deleted user"
        transaction.on_commit(lambda: _announce_anonymised(kept), robust=True)
    _delete_files(files)
    log.info("account %s erased (%s messages kept anonymised)", user_id, len(kept))
    return 1


def _try(step, *args, **kwargs) -> bool:
    """A service call that may find the thing already gone or out of reach (the member lost access):
    the cascade of the user row removes what is left."""
    try:
        step(*args, **kwargs)
    except DomainError as exc:
        log.info("erasure: %s skipped (%s)", getattr(step, "__name__", step), exc.code)
        return False
    return True


def _forget_track_life(user, files: list[str]) -> None:
    """Likes, reposts and comments through the services (the tracks' counts go down), then the
    member's tracks (and their files) and playlists; follows both ways."""
    for track_id in TrackLike.objects.filter(user=user).values_list("track_id", flat=True):
        if not _try(tracks.unlike_track, user=user, track_id=track_id):
            TrackLike.objects.filter(user=user, track_id=track_id).delete()
    for track_id in TrackRepost.objects.filter(user=user).values_list("track_id", flat=True):
        if not _try(tracks.unrepost_track, user=user, track_id=track_id):
            TrackRepost.objects.filter(user=user, track_id=track_id).delete()
    for comment in TrackComment.objects.filter(author=user).exclude(track__owner=user):
        _try(tracks.delete_track_comment, actor=user, track_id=comment.track_id, comment_id=comment.id)
    for track in Track.objects.filter(owner=user):
        tracks.delete_track(actor=user, track=track)  # its files go after commit
    for playlist_id in Playlist.objects.filter(owner=user).values_list("id", flat=True):
        tracks.delete_playlist(actor=user, playlist_id=playlist_id)
    for followee_id in Follow.objects.filter(follower=user).values_list("followee_id", flat=True):
        tracks.unfollow_user(follower=user, user_id=followee_id)
    Follow.objects.filter(followee=user).delete()


def _forget_reactions(user) -> None:
    for reaction in Reaction.objects.filter(user=user).select_related("message"):
        if not _try(chat.remove_reaction, actor=user, message=reaction.message, emoji=reaction.emoji):
            reaction.delete()


def _remove_messages(user) -> None:
    """Every message of the member, each channel told (MESSAGE_DELETE)."""
    guild_ids = set(Message.objects.filter(author_id=user.id, channel__guild__isnull=False)
                    .values_list("channel__guild_id", flat=True))
    for guild_id in guild_ids:
        with transaction.atomic():
            chat.purge_member_messages(guild_id=guild_id, user_id=user.id, since=BEGINNING)
    for message in Message.objects.filter(author_id=user.id, channel__guild__isnull=True).select_related("channel"):
        with transaction.atomic():
            if not _try(chat.delete_message, actor=user, message=message):
                message.delete()  # a DM they were taken out of: nobody's socket is subscribed for them


def _remove_attachments(user) -> list[str]:
    """The member's uploads: rows now, files after. A kept message left with neither text nor
    files is deleted (its channel told)."""
    names = []
    emptied = set()
    for att in Attachment.objects.filter(uploader=user):
        names += [n for n in (att.file.name, att.thumbnail.name) if n]
        if att.message_id:
            emptied.add(att.message_id)
    with transaction.atomic():
        Attachment.objects.filter(uploader=user).delete()
        for message in Message.objects.filter(pk__in=emptied).select_related("channel"):
            if not message.content and not message.attachments.exists():
                message.delete()
                chat_events.to_channel(message.channel, chat_events.MESSAGE_DELETE,
                                       chat_payloads.message_deleted(message.id))
    return names


def _unname_mentions(user) -> list[int]:
    """Others' messages that mention the member show the name in their stored HTML: it becomes the
    "@unknown" a mention of a user who does not exist renders as. Returns their ids."""
    shown = re.compile(rf'(<span class="mention" data-user-id="{user.id}">)@[^<]*(</span>)')
    changed = []
    with transaction.atomic():
        for message in Message.objects.select_for_update().filter(mentions=user):
            message.content_html = shown.sub(r"\1@unknown\2", message.content_html)
            message.save(update_fields=["content_html"])
            changed.append(message.id)
    return changed


def _leave_everything(user) -> None:
    """Out of every guild (MEMBER_REMOVE to each) and every group DM; 1:1 DMs stay for the other
    person, who sees the history as it was, from "Deleted user"."""
    for member in Member.objects.filter(user=user).select_related("guild"):
        _try(guilds.leave_guild, user=user, guild=member.guild)
    groups = DMRecipient.objects.filter(user=user, channel__type=Channel.Type.GROUP_DM)
    for channel_id in groups.values_list("channel_id", flat=True):
        _try(dms.remove_recipient, actor=user, channel_id=channel_id, user_id=user.id)


def _end_sessions(user_id: int) -> None:
    """Every signed-in browser of the member (sessions hold the user id in their signed data)."""
    # Those the sessions page knows first (their sockets close), then any older one.
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is not None:
        session_services.end_other_sessions(user, keep_session_key=None)
    wanted = str(user_id)
    doomed = [s.session_key for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
              if s.get_decoded().get("_auth_user_id") == wanted]
    Session.objects.filter(session_key__in=doomed).delete()


def _announce_anonymised(message_ids: list[int]) -> None:
    """Open tabs redraw the kept messages as from "Deleted user"."""
    for message in Message.objects.filter(pk__in=message_ids).select_related("channel", "reply_to__author"):
        chat_events.to_channel(message.channel, chat_events.MESSAGE_UPDATE, chat_payloads.message_payload(message))


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete %s", name)  # an orphan costs storage, not privacy of others
