"""The shapes tracks send: the TRACK_* events' data (events.py publishes them) and every REST answer
of the tracks API, built here only. Documented by serializers.py; a test checks what these
functions build against /api/schema/."""
from __future__ import annotations

from django.urls import reverse

from .models import Playlist, PlaylistEntry, Track, TrackComment
from .selectors import StreamItem, StreamPage, viewer_state


def track_status(track: Track) -> dict:
    """Where the pipeline is, as the uploader's page shows it, and whether moderation holds it."""
    return {"id": track.id, "state": track.state, "step": track.step, "failure_reason": track.failure_reason,
            "held": track.visibility == Track.Visibility.HELD, "audience": track.audience}


def track_payload(track: Track) -> dict:
    ready = track.state == Track.State.READY
    return {
        **track_status(track),
        "guild_id": track.guild_id,
        "owner": user_payload(track.owner),
        "title": track.title,
        "description": track.description,
        "genre": track.genre,
        "tags": [t.name for t in track.tags.all()],
        "duration_ms": track.duration_ms,
        "sample_rate": track.sample_rate,
        "channels": track.channels,
        "bitrate": track.bitrate,
        "created_at": track.created_at.isoformat(),
        "like_count": track.like_count,
        "repost_count": track.repost_count,
        "comment_count": track.comment_count,
        "play_count": track.play_count,
        "page_url": reverse("tracks:page", args=[track.id]),
        "stream_url": reverse("tracks:stream", args=[track.id]) if ready else None,
        "hls_url": reverse("tracks:hls", args=[track.id, "master.m3u8"]) if ready else None,
        # Versioned by the media folder: a browser that cached the peaks of replaced audio asks again.
        "peaks_url": f"{reverse('tracks:peaks', args=[track.id])}?v={track.key.hex[:8]}" if ready else None,
        "cover_urls": {size: reverse("tracks:cover", args=[track.id, int(size)]) for size in track.covers},
    }


def user_payload(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.shown_name,
            "profile_url": reverse("tracks:profile", args=[user.username]), "avatar": user.avatar_url(48)}


def counts_payload(track: Track, viewer) -> dict:
    return {"id": track.id, "like_count": track.like_count, "repost_count": track.repost_count,
            "comment_count": track.comment_count, "play_count": track.play_count, **viewer_state(viewer, track)}


def comment_payload(comment: TrackComment) -> dict:
    return {"id": comment.id, "track_id": comment.track_id, "author": user_payload(comment.author),
            "body": comment.body, "position_ms": comment.position_ms, "created_at": comment.created_at.isoformat(),
            "held": comment.visibility == TrackComment.Visibility.HELD}


def comment_event(comment: TrackComment) -> dict:
    """TRACK_COMMENT_CREATE: the comment, and its guild (whose members the gateway relays it to)."""
    return {"guild_id": comment.track.guild_id, **comment_payload(comment)}


def comment_deleted(comment: TrackComment) -> dict:
    return {"guild_id": comment.track.guild_id, "track_id": comment.track_id, "id": comment.id}


def comment_with_message(comment: TrackComment, message_id: int) -> dict:
    """A new comment that was also posted to a channel: the comment and that message's id."""
    return {**comment_payload(comment), "message_id": message_id}


def track_deleted(track_id: int) -> dict:
    return {"id": track_id}


def play(counted: bool, play_count: int) -> dict:
    return {"counted": counted, "play_count": play_count}


def stream_item_payload(item: StreamItem) -> dict:
    return {"track": track_payload(item.track), "at": item.at.isoformat(),
            "reposted_by": user_payload(item.reposted_by) if item.reposted_by else None}


def stream_page(found: StreamPage) -> dict:
    return {"items": [stream_item_payload(i) for i in found.items], "page": found.page,
            "next_page": found.page + 1 if found.has_next else None}


def playlist_payload(playlist: Playlist, *, entries: list[PlaylistEntry] | None = None) -> dict:
    """A playlist; with `entries` (as playlist_entries gave them to the viewer) its tracks in order."""
    out = {"id": playlist.id, "owner": user_payload(playlist.owner), "title": playlist.title,
           "description": playlist.description, "is_public": playlist.is_public,
           "created_at": playlist.created_at.isoformat(), "updated_at": playlist.updated_at.isoformat(),
           "page_url": reverse("tracks:playlist", args=[playlist.id])}
    if entries is None:
        out["track_count"] = getattr(playlist, "track_count", None)
    else:
        out["track_count"] = len(entries)
        out["entries"] = [{"id": e.id, "position": e.position, "track": track_payload(e.track)} for e in entries]
    return out


def sharing_payload(track: Track) -> dict:
    """What its owner shares of a track: its audience and its secret link (and the embed's)."""
    return {"id": track.id, "audience": track.audience,
            "secret_url": reverse("tracks:secret_page", args=[track.id, track.secret]),
            "embed_url": reverse("tracks:embed", args=[track.id]),
            "secret_embed_url": reverse("tracks:secret_embed", args=[track.id, track.secret])}
def track_details(track: Track) -> dict:
    """A track with what its artist set after the upload (editing.py): the answer of PATCH."""
    return {**track_payload(track), "credits": track.credits, "licence": track.licence,
            "release_at": track.release_at.isoformat() if track.release_at else None,
            "released": track.released, "downloadable": track.downloadable,
            "download_url": reverse("tracks:download", args=[track.id])
            if track.downloadable and track.state == Track.State.READY else None}


def replacement(track_id: int, found: Track) -> dict:
    return {"track_id": track_id, "state": found.state, "failure_reason": found.failure_reason}


def insights(found) -> dict:
    return {"listeners": found.listeners,
            "days": [{"day": d.day.isoformat(), "plays": d.plays, "listeners": d.listeners, "likes": d.likes,
                      "reposts": d.reposts, "comments": d.comments} for d in found.days]}
