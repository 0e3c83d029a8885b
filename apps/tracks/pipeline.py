"""The media pipeline's steps, one per task of tasks.py, and the track's failure.

Each step is idempotent: it skips work already recorded on the row, so a task delivered twice does
no harm. A step that finds the audio unusable fails the track with a reason the uploader can read
and removes every stored object of it."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.core import images

from . import audio, encoding, events, limits
from .models import Track, track_path

log = logging.getLogger(__name__)

COVER_QUALITY = 82


class TransientMediaError(Exception):
    """Storage or database trouble worth retrying (the audio itself may be fine)."""


def _load(track_id: int) -> Track | None:
    """The track if the pipeline should still work on it (not gone, not failed, not ready)."""
    track = Track.objects.filter(pk=track_id).first()
    if track is None or track.state in (Track.State.FAILED, Track.State.READY):
        return None
    return track


@contextlib.contextmanager
def _original_on_disk(track: Track) -> Iterator[str]:
    """The original in a local temporary file (the storage may be S3)."""
    with tempfile.TemporaryDirectory(prefix="smartc-track-") as tmp:
        path = os.path.join(tmp, f"original.{track.original_format}")
        try:
            with track.original.open("rb") as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
        except FileNotFoundError:
            raise audio.NotAudio(gettext("The uploaded file is missing."), code="missing") from None
        except OSError as exc:
            raise TransientMediaError(str(exc)) from exc
        yield path


def _put(name: str, data) -> str:
    """Store `data` under exactly `name`, replacing what a half-finished earlier run left there."""
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, data if isinstance(data, File) else ContentFile(data))
    if saved != name:
        raise TransientMediaError(f"storage renamed {name} to {saved}")
    return saved


def _advance(track: Track, step: str, **fields) -> None:
    """Record a finished step (and the next one) and tell the uploader."""
    for name, value in fields.items():
        setattr(track, name, value)
    track.state, track.step, track.progressed_at = Track.State.PROCESSING, step, timezone.now()
    with transaction.atomic():
        track.save(update_fields=["state", "step", "progressed_at", *fields])
        events.track_update(track)


def probe_track(track_id: int) -> str:
    """Decode the whole original: duration, sample rate, channels, bitrate, tags. Refuses truncated,
    empty and over-long audio, and audio outside the limits (limits.py); the track fails with the reason."""
    track = _load(track_id)
    if track is None:
        return "skipped"
    if track.duration_ms is not None:
        return "done"
    if track.state == Track.State.UPLOADED:
        _advance(track, Track.Step.PROBE)
    with _failing_on_bad_audio(track), _original_on_disk(track) as path:
        found, correction_ms = limits.probe(track, path)
        with transaction.atomic():  # the day is corrected once: with the duration that marks the probe done
            limits.correct_day(track.owner_id, correction_ms)
            _advance(track, Track.Step.WAVEFORM, codec=found.codec[:20], duration_ms=round(found.duration * 1000),
                     sample_rate=found.sample_rate, channels=found.channels, bitrate=found.bitrate,
                     file_tags={k: str(v)[:200] for k, v in list(found.tags.items())[:30]})
    return "done"


def make_waveform(track_id: int) -> str:
    track = _load(track_id)
    if track is None:
        return "skipped"
    if track.peaks:
        return "done"
    with _failing_on_bad_audio(track), _original_on_disk(track) as path:
        data = json.dumps(audio.peaks(path), separators=(",", ":")).encode()
        name = _put(track_path(track, "peaks.json"), data)
        _advance(track, Track.Step.RENDITIONS, peaks=name)
    return "done"


def make_renditions(track_id: int) -> str:
    """The progressive AAC stream and the HLS ladder, from one decode of the original."""
    track = _load(track_id)
    if track is None:
        return "skipped"
    if track.stream and track.hls_files:
        return "done"
    with _failing_on_bad_audio(track), _original_on_disk(track) as path:
        out = os.path.dirname(path)
        stream_path = os.path.join(out, "stream.m4a")
        hls_dir = os.path.join(out, "hls")
        written = encoding.renditions(path, stream_path, hls_dir)
        stored = []
        try:
            with open(stream_path, "rb") as fh:
                stored.append(_put(track_path(track, "stream.m4a"), File(fh)))
            for rel in written:
                with open(os.path.join(hls_dir, rel), "rb") as fh:
                    stored.append(_put(track_path(track, f"hls/{rel}"), File(fh)))
        except Exception:
            delete_stored(stored)
            raise
        _advance(track, Track.Step.ARTWORK, stream=stored[0], stream_size=os.path.getsize(stream_path),
                 hls_files=stored[1:])
    return "done"


def make_artwork(track_id: int) -> str:
    """WebP thumbnails of the cover in TRACK_COVER_SIZES, then the track is ready."""
    track = _load(track_id)
    if track is None:
        return "skipped"
    if track.cover.name and not track.covers:
        covers = {}
        try:
            with track.cover.open("rb") as fh:
                thumbs = images.webp_thumbnails(fh, settings.TRACK_COVER_SIZES, quality=COVER_QUALITY)
            for size, data in thumbs.items():
                covers[str(size)] = _put(track_path(track, f"cover-{size}.webp"), data)
        except FileNotFoundError:
            covers = {}  # the cover is optional: a lost one leaves the default artwork
        except images.BAD_IMAGE_ERRORS as exc:
            if isinstance(exc, OSError) and exc.errno:
                delete_stored(list(covers.values()))
                raise TransientMediaError(str(exc)) from exc
            delete_stored(list(covers.values()))
            covers = {}
        track.covers = covers
    if track.replaces_id is not None:  # a new audio file for a ready track: it takes the track's place
        from .editing import swap_in

        return swap_in(track)
    track.state, track.step, track.ready_at = Track.State.READY, "", timezone.now()
    with transaction.atomic():
        track.save(update_fields=["covers", "state", "step", "ready_at"])
        events.track_update(track)
    return "ready"


@contextlib.contextmanager
def _failing_on_bad_audio(track: Track):
    try:
        yield
    except audio.NotAudio as exc:
        fail_track(track.id, reason=str(exc))
        raise


def fail_track(track_id: int, *, reason: str) -> None:
    """The pipeline gave up: the track is failed with a reason and keeps nothing in storage."""
    with transaction.atomic():
        track = Track.objects.select_for_update().filter(pk=track_id).first()
        if track is None or track.state == Track.State.FAILED:
            return
        names, folder = track.stored_names(), track.folder
        track.state, track.failure_reason = Track.State.FAILED, (reason or gettext("Processing failed."))[:255]
        track.original.name, track.cover.name = "", ""
        track.peaks, track.stream, track.hls_files, track.covers = "", "", [], {}
        track.save()
        events.track_update(track)
        transaction.on_commit(lambda: _purge(names, folder), robust=True)


def _purge(names: list[str], folder: str) -> None:
    """Delete what the row names, then whatever else is in the track's folder: what a step stored before it was
    stopped (a time limit, a killed worker) and never recorded on the row."""
    delete_stored(names)
    try:
        delete_stored(_files_under(folder))
    except Exception:  # as in delete_stored: the row is what users see
        log.exception("could not list %s", folder)


def _files_under(folder: str) -> list[str]:
    try:
        dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:  # a local folder that was never made, or is gone
        return []
    return [f"{folder}{name}" for name in files] + [n for d in dirs for n in _files_under(f"{folder}{d}/")]


def fail_stalled_tracks(*, now=None) -> int:
    """Fail the tracks the pipeline left still for TRACK_STALLED_AFTER: their task was lost, or its worker was
    killed (out of memory, past its hard time limit, a crash) on every delivery. Returns how many."""
    since = (now or timezone.now()) - timedelta(seconds=settings.TRACK_STALLED_AFTER)
    stalled = Track.objects.filter(state__in=[Track.State.UPLOADED, Track.State.PROCESSING], progressed_at__lt=since)
    ids = list(stalled.values_list("id", flat=True)[:500])
    for track_id in ids:
        fail_track(track_id, reason=gettext("Processing stopped part way; please upload the track again."))
    return len(ids)


def delete_stored(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # a purge can find it later; the row is what users see
            log.exception("could not delete %s", name)
