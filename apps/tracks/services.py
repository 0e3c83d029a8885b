"""Every write to tracks but the media pipeline's (pipeline.py): upload, deletion, the social layer,
playlists.

An upload is checked (permission, size, a decodable audio container, a valid cover image) before
anything is stored; the pipeline then runs on the `media` queue one step at a time (tasks.py)."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from apps.chat.models import Message
from apps.chat.services import send_message
from apps.core import ratelimit, unavailable
from apps.core.converters import is_id
from apps.core.errors import Forbidden, NotFound, PayloadTooLarge, RateLimited, ValidationFailed
from apps.core.images import validate_image
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_channel, access_guild, moderator_access
from apps.guilds.services import record_audit

from . import audio, events, hooks, limits, pipeline
from .models import (
    Follow,
    Playlist,
    PlaylistEntry,
    Tag,
    Track,
    TrackComment,
    TrackLike,
    TrackPlay,
    TrackRepost,
)
from .selectors import playable_track, readable_track, readable_tracks

MAX_TAGS = 10


# --- upload ---------------------------------------------------------------------------------

def _clean_text(value, field: str, *, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed.field(field, gettext("This is text."))
    value = value.strip()
    if required and not value:
        raise ValidationFailed.field(field, gettext("This field is required."))
    if len(value) > limit:
        raise ValidationFailed.field(field, gettext("At most %(n)s characters.") % {"n": limit})
    return value


def _clean_tags(raw) -> list[str]:
    """Tags as a list or a comma-separated string: lower case, no '#', at most MAX_TAGS of 30 characters."""
    if raw is None or raw == "":
        return []
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(t, str) for t in items):
        raise ValidationFailed.field("tags", gettext("Tags are a list of words."))
    tags = []
    for item in items:
        tag = " ".join(item.strip().lstrip("#").lower().split())
        if not tag:
            continue
        if len(tag) > 30:
            raise ValidationFailed.field("tags", gettext("A tag is at most 30 characters."))
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationFailed.field("tags", gettext("At most %(n)s tags.") % {"n": MAX_TAGS})
    return tags


def search_text(*, title: str, tags: list[str], genre: str, owner) -> str:
    """What full-text search reads for a track (the GIN index of migration 0003 is on it)."""
    return " ".join(w for w in (title, *tags, genre, owner.username, owner.display_name) if w)


def track_too_large() -> PayloadTooLarge:
    message = gettext("Tracks are at most %(n)s MB.") % {"n": settings.TRACK_MAX_BYTES // (1024 * 1024)}
    return PayloadTooLarge(message, code="file_too_large", fields={"file": [message]})


@contextlib.contextmanager
def _local_path(upload) -> Iterator[str]:
    """A path on disk with the upload's bytes: Django's temporary file when it made one."""
    path = getattr(upload, "temporary_file_path", None)
    if path:
        yield path()
        return
    with tempfile.NamedTemporaryFile(suffix=".upload") as tmp:
        upload.seek(0)
        shutil.copyfileobj(upload, tmp)
        tmp.flush()
        yield tmp.name
    upload.seek(0)


def _not_audio(exc: audio.NotAudio) -> ValidationFailed:
    return ValidationFailed(str(exc), code=exc.code, fields={"file": [str(exc)]})


def upload_track(*, uploader, guild_id: int, upload, title: str, description: str = "", genre: str = "",
                 tags=None, cover=None) -> Track:
    """Store a new track and queue its processing. Nothing is stored unless everything is accepted:
    the permission, the sizes, a file that opens as audio (decided by decoding, not by its name)
    and a cover that is a real image."""
    access = access_guild(uploader, guild_id)
    access.require(Permission.UPLOAD_TRACKS)
    if upload is None:
        raise ValidationFailed.field("file", gettext("Choose an audio file to upload."))
    if upload.size > settings.TRACK_MAX_BYTES:
        raise track_too_large()
    if upload.size == 0:
        message = gettext("The file is empty.")
        raise ValidationFailed(message, code="empty_audio", fields={"file": [message]})
    title = _clean_text(title, "title", limit=100, required=True)
    description = _clean_text(description, "description", limit=4000)
    genre = _clean_text(genre, "genre", limit=40)
    tag_names = _clean_tags(tags)
    if cover is not None:
        validate_image(cover, field="cover")
    with _local_path(upload) as path:
        try:
            found = audio.sniff(path)
            limits.check_upload(found, size=upload.size, uploader=uploader)
        except audio.NotAudio as exc:
            raise _not_audio(exc) from None
    fmt = found.format
    track = Track(owner=uploader, guild=access.guild, title=title, description=description, genre=genre,
                  original_format=fmt, original_size=upload.size,
                  search_text=search_text(title=title, tags=tag_names, genre=genre, owner=uploader))
    stored = []
    try:
        track.original.save(f"original.{fmt}", upload, save=False)
        stored.append(track.original.name)
        if cover is not None:
            ext = os.path.splitext(cover.name or "")[1].lower()[:8] or ".img"
            track.cover.save(f"cover{ext}", cover, save=False)
            stored.append(track.cover.name)
        with transaction.atomic():
            limits.charge_upload(found, uploader=uploader)
            track.save()
            track.tags.set([Tag.objects.get_or_create(name=name)[0] for name in tag_names])
            from . import tasks

            unavailable.after_commit(lambda: tasks.process_track(track.id), what="queueing the track's processing")
            hooks.track_written(track)
    except Exception:
        pipeline.delete_stored(stored)  # the row never made it: neither do its files
        raise
    return track


def delete_track(*, actor, track: Track) -> None:
    """The owner, or a member who may manage the guild's messages, removes a track and its files;
    the latter is a moderator's act, in the guild's audit log."""
    moderating = track.owner_id != actor.id
    if moderating:
        access = moderator_access(actor, track.guild_id)  # a superuser acts from the admin (reports)
        if not access.permissions & Permission.MANAGE_MESSAGES:
            raise Forbidden(gettext("Only its uploader can delete this track."))
    names = track.stored_names()
    track_id, owner_id = track.id, track.owner_id
    with transaction.atomic():
        if moderating:
            record_audit(access.guild, actor, "track_delete", target=track, changes={
                "track_id": track.id, "name": track.title, "owner_id": owner_id, "owner": track.owner.username})
        track.delete()
        events.track_delete(owner_id, track_id)
        transaction.on_commit(lambda: pipeline.delete_stored(names), robust=True)


# --- the social layer -----------------------------------------------------------------------
# Likes, reposts, comments and plays are on tracks the actor can read (selectors.playable_track:
# 404 for anyone outside the track's guild). Toggles are idempotent: liking twice leaves one like,
# and the count on the track moves only when a row was really added or removed.

COMMENT_MAX = 1000
# Comments per user and minute, across tracks: enough for anyone listening, not for a flood.
COMMENT_RATE_LIMIT = 10
COMMENT_RATE_WINDOW = 60


def _insert(model, **fields) -> bool:
    """Add the row unless it is there; True if this call added it (a unique constraint decides,
    so two requests at once cannot both count)."""
    try:
        with transaction.atomic():
            model.objects.create(**fields)
    except IntegrityError:
        return False
    return True


def _bump(track_id: int, field: str, by: int) -> None:
    Track.objects.filter(pk=track_id).update(**{field: F(field) + by})


def _toggle(model, field: str, *, user, track_id: int, on: bool) -> Track:
    track = playable_track(user, track_id)
    with transaction.atomic():
        if on:
            changed = _insert(model, user=user, track=track)
        else:
            changed = model.objects.filter(user=user, track=track).delete()[0] > 0
        if changed:
            _bump(track.id, field, 1 if on else -1)
        if changed and on:
            hooks.activity("like" if model is TrackLike else "repost", actor=user, track=track)
    track.refresh_from_db(fields=["like_count", "repost_count", "comment_count", "play_count"])
    return track


def like_track(*, user, track_id: int) -> Track:
    return _toggle(TrackLike, "like_count", user=user, track_id=track_id, on=True)


def unlike_track(*, user, track_id: int) -> Track:
    return _toggle(TrackLike, "like_count", user=user, track_id=track_id, on=False)


def repost_track(*, user, track_id: int) -> Track:
    """Repost a track to the user's followers' streams (a track they can read, and only they)."""
    return _toggle(TrackRepost, "repost_count", user=user, track_id=track_id, on=True)


def unrepost_track(*, user, track_id: int) -> Track:
    return _toggle(TrackRepost, "repost_count", user=user, track_id=track_id, on=False)


def _position(value, duration_ms: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if value is None or value == "":
        raise ValidationFailed.field("position_ms", gettext("Say where in the track the comment goes."))
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.field("position_ms", gettext("A position is a whole number of milliseconds."))
    if not 0 <= value <= duration_ms:
        message = gettext("The position must be between 0 and the end of the track (%(ms)s ms).") % {
            "ms": duration_ms}
        raise ValidationFailed(message, code="position_out_of_range", fields={"position_ms": [message]})
    return value


def comment_on_track(*, author, track_id: int, body, position_ms) -> TrackComment:
    """A comment at a moment of a ready track (COMMENT_ON_TRACKS in the track's guild); the
    guild's open pages hear of it (TRACK_COMMENT_CREATE)."""
    track = playable_track(author, track_id)
    access_guild(author, track.guild_id).require(Permission.COMMENT_ON_TRACKS)
    body = _clean_text(body, "body", limit=COMMENT_MAX, required=True)
    position_ms = _position(position_ms, track.duration_ms)
    if ratelimit.hit(f"track-comment:{author.id}", window=COMMENT_RATE_WINDOW) > COMMENT_RATE_LIMIT:
        raise RateLimited(gettext("You are commenting too fast; wait a minute."), retry_after=COMMENT_RATE_WINDOW)
    with transaction.atomic():
        comment = TrackComment.objects.create(track=track, author=author, body=body, position_ms=position_ms)
        _bump(track.id, "comment_count", 1)
        events.track_comment_create(comment)
        hooks.comment_written(comment)  # after the event: showing it never waits for scoring
        hooks.activity("comment", actor=author, track=track, comment=comment)
    return comment


def set_comment_visibility(*, comment: TrackComment, visibility: str) -> TrackComment:
    """Hold a comment for review, remove it, or show it again, and tell the open track pages.
    Precondition: the caller (apps.moderation.services) has checked the actor's rights."""
    if comment.visibility == visibility:
        return comment
    before, comment.visibility = comment.visibility, visibility
    comment.save(update_fields=["visibility"])
    if visibility == TrackComment.Visibility.VISIBLE:
        events.track_comment_create(comment)
    elif before == TrackComment.Visibility.VISIBLE:
        events.track_comment_delete(comment)
    # The count is what others see: a held comment still counts (it may come back), a removed one no more.
    if visibility == TrackComment.Visibility.REMOVED:
        _bump(comment.track_id, "comment_count", -1)
    elif before == TrackComment.Visibility.REMOVED:
        _bump(comment.track_id, "comment_count", 1)
    return comment


def set_track_visibility(*, track: Track, visibility: str) -> Track:
    """Hold a track for review (its owner, told with TRACK_UPDATE `held: true`, still sees it),
    remove it (TRACK_DELETE to its owner: nobody sees it any more, the row and its files stay as
    evidence), or show it again (TRACK_UPDATE `held: false`). Precondition: the caller
    (apps.moderation.services) has checked the actor's rights."""
    if track.visibility == visibility:
        return track
    track.visibility = visibility
    with transaction.atomic():
        track.save(update_fields=["visibility"])
        if visibility == Track.Visibility.REMOVED:
            events.track_delete(track.owner_id, track.id)
        else:
            events.track_update(track)
    return track


def comment_in_channel(*, author, track_id: int, channel_id: int, position_ms, body,
                       origin: str = "") -> tuple[TrackComment, Message]:
    """A timed comment on the track and, in the same transaction, a message in the channel linking
    that moment (`{origin}/tracks/{id}?t=SECONDS`, then the comment): both or neither. Needs
    COMMENT_ON_TRACKS in the track's guild and SEND_MESSAGES in the channel (which may be of
    another guild: its members who cannot read the track see the link and no player). `origin`
    makes the link absolute (and so clickable in the message); relative without it."""
    track = playable_track(author, track_id)
    access_guild(author, track.guild_id).require(Permission.COMMENT_ON_TRACKS)
    # Checked before anything is written, so a refusal costs no comment (send_message checks again).
    access_channel(author, channel_id).require(Permission.SEND_MESSAGES)
    with transaction.atomic():
        comment = comment_on_track(author=author, track_id=track.id, body=body, position_ms=position_ms)
        link = f"{origin.rstrip('/')}{reverse('tracks:page', args=[track.id])}?t={comment.position_ms // 1000}"
        message = send_message(author=author, channel_id=channel_id, content=f"{comment.body}\n{link}")
    return comment, message


def delete_track_comment(*, actor, track_id: int, comment_id: int) -> None:
    """Its author removes a comment, or a member with MANAGE_TRACKS in the track's guild."""
    # A superuser acts from the admin (reports) in guilds they are not a member of.
    track = Track.objects.get(pk=track_id) if actor.is_superuser else readable_track(actor, track_id)
    comment = TrackComment.objects.filter(pk=comment_id, track=track).select_related("track").first()
    if comment is None:
        raise NotFound(gettext("Unknown comment."))
    moderating = comment.author_id != actor.id
    if moderating:
        moderator_access(actor, track.guild_id).require(Permission.MANAGE_TRACKS)
    with transaction.atomic():
        if TrackComment.objects.filter(pk=comment.pk).delete()[0]:
            if moderating:  # a moderator's act, in the guild's audit log (about the track, which stays)
                record_audit(track.guild, actor, "track_comment_delete", target=track, changes={
                    "comment_id": comment.id, "track_id": track.id, "name": track.title,
                    "author_id": comment.author_id, "author": comment.author.username})
            _bump(track.id, "comment_count", -1)
            events.track_comment_delete(comment)


def record_play(*, user, track_id: int, at=None, secret: str | None = None, visitor: str = "") -> bool:
    """Count a play of a ready track: at most once per listener per (UTC) day. True if it counted.
    `at` is when it was played (now unless given). A signed-out listener (a public page, an embed)
    is told apart by `visitor` (visibility.visitor_key); `secret` is the unlisted link it came by."""
    track = playable_track(user, track_id, secret=secret)
    day = (at or timezone.now()).astimezone(UTC).date()
    listener = {"user": user} if user.is_authenticated else {"user": None, "visitor": visitor}
    with transaction.atomic():
        counted = _insert(TrackPlay, track=track, **listener, day=day, created_at=at or timezone.now())
        if counted:
            _bump(track.id, "play_count", 1)
    return counted


def follow_user(*, follower, user_id: int) -> bool:
    """Follow a user (their uploads and reposts come to the follower's stream). Idempotent: True
    if this call started the follow."""
    followee = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if followee is None:
        raise NotFound(gettext("Unknown user."))
    if followee.pk == follower.pk:
        message = gettext("You cannot follow yourself.")
        raise ValidationFailed(message, code="cannot_follow_self")
    with transaction.atomic():
        started = _insert(Follow, follower=follower, followee=followee)
        if started:
            hooks.activity("follow", actor=follower, user=followee)
    return started


def unfollow_user(*, follower, user_id: int) -> None:
    Follow.objects.filter(follower=follower, followee_id=user_id).delete()


# --- trending -------------------------------------------------------------------------------
# score = Σ weight × 2^(−age / half-life) over the plays, likes and reposts of the last
# TRENDING_DAYS days, where age is how long ago each one happened: recent attention counts
# most, and a track nobody touched for TRENDING_DAYS scores 0.

TRENDING_DAYS = 7
TRENDING_HALF_LIFE_HOURS = 36
TRENDING_WEIGHTS = {TrackPlay: 1.0, TrackLike: 3.0, TrackRepost: 5.0}


def recompute_trending(*, now=None) -> int:
    """Write every track's trending_score; returns how many tracks score above 0."""
    now = now or timezone.now()
    since = now - timedelta(days=TRENDING_DAYS)
    scores: dict[int, float] = {}
    for model, weight in TRENDING_WEIGHTS.items():
        # One row per track and hour: the read is bounded by tracks × hours, not by plays.
        rows = (model.objects.filter(created_at__gt=since, created_at__lte=now, track__state=Track.State.READY)
                .annotate(hour=TruncHour("created_at")).values("track_id", "hour").annotate(n=Count("id")))
        for row in rows:
            age_hours = max((now - row["hour"]).total_seconds() / 3600, 0.0)
            decay = 2 ** (-age_hours / TRENDING_HALF_LIFE_HOURS)
            scores[row["track_id"]] = scores.get(row["track_id"], 0.0) + weight * row["n"] * decay
    with transaction.atomic():
        Track.objects.filter(trending_score__gt=0).exclude(pk__in=scores).update(trending_score=0.0)
        changed = [Track(pk=pk, trending_score=round(score, 6)) for pk, score in scores.items()]
        Track.objects.bulk_update(changed, ["trending_score"], batch_size=500)
    return len(scores)


# --- playlists ------------------------------------------------------------------------------
# Only its owner changes a playlist: others get 404 for a private one (they cannot know it exists)
# and 403 for a public one. Entries are ordered by an explicit position; the playlist row is locked
# while entries are added or reordered, so two tabs at once cannot pass the cap or mix positions.

PLAYLIST_MAX_ENTRIES = 500


def _playlist_fields(title, description, is_public, *, creating: bool) -> dict:
    fields = {}
    if creating or title is not None:
        fields["title"] = _clean_text(title, "title", limit=100, required=True)
    if creating or description is not None:
        fields["description"] = _clean_text(description, "description", limit=4000)
    if is_public is not None:
        if not isinstance(is_public, bool):
            raise ValidationFailed.field("is_public", gettext("This is true or false."))
        fields["is_public"] = is_public
    return fields


def _own_playlist(actor, playlist_id: int, *, lock: bool = False) -> Playlist:
    found = Playlist.objects.select_for_update() if lock else Playlist.objects
    playlist = found.filter(pk=playlist_id).first()
    if playlist is None or (not playlist.is_public and playlist.owner_id != actor.id):
        raise NotFound(gettext("Unknown playlist."))
    if playlist.owner_id != actor.id:
        raise Forbidden(gettext("Only its owner can change this playlist."))
    return playlist


def _touch(playlist: Playlist) -> None:
    playlist.updated_at = timezone.now()
    playlist.save(update_fields=["updated_at"])


def create_playlist(*, owner, title, description="", is_public=True) -> Playlist:
    fields = _playlist_fields(title, description, True if is_public is None else is_public, creating=True)
    return Playlist.objects.create(owner=owner, **fields)


def update_playlist(*, actor, playlist_id: int, title=None, description=None, is_public=None) -> Playlist:
    """Change what is given (None leaves a field as it is)."""
    fields = _playlist_fields(title, description, is_public, creating=False)
    with transaction.atomic():
        playlist = _own_playlist(actor, playlist_id, lock=True)
        for name, value in fields.items():
            setattr(playlist, name, value)
        playlist.updated_at = timezone.now()
        playlist.save(update_fields=[*fields, "updated_at"])
    return playlist


def delete_playlist(*, actor, playlist_id: int) -> None:
    with transaction.atomic():
        _own_playlist(actor, playlist_id, lock=True).delete()


def add_to_playlist(*, actor, playlist_id: int, track_id: int) -> PlaylistEntry:
    """Append a ready track the owner can read (404 otherwise). Adding a track already there
    leaves it where it is."""
    track = playable_track(actor, track_id)
    with transaction.atomic():
        playlist = _own_playlist(actor, playlist_id, lock=True)
        existing = playlist.entries.filter(track=track).first()
        if existing is not None:
            return existing
        if playlist.entries.count() >= PLAYLIST_MAX_ENTRIES:
            message = gettext("A playlist holds at most %(n)s tracks.") % {"n": PLAYLIST_MAX_ENTRIES}
            raise ValidationFailed(message, code="playlist_full")
        last = playlist.entries.aggregate(last=Max("position"))["last"]
        entry = PlaylistEntry.objects.create(playlist=playlist, track=track, position=0 if last is None else last + 1)
        _touch(playlist)
    return entry


def remove_from_playlist(*, actor, playlist_id: int, track_id: int) -> None:
    """Take a track out (idempotent: a track not in the playlist is already out)."""
    with transaction.atomic():
        playlist = _own_playlist(actor, playlist_id, lock=True)
        if playlist.entries.filter(track_id=track_id).delete()[0]:
            _touch(playlist)


def reorder_playlist(*, actor, playlist_id: int, entry_ids) -> list[PlaylistEntry]:
    """Put the entries in the order of `entry_ids`, which names every entry the owner can see,
    once each. Entries of tracks the owner can no longer read (a guild it left) keep their
    relative order after them."""
    if not isinstance(entry_ids, list) or not all(is_id(i) for i in entry_ids):
        raise ValidationFailed.field("entry_ids", gettext("The order is a list of entry ids."))
    with transaction.atomic():
        playlist = _own_playlist(actor, playlist_id, lock=True)
        entries = list(playlist.entries.order_by("position", "id"))
        readable = set(readable_tracks(actor).filter(pk__in=[e.track_id for e in entries])
                       .values_list("id", flat=True))
        seen = [e for e in entries if e.track_id in readable]
        if len(entry_ids) != len(set(entry_ids)) or set(entry_ids) != {e.id for e in seen}:
            message = gettext("Send every entry of the playlist, once each.")
            raise ValidationFailed(message, code="bad_order", fields={"entry_ids": [message]})
        by_id = {e.id: e for e in entries}
        ordered = [by_id[i] for i in entry_ids] + [e for e in entries if e.track_id not in readable]
        for position, entry in enumerate(ordered):
            entry.position = position
        PlaylistEntry.objects.bulk_update(ordered, ["position"])
        _touch(playlist)
    return ordered
