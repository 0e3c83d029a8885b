"""Artist tools: what a track's owner (or a member with MANAGE_TRACKS in its guild) changes after the
upload: its text and cover, credits, licence, a scheduled release, the download toggle, and its audio.

Edited text is scored by moderation again, as a new upload's (hooks.track_written). Replacing the
audio runs the whole pipeline on the new file as a hidden *replacement* row (Track.replaces): the
track keeps its id, likes, reposts, comments and plays, and its old audio keeps playing; once the
replacement is ready its media move onto the track in one transaction (swap_in) and the old files
go. A replacement that fails leaves the track as it was."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from apps.core import images, unavailable
from apps.core.errors import Conflict, Forbidden, ValidationFailed
from apps.core.images import validate_image
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_guild

from . import audio, events, hooks, limits, pipeline
from .models import Licence, Tag, Track
from .selectors import readable_track
from .services import _clean_tags, _clean_text, _local_path, _not_audio, search_text, track_too_large

UNSET = object()
RELEASE_MAX_DAYS = 365
# The media a replacement brings; the rest of the row (text, cover, counts, id) stays the track's.
MEDIA_FIELDS = ("original", "original_format", "original_size", "codec", "duration_ms", "sample_rate",
                "channels", "bitrate", "file_tags", "peaks", "stream", "stream_size", "hls_files")


def manageable_track(actor, track_id: int) -> Track:
    """A track the actor may edit: its own, or one of a guild where it has MANAGE_TRACKS (403);
    404 for a track it cannot read."""
    track = readable_track(actor, track_id)
    if track.owner_id != actor.id and not access_guild(actor, track.guild_id).permissions & Permission.MANAGE_TRACKS:
        raise Forbidden(gettext("Only its uploader, or a member who may manage tracks, can change this track."))
    return track


def _release_at(value, now) -> datetime | None:
    if value is None or value == "":
        return None
    when = value if isinstance(value, datetime) else parse_datetime(value) if isinstance(value, str) else None
    if when is None:
        raise ValidationFailed.field("release_at", gettext("A release date is a date and time (ISO 8601)."))
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when <= now:
        message = gettext("The release date must be in the future.")
        raise ValidationFailed(message, code="release_in_past", fields={"release_at": [message]})
    if when > now + timedelta(days=RELEASE_MAX_DAYS):
        message = gettext("The release date can be at most a year ahead.")
        raise ValidationFailed(message, code="release_too_far", fields={"release_at": [message]})
    return when


def _bool(value, field: str) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false", "on", "1", "0", ""):
        return value.lower() in ("true", "on", "1")
    if not isinstance(value, bool):
        raise ValidationFailed.field(field, gettext("This is true or false."))
    return value


def _covers_of(track: Track, cover) -> tuple[str, dict]:
    """Store a new cover and its WebP thumbnails under fresh names (a page that cached the old ones
    asks for the new ones by their new names)."""
    stamp = uuid.uuid4().hex[:8]
    ext = os.path.splitext(cover.name or "")[1].lower()[:8] or ".img"
    stored = []
    try:
        cover.seek(0)
        name = default_storage.save(f"{track.folder}cover-{stamp}{ext}", cover)
        stored.append(name)
        cover.seek(0)
        thumbs = images.webp_thumbnails(cover, settings.TRACK_COVER_SIZES, quality=pipeline.COVER_QUALITY)
        covers = {}
        for size, data in thumbs.items():
            covers[str(size)] = pipeline._put(f"{track.folder}cover-{size}-{stamp}.webp", data)
            stored.append(covers[str(size)])
    except Exception:
        pipeline.delete_stored(stored)
        raise
    return name, covers


def edit_track(*, actor, track_id: int, title=UNSET, description=UNSET, genre=UNSET, tags=UNSET, cover=None,
               credits=UNSET, licence=UNSET, release_at=UNSET, downloadable=UNSET, now=None) -> Track:
    """Change what is given (UNSET leaves a field as it is). Everything is checked before anything
    is written; the owner's pages hear TRACK_UPDATE, and moderation scores the new text."""
    track = manageable_track(actor, track_id)
    now = now or timezone.now()
    fields: dict = {}
    if title is not UNSET:
        fields["title"] = _clean_text(title, "title", limit=100, required=True)
    if description is not UNSET:
        fields["description"] = _clean_text(description, "description", limit=4000)
    if genre is not UNSET:
        fields["genre"] = _clean_text(genre, "genre", limit=40)
    if credits is not UNSET:
        fields["credits"] = _clean_text(credits, "credits", limit=2000)
    if licence is not UNSET:
        if licence not in Licence.values:
            raise ValidationFailed.field("licence", gettext("Choose one of: %(choices)s.")
                                         % {"choices": ", ".join(Licence.values)})
        fields["licence"] = licence
    if release_at is not UNSET:
        fields["release_at"] = _release_at(release_at, now)
        fields["released"] = fields["release_at"] is None
    if downloadable is not UNSET:
        fields["downloadable"] = _bool(downloadable, "downloadable")
    tag_names = None if tags is UNSET else _clean_tags(tags)
    if cover is not None:
        validate_image(cover, field="cover")
    old_covers: list[str] = []
    if cover is not None:
        old_covers = [n for n in (track.cover.name, *track.covers.values()) if n]
        fields["cover"], fields["covers"] = _covers_of(track, cover)
    try:
        with transaction.atomic():
            for name, value in fields.items():
                setattr(track, name, value)
            if tag_names is not None:
                track.tags.set([Tag.objects.get_or_create(name=name)[0] for name in tag_names])
            names = tag_names if tag_names is not None else [t.name for t in track.tags.all()]
            track.search_text = search_text(title=track.title, tags=names, genre=track.genre, owner=track.owner)
            track.save(update_fields=[*fields, "search_text"])
            events.track_update(track)
            hooks.track_written(track)  # scored again, as a new upload's text (an unchanged text costs nothing)
            transaction.on_commit(lambda: pipeline.delete_stored(old_covers), robust=True)
    except Exception:
        if cover is not None:
            pipeline.delete_stored([fields["cover"], *fields["covers"].values()])
        raise
    return track


