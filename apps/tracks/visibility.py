"""Who may hear a track: the one rule every read path applies (selectors.readable_track for one
track, selectors.readable_tracks for lists), and the secret links of unlisted tracks.

A track's `audience` widens its guild's: `guild` (its owner and the guild's members), `unlisted`
(and anyone holding its secret link, `/tracks/{id}/s/{secret}`; never listed, searched or trending
for anyone else) and `public` (anyone, signed out too; on its artist's profile, in search and
trending for everyone). Moderation comes first: a held track is seen only by its owner and the
guild's MANAGE_TRACKS members, a removed one by nobody, whatever its audience."""
from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db.models import Q

from apps.core.clientaddr import client_address
from apps.guilds.permissions import Permission
from apps.guilds.selectors import guild_permissions

from .models import Track

# Compared against when no track was found, so a miss costs what a wrong secret costs.
_NO_SECRET = "-" * 22


def secret_matches(track: Track | None, secret: str | None) -> bool:
    return hmac.compare_digest((secret or "").encode(), (track.secret if track else _NO_SECRET).encode())


def may_hear(user, track: Track, *, member, secret: str | None = None) -> bool:
    """The rule. `member` is the user's membership of the track's guild (None if none); `secret`
    what the address carried. Every answer takes the same work, so a refusal cannot be told from
    a missing track by its timing either."""
    by_link = secret_matches(track, secret)
    if track.visibility == Track.Visibility.REMOVED:
        return False
    owner = bool(user.is_authenticated and track.owner_id == user.id)
    if track.visibility == Track.Visibility.HELD:
        return owner or bool(member and guild_permissions(member) & Permission.MANAGE_TRACKS)
    if owner or member is not None or track.audience == Track.Audience.PUBLIC:
        return True
    return track.audience == Track.Audience.UNLISTED and by_link


def listed_to(viewer, member_guilds) -> Q:
    """The tracks a list (search, trending, profiles, the stream, playlists) may show the viewer,
    moderation aside: its guilds', its own and public ones. `member_guilds` is a values() query of
    the viewer's guild ids. Unlisted tracks are listed only to those who would see them anyway."""
    public = Q(audience=Track.Audience.PUBLIC)
    if not viewer.is_authenticated:
        return public
    return Q(guild_id__in=member_guilds) | Q(owner_id=viewer.id) | public


def via_link(url: str, track_id: int, secret: str | None) -> str:
    """`url`, one of the track's own addresses (page, media, embed), through its secret link."""
    if not url or not secret:
        return url
    for prefix in (f"/tracks/{track_id}", f"/embed/tracks/{track_id}"):
        if url == prefix or url.startswith(prefix + "/"):
            return f"{prefix}/s/{secret}{url[len(prefix):]}"
    return url


def payload_via_link(payload: dict, secret: str | None) -> dict:
    """A track's API shape (payloads.track_payload) whose addresses carry the secret link, for a
    listener who holds only that."""
    if not secret:
        return payload
    tid = payload["id"]
    out = {**payload, "cover_urls": {k: via_link(v, tid, secret) for k, v in payload["cover_urls"].items()}}
    for key in ("page_url", "stream_url", "hls_url", "peaks_url"):
        out[key] = via_link(payload[key], tid, secret)
    return out


def visitor_key(request) -> str:
    """Who a signed-out listener is, for counting plays once a day: their address and browser,
    keyed with the site's secret (nothing that names them is stored)."""
    raw = f"{client_address(request)}|{request.headers.get('User-Agent', '')}"
    return hmac.new(settings.SECRET_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()
