"""Reads of tracks that more than one caller needs: who may see a track, and how it is shown."""
from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext

from apps.core.errors import NotFound
from apps.guilds.selectors import member_of

from .models import Track


def readable_track(user, track_id: int) -> Track:
    """A track the user may see: its owner, or a member of its guild; 404 for anyone else."""
    track = Track.objects.select_related("owner", "guild").filter(pk=track_id).first()
    if track is None or (track.owner_id != user.id and member_of(user, track.guild_id) is None):
        raise NotFound(gettext("Unknown track."))
    return track


def playable_track(user, track_id: int) -> Track:
    """A readable track whose renditions exist (404 until it is ready)."""
    track = readable_track(user, track_id)
    if track.state != Track.State.READY:
        raise NotFound(gettext("This track is not ready to play."))
    return track


def guild_tracks(guild, *, viewer, limit: int = 100) -> list[Track]:
    """A guild's ready tracks, newest first, and the viewer's own tracks still processing or failed."""
    return list(Track.objects.filter(guild=guild).filter(Q(state=Track.State.READY) | Q(owner=viewer))
                .select_related("owner").prefetch_related("tags")[:limit])


def track_status(track: Track) -> dict:
    """Where the pipeline is, as the uploader's page shows it."""
    return {"id": track.id, "state": track.state, "step": track.step, "failure_reason": track.failure_reason}


def track_payload(track: Track) -> dict:
    ready = track.state == Track.State.READY
    return {
        **track_status(track),
        "guild_id": track.guild_id,
        "owner": {"id": track.owner.id, "username": track.owner.username, "display_name": track.owner.shown_name},
        "title": track.title,
        "description": track.description,
        "genre": track.genre,
        "tags": [t.name for t in track.tags.all()],
        "duration_ms": track.duration_ms,
        "sample_rate": track.sample_rate,
        "channels": track.channels,
        "bitrate": track.bitrate,
        "created_at": track.created_at.isoformat(),
        "page_url": reverse("tracks:page", args=[track.id]),
        "stream_url": reverse("tracks:stream", args=[track.id]) if ready else None,
        "hls_url": reverse("tracks:hls", args=[track.id, "master.m3u8"]) if ready else None,
        "peaks_url": reverse("tracks:peaks", args=[track.id]) if ready else None,
        "cover_urls": {size: reverse("tracks:cover", args=[track.id, int(size)]) for size in track.covers},
    }