# --- scheduled releases ------------------------------------------------------------------------------

def publish_released_tracks(*, now=None) -> list[int]:
    """Make visible the tracks whose release time has come (Celery beat, every minute). Returns their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(Track.objects.select_for_update(skip_locked=True)
                   .filter(released=False, release_at__lte=now)[:500])
        for track in due:
            track.released = True
            track.save(update_fields=["released"])
            events.track_update(track)
    return [t.id for t in due]


# --- replacing the audio -----------------------------------------------------------------------------

def pending_replacement(track: Track) -> Track | None:
    """The newest replacement of the track's audio (in the pipeline, or failed with its reason)."""
    return Track.objects.filter(replaces=track).order_by("-id").first()


def replace_audio(*, actor, track_id: int, upload) -> Track:
    """Queue a new audio file for a ready track; returns the replacement row (its `state` follows
    the pipeline, its owner hears each step as TRACK_UPDATE). Checked as an upload is (size, a file
    that decodes as audio, the length and daily limits) before anything is stored: a refused file
    changes nothing. One replacement at a time."""
    track = manageable_track(actor, track_id)
    if track.state != Track.State.READY or track.replaces_id is not None:
        raise Conflict(gettext("Wait until the track is processed before replacing its audio."), code="not_ready")
    if Track.objects.filter(replaces=track, state__in=[Track.State.UPLOADED, Track.State.PROCESSING]).exists():
        raise Conflict(gettext("A new audio file for this track is already being processed."),
                       code="replacement_pending")
    if upload is None:
        raise ValidationFailed.field("file", gettext("Choose an audio file to upload."))
    if upload.size > settings.TRACK_MAX_BYTES:
        raise track_too_large()
    if upload.size == 0:
        message = gettext("The file is empty.")
        raise ValidationFailed(message, code="empty_audio", fields={"file": [message]})
    with _local_path(upload) as path:
        try:
            found = audio.sniff(path)
            limits.check_upload(found, size=upload.size, uploader=track.owner)
        except audio.NotAudio as exc:
            raise _not_audio(exc) from None
    shadow = Track(owner=track.owner, guild_id=track.guild_id, title=track.title, replaces=track,
                   original_format=found.format, original_size=upload.size, released=False)
    stored = []
    try:
        shadow.original.save(f"original.{found.format}", upload, save=False)
        stored.append(shadow.original.name)
        with transaction.atomic():
            limits.charge_upload(found, uploader=track.owner)
            Track.objects.filter(replaces=track, state=Track.State.FAILED).delete()  # the last failure, now moot
            shadow.save()
            from . import tasks

            unavailable.after_commit(lambda: tasks.process_track(shadow.id), what="queueing the track's processing")
    except Exception:
        pipeline.delete_stored(stored)
        raise
    return shadow


def swap_in(replacement: Track) -> str:
    """The replacement is processed: its media become the track's, in one transaction, and the old
    media go once it commits. Called by the pipeline's last step instead of making it ready."""
    with transaction.atomic():
        track = Track.objects.select_for_update().filter(pk=replacement.replaces_id).first()
        if track is None:  # the track was deleted meanwhile: its replacement goes with it
            names, folder = replacement.stored_names(), replacement.folder
            replacement.delete()
            transaction.on_commit(lambda: pipeline._purge(names, folder), robust=True)
            return "skipped"
        old = [track.original.name, track.peaks, track.stream, *track.hls_files]
        key = replacement.key
        for name in MEDIA_FIELDS:
            value = getattr(replacement, name)
            setattr(track, name, value.name if name == "original" else value)
        Track.objects.filter(pk=replacement.pk).delete()  # frees its key for the track
        # The media live in the replacement's folder, whose name is the key: the track takes it.
        track.key, track.progressed_at = key, timezone.now()
        track.save(update_fields=[*MEDIA_FIELDS, "key", "progressed_at"])
        events.track_update(track)
        transaction.on_commit(lambda: pipeline.delete_stored([n for n in old if n]), robust=True)
    return "ready"
