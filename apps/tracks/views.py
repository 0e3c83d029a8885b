"""Track pages, and track media served only to those who may see the track (never a public media URL).

The progressive stream answers HTTP Range requests (206 with Content-Range; 416 for a range past
the end or a malformed one), so the player can seek before the whole file has loaded. With a remote
storage (S3) the stream, the HLS segments and the covers are redirects to short-lived signed URLs
(S3 and CloudFront answer Range themselves); HLS playlists are always served from here, because
their relative segment addresses must resolve against this view, which signs each segment."""
from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from apps.core.errors import NotFound, ValidationFailed
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_guild
from apps.guilds.views import shell_context

from . import payloads, public_views, selectors, sharing
from .models import Track, track_path

SIGNED_URL_SECONDS = 300
CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
HLS_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".aac": "audio/aac",
             ".m4s": "video/iso.segment", ".mp4": "audio/mp4"}


def _playable(request, track_id: int, secret: str | None) -> Track:
    try:
        return selectors.playable_track(request.user, track_id, secret=secret)
    except NotFound:
        raise Http404 from None


def _remote() -> bool:
    return not isinstance(default_storage, FileSystemStorage)


def _redirect(name: str, content_type: str) -> HttpResponse:
    url = default_storage.url(name, parameters={"ResponseContentType": content_type}, expire=SIGNED_URL_SECONDS)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    return response


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range a player asks for, as (first, last) inclusive; None when the header is
    absent. Raises ValueError for a malformed or unsatisfiable range (answered with 416)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise ValueError("malformed range")
    first, last = match.groups()
    if first == "":  # the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(size - n, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError("range out of bounds")
    return start, end


