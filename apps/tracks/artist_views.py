"""The artist's pages of a track: editing it (text, cover, credits, licence, release, download, a new
audio file), its Insights, and the download of its original when its owner allows it."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.core.bodylimit import body_limit
from apps.core.errors import DomainError, Forbidden, NotFound
from apps.guilds.selectors import access_guild
from apps.guilds.views import shell_context

from . import editing, selectors, stats
from .models import Licence, Track


def _manageable(request, track_id: int) -> Track:
    try:
        return editing.manageable_track(request.user, track_id)
    except NotFound:
        raise Http404 from None


def _edit_page(request, track: Track, *, error: DomainError | None = None, saved: str = "", status: int = 200):
    release = timezone.localtime(track.release_at).strftime("%Y-%m-%dT%H:%M") if track.release_at else ""
    return render(request, "tracks/edit.html", shell_context(
        request, access_guild(request.user, track.guild_id), track=track, tracks_page=True, licences=Licence.choices,
        release_value=release, tags_value=", ".join(t.name for t in track.tags.all()), saved=saved,
        error=error, replacement=editing.pending_replacement(track)), status=status)


@body_limit(lambda: settings.MAX_IMAGE_UPLOAD_BYTES)
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit_page(request, track_id: int):
    try:
        track = _manageable(request, track_id)
    except Forbidden:
        return HttpResponseForbidden(gettext("Only its uploader, or a member who may manage tracks, can change "
                                             "this track."))
    if request.method != "POST":
        return _edit_page(request, track)
    data = request.POST
    try:
        track = editing.edit_track(
            actor=request.user, track_id=track.id, title=data.get("title", ""),
            description=data.get("description", ""), genre=data.get("genre", ""), tags=data.get("tags", ""),
            credits=data.get("credits", ""), licence=data.get("licence", Licence.ALL_RIGHTS_RESERVED),
            release_at=data.get("release_at", ""), downloadable="downloadable" in data,
            cover=request.FILES.get("cover"))
    except DomainError as exc:
        track.refresh_from_db()
        return _edit_page(request, track, error=exc, status=exc.status)
    return _edit_page(request, track, saved=gettext("Saved."))


@body_limit(lambda: settings.TRACK_MAX_BYTES)
@login_required
@require_POST
def replace_audio_page(request, track_id: int):
    try:
        track = _manageable(request, track_id)
    except Forbidden:
        return HttpResponseForbidden(gettext("Only its uploader, or a member who may manage tracks, can change "
                                             "this track."))
    try:
        editing.replace_audio(actor=request.user, track_id=track.id, upload=request.FILES.get("file"))
    except DomainError as exc:
        return _edit_page(request, track, error=exc, status=exc.status)
    return redirect("tracks:edit", track_id=track.id)


@login_required
@require_safe
def insights_page(request, track_id: int):
    try:
        track = _manageable(request, track_id)
    except Forbidden:
        return HttpResponseForbidden(gettext("Only its uploader can see this track's insights."))
    found = stats.track_insights(track)
    return render(request, "tracks/insights.html", shell_context(
        request, access_guild(request.user, track.guild_id), track=track, tracks_page=True, insights=found,
        chart=stats.chart(found), recent=list(reversed(found.days))))


@login_required
@require_safe
def download(request, track_id: int):
    """The original file as uploaded, to those who may read the track, when its owner allows it (403
    otherwise; 404 for those who cannot read it)."""
    try:
        track = selectors.playable_track(request.user, track_id)
    except NotFound:
        raise Http404 from None
    if not track.downloadable and track.owner_id != request.user.id:
        return HttpResponseForbidden(gettext("Its uploader does not allow downloading this track."))
    try:
        fh = default_storage.open(track.original.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    name = f"{slugify(track.title) or 'track'}.{track.original_format}"
    response = FileResponse(fh, as_attachment=True, filename=name, content_type="application/octet-stream")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
