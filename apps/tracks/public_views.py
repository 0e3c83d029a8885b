"""What signed-out visitors and other sites see of tracks: the public track page (for anyone who
may hear a track but is not a member of its guild), the embeddable players and oEmbed.

Pages carry Open Graph and Twitter-card tags, and the oEmbed discovery link, so a link unfurls in
other apps. Only the embeds of public and unlisted tracks (and of public playlists) may be framed
by other sites: there, and only there, `frame-ancestors *` replaces the site's `'none'` and
X-Frame-Options is left out; every other answer keeps both (DENY)."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from apps.core.errors import NotFound

from . import payloads, selectors
from .models import Track
from .visibility import payload_via_link, via_link

EMBED_WIDTH = 600
EMBED_HEIGHT = 166
PLAYLIST_EMBED_HEIGHT = 400
FRAMED_AUDIENCES = (Track.Audience.PUBLIC, Track.Audience.UNLISTED)


def _framable(response: HttpResponse) -> HttpResponse:
    response._csp_replace = {"frame-ancestors": ["*"]}  # read by django-csp's middleware
    response.xframe_options_exempt = True  # read by Django's XFrameOptionsMiddleware
    return response


def _cover(payload: dict, *, size: bool = False):
    """The largest cover's address ("" without a cover); with `size`, (address, its size in px)."""
    sizes = sorted(payload["cover_urls"], key=int)
    found = (payload["cover_urls"][sizes[-1]], int(sizes[-1])) if sizes else ("", 0)
    return found if size else found[0]


def _oembed_link(request, page_url: str) -> str:
    return request.build_absolute_uri(reverse("tracks:oembed") + "?" + urlencode({"url": page_url, "format": "json"}))


def share_meta(request, *, title: str, description: str, page: str, image: str = "", player: str = "",
               height: int = EMBED_HEIGHT, kind: str = "music.song", unlisted: bool = False) -> dict:
    """The Open Graph and Twitter-card tags of a shared page (templates/tracks/public/meta.html);
    addresses are made absolute."""
    absolute = request.build_absolute_uri
    page_url = absolute(page)
    return {"title": title, "description": description[:300], "url": page_url, "kind": kind,
            "image": absolute(image) if image else "", "player": absolute(player) if player else "",
            "width": EMBED_WIDTH, "height": height, "oembed": _oembed_link(request, page_url), "noindex": unlisted}


def track_page(request, track: Track, secret: str | None):
    """A track for someone outside its guild (the caller checked they may hear it): player,
    waveform, comments to read, and an invitation to sign in to comment."""
    payload = payload_via_link(payloads.track_payload(track), secret)
    comments = selectors.track_comments(track, request.user)
    description = track.description or gettext("%(title)s by %(artist)s on SmaRTC") % {
        "title": track.title, "artist": track.owner.shown_name}
    embed = via_link(reverse("tracks:embed", args=[track.id]), track.id, secret)
    meta = share_meta(request, title=track.title, description=description, page=payload["page_url"],
                      image=_cover(payload), player=embed, unlisted=track.audience != Track.Audience.PUBLIC)
    return render(request, "tracks/public/track.html", {
        "track": track, "payload": payload, "comments": comments, "meta": meta, "secret": secret or "",
        "cover": _cover(payload), "login_next": request.get_full_path()})


@require_safe
def embed_track(request, track_id: int, secret: str | None = None):
    """The small player other sites frame (public and unlisted tracks)."""
    try:
        track = selectors.playable_track(request.user, track_id, secret=secret)
    except NotFound:
        raise Http404 from None
    payload = payload_via_link(payloads.track_payload(track), secret)
    response = render(request, "tracks/public/embed.html", {
        "track": track, "payload": payload, "cover": _cover(payload), "secret": secret or "",
        "page_url": request.build_absolute_uri(payload["page_url"])})
    shared = track.audience in FRAMED_AUDIENCES and track.visibility == Track.Visibility.VISIBLE
    return _framable(response) if shared else response


@require_safe
def embed_playlist(request, playlist_id: int):
    """A public playlist's player for other sites: the tracks of it the visitor may hear."""
    try:
        playlist = selectors.visible_playlist(request.user, playlist_id)
    except NotFound:
        raise Http404 from None
    entries = selectors.playlist_entries(request.user, playlist)
    response = render(request, "tracks/public/embed_playlist.html", {
        "playlist": playlist, "entries": entries, "queue": [payloads.track_payload(e.track) for e in entries],
        "page_url": request.build_absolute_uri(reverse("tracks:playlist", args=[playlist.id]))})
    return _framable(response) if playlist.is_public else response


def _iframe(src: str, width: int, height: int, title: str) -> str:
    return format_html('<iframe width="{}" height="{}" src="{}" title="{}" frameborder="0" allow="autoplay" '
                       'loading="lazy"></iframe>', width, height, src, title)


def _size(request, default_width: int, default_height: int) -> tuple[int, int]:
    def bound(name, default):
        raw = request.GET.get(name, "")
        return min(default, int(raw)) if raw.isdigit() and int(raw) > 0 else default
    return bound("maxwidth", default_width), bound("maxheight", default_height)


@require_safe
def oembed(request):
    """oEmbed (https://oembed.com) for a track's or a playlist's address on this site, answered as to
    a signed-out visitor: only public tracks, unlisted ones by their secret link, public playlists;
    404 for anything else (as for an address that does not exist)."""
    if request.GET.get("format", "json") != "json":
        return HttpResponse(status=501)  # the spec's answer for a format not offered
    parts = urlsplit(request.GET.get("url", ""))
    if parts.netloc and parts.netloc != request.get_host():
        raise Http404
    try:
        match = resolve(parts.path or "/")
    except Resolver404:
        raise Http404 from None
    visitor = AnonymousUser()
    try:
        if match.url_name in ("page", "secret_page", "embed", "secret_embed"):
            track_id, secret = match.kwargs["track_id"], match.kwargs.get("secret")
            track = selectors.playable_track(visitor, track_id, secret=secret)
            title, author = track.title, track.owner
            src = via_link(reverse("tracks:embed", args=[track_id]), track_id, secret)
            width, height = _size(request, EMBED_WIDTH, EMBED_HEIGHT)
            thumbnail, side = _cover(payload_via_link(payloads.track_payload(track), secret), size=True)
        elif match.url_name in ("playlist", "embed_playlist"):
            playlist = selectors.visible_playlist(visitor, match.kwargs["playlist_id"])
            title, author, thumbnail, side = playlist.title, playlist.owner, "", 0
            src = reverse("tracks:embed_playlist", args=[playlist.id])
            width, height = _size(request, EMBED_WIDTH, PLAYLIST_EMBED_HEIGHT)
        else:
            raise Http404
    except NotFound:
        raise Http404 from None
    absolute = request.build_absolute_uri
    answer = {"version": "1.0", "type": "rich", "provider_name": "SmaRTC", "provider_url": absolute("/"),
              "title": title, "author_name": author.shown_name,
              "author_url": absolute(reverse("tracks:profile", args=[author.username])),
              "html": _iframe(absolute(src), width, height, title), "width": width, "height": height}
    if thumbnail:
        answer.update(thumbnail_url=absolute(thumbnail), thumbnail_width=side, thumbnail_height=side)
    response = JsonResponse(answer)
    response["Access-Control-Allow-Origin"] = "*"
    return response