def _ranged_file(name: str, size: int, content_type: str, range_header: str) -> HttpResponse:
    try:
        wanted = parse_range(range_header, size)
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    try:
        fh = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    if wanted is None:
        response = FileResponse(fh, content_type=content_type)
    else:
        first, last = wanted
        fh.seek(first)

        def body(remaining=last - first + 1):
            with fh:
                while remaining > 0:
                    data = fh.read(min(CHUNK, remaining))
                    if not data:
                        return
                    remaining -= len(data)
                    yield data

        response = StreamingHttpResponse(body(), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def stream(request, track_id: int, secret: str | None = None):
    track = _playable(request, track_id, secret)
    if _remote():
        return _redirect(track.stream, "audio/mp4")
    return _ranged_file(track.stream, track.stream_size or default_storage.size(track.stream), "audio/mp4",
                        request.headers.get("Range", ""))


@require_safe
def hls(request, track_id: int, path: str, secret: str | None = None):
    track = _playable(request, track_id, secret)
    name = track_path(track, f"hls/{path}")
    if name not in track.hls_files:  # only the files the pipeline wrote
        raise Http404
    ext = "." + path.rsplit(".", 1)[-1]
    content_type = HLS_TYPES.get(ext, "application/octet-stream")
    if ext != ".m3u8" and _remote():
        return _redirect(name, content_type)
    try:
        with default_storage.open(name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_safe
def peaks(request, track_id: int, secret: str | None = None):
    track = _playable(request, track_id, secret)
    try:
        with default_storage.open(track.peaks, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(data, content_type="application/json")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_safe
def cover(request, track_id: int, size: int, secret: str | None = None):
    try:
        track = selectors.readable_track(request.user, track_id, secret=secret)
    except NotFound:
        raise Http404 from None
    name = track.covers.get(str(size))
    if not name:
        raise Http404
    if _remote():
        return _redirect(name, "image/webp")
    return _ranged_file(name, default_storage.size(name), "image/webp", "")


# --- pages ----------------------------------------------------------------------------------

@login_required
def guild_tracks(request, guild_id: int):
    """The guild's tracks, the upload form (UPLOAD_TRACKS) and the uploader's tracks in progress."""
    try:
        access = access_guild(request.user, guild_id)
    except NotFound:
        raise Http404 from None
    tracks = selectors.guild_tracks(access.guild, viewer=request.user,
                                    manages=bool(access.permissions & Permission.MANAGE_TRACKS))
    return render(request, "tracks/guild_tracks.html", shell_context(
        request, access, tracks=tracks, can_upload=bool(access.permissions & Permission.UPLOAD_TRACKS),
        max_mb=settings.TRACK_MAX_BYTES // (1024 * 1024), tracks_page=True,
        can_manage_guild=bool(access.permissions & Permission.MANAGE_GUILD),
        allow_public=sharing.public_tracks_allowed(access.guild.id)))


def track_page(request, track_id: int, secret: str | None = None):
    """The member's page in the guild's shell; anyone else who may hear the track (a public one, an
    unlisted one by its link) gets the public page (public_views.py)."""
    try:
        track = selectors.readable_track(request.user, track_id, secret=secret)
    except NotFound:
        raise Http404 from None
    try:
        access = access_guild(request.user, track.guild_id)
    except NotFound:
        return public_views.track_page(request, track, secret)
    comments = selectors.track_comments(track, request.user)
    return render(request, "tracks/track.html", shell_context(
        request, access, track=track, payload=payloads.track_payload(track), tracks_page=True,
        viewer_state=selectors.viewer_state(request.user, track), comments=comments,
        comments_data=[payloads.comment_payload(c) for c in comments],
        can_comment=bool(access.permissions & Permission.COMMENT_ON_TRACKS),
        can_manage=bool(access.permissions & Permission.MANAGE_TRACKS),
        my_playlists=selectors.own_playlists(request.user)))


# --- the social layer's pages ---------------------------------------------------------------
# Lists across guilds, outside any guild's three-column shell; every list comes from a selector
# that keeps to the tracks the viewer can read.

def _list_page(request, *, heading: str, tracks, empty: str, **extra):
    return render(request, "tracks/list_page.html", {"heading": heading, "tracks": tracks, "empty": empty, **extra})


@login_required
def stream_page(request):
    raw = request.GET.get("page", "1")
    found = selectors.stream(request.user, page=int(raw) if raw.isdigit() and 0 < int(raw) <= 1000 else 1)
    return render(request, "tracks/stream.html", {"found": found, "nav": "stream"})


def trending_page(request):
    """Signed out: the public tracks by trending score."""
    return _list_page(request, heading=gettext("Trending"), tracks=selectors.trending_tracks(request.user),
                      empty=gettext("Nothing is trending yet."), nav="trending")


@login_required
def tag_page(request, tag: str):
    return _list_page(request, heading=f"#{tag.strip().lower()}", tracks=selectors.tag_tracks(request.user, tag),
                      empty=gettext("No tracks with this tag."))


@login_required
def genre_page(request, genre: str):
    return _list_page(request, heading=genre, tracks=selectors.genre_tracks(request.user, genre),
                      empty=gettext("No tracks of this genre."))


def search_page(request):
    """Signed out: public tracks only."""
    q = request.GET.get("q", "")
    tracks, error = [], ""
    if q.strip():
        try:
            tracks = selectors.search_tracks(request.user, q)
        except ValidationFailed as exc:
            error = exc.message
    return _list_page(request, heading=gettext("Search tracks"), tracks=tracks, q=q, error=error, nav="search",
                      empty=gettext("No tracks match.") if q.strip() else "")


def profile_page(request, username: str):
    """Signed out, or outside the artist's guilds: the public tracks (public_views.share_meta tags)."""
    try:
        found = selectors.profile(request.user, username)
    except NotFound:
        raise Http404 from None
    playlists = selectors.user_playlists(request.user, found.user.id)
    meta = public_views.share_meta(request, title=found.user.shown_name, kind="profile", page=request.path,
                                   description=gettext("%(name)s's tracks on SmaRTC") % {"name": found.user.shown_name})
    return render(request, "tracks/profile.html", {"profile": found, "nav": "profile", "playlists": playlists,
                                                   "meta": meta})


def playlist_page(request, playlist_id: int):
    try:
        playlist = selectors.visible_playlist(request.user, playlist_id)
    except NotFound:
        raise Http404 from None
    entries = selectors.playlist_entries(request.user, playlist)
    meta = public_views.share_meta(
        request, title=playlist.title, kind="music.playlist", page=request.path,
        description=playlist.description or gettext("A playlist by %(name)s on SmaRTC") % {
            "name": playlist.owner.shown_name},
        player=reverse("tracks:embed_playlist", args=[playlist.id]) if playlist.is_public else "",
        height=public_views.PLAYLIST_EMBED_HEIGHT, unlisted=not playlist.is_public)
    return render(request, "tracks/playlist.html", {
        "playlist": playlist, "entries": entries, "is_owner": playlist.owner_id == request.user.id, "meta": meta,
        "queue": [payloads.track_payload(e.track) for e in entries]})
