"""Reads of tracks that more than one caller needs: who may see a track, and how it is shown."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Case, Count, Exists, F, Func, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext

from apps.chat.selectors import SEARCH_CONFIG
from apps.core.errors import NotFound, ValidationFailed
from apps.guilds.models import Member
from apps.guilds.selectors import member_of

from .models import Follow, Playlist, PlaylistEntry, Track, TrackComment, TrackLike, TrackRepost
from .visibility import listed_to, may_hear


def readable_track(user, track_id: int, *, secret: str | None = None) -> Track:
    """A track the user may hear (visibility.may_hear: its owner, its guild's members, anyone for a
    public track, anyone with `secret` for an unlisted one; held ones only for their owner and
    MANAGE_TRACKS); 404 for anyone else, answered as for a track that does not exist."""
    track = Track.objects.select_related("owner", "guild").filter(pk=track_id).first()
    # The membership is looked up for a missing track too: a refusal and a miss cost the same queries.
    member = member_of(user, track.guild_id if track else 0)
    if track is None or track.replaces_id is not None or not may_hear(user, track, member=member, secret=secret):
        raise NotFound(gettext("Unknown track."))
    if not track.released and track.owner_id != user.id:  # a scheduled release: its owner's alone until its time
        raise NotFound(gettext("Unknown track."))
    return track


def playable_track(user, track_id: int, *, secret: str | None = None) -> Track:
    """A readable track whose renditions exist (404 until it is ready)."""
    track = readable_track(user, track_id, secret=secret)
    if track.state != Track.State.READY:
        raise NotFound(gettext("This track is not ready to play."))
    return track


def shown_tracks(viewer, *, manages: bool = False) -> Q:
    """The tracks moderation lets the viewer see: the visible ones and its own that are held; with
    `manages` (MANAGE_TRACKS in the guild being listed) every held one. Removed ones never; scheduled
    releases only their owner."""
    held = Q(visibility=Track.Visibility.HELD)
    shown = Q(visibility=Track.Visibility.VISIBLE) | (held if manages else held & Q(owner_id=viewer.id))
    # Scheduled releases wait for their time; audio replacements in the pipeline are never listed.
    return shown & (Q(released=True) | Q(owner_id=viewer.id)) & Q(replaces__isnull=True)


def guild_tracks(guild, *, viewer, manages: bool = False, limit: int = 100) -> list[Track]:
    """A guild's ready tracks, newest first, and the viewer's own tracks still processing or failed;
    held tracks only for their owner and, with `manages` (MANAGE_TRACKS), for moderators."""
    return list(Track.objects.filter(guild=guild).filter(Q(state=Track.State.READY) | Q(owner=viewer))
                .filter(shown_tracks(viewer, manages=manages))
                .select_related("owner").prefetch_related("tags")[:limit])


# --- the social layer -----------------------------------------------------------------------
# Every list below starts from readable_tracks: a viewer never sees, through a stream, a profile,
# a tag page, trending or search, a track of a guild it is not a member of, unless it is public.

def readable_tracks(viewer) -> QuerySet[Track]:
    """The ready tracks a list may show the viewer (visibility.listed_to): those of its guilds, its
    own and public ones. Held tracks only its own (moderators find the others in their guild's track
    list and the review queue)."""
    guild_ids = Member.objects.filter(user_id=viewer.id).values("guild_id")
    return (Track.objects.filter(state=Track.State.READY).filter(listed_to(viewer, guild_ids))
            .filter(shown_tracks(viewer)).select_related("owner").prefetch_related("tags"))


def viewer_state(viewer, track: Track) -> dict:
    """What the viewer did to the track (the page's toggle buttons)."""
    if not viewer.is_authenticated:
        return {"liked": False, "reposted": False}
    return {"liked": TrackLike.objects.filter(user=viewer, track=track).exists(),
            "reposted": TrackRepost.objects.filter(user=viewer, track=track).exists()}


def track_comments(track: Track, viewer=None) -> list[TrackComment]:
    """A track's comments in the order of the track (SoundCloud's waveform order): the visible
    ones, and the viewer's own that moderation holds for review (as chat's held messages)."""
    shown = Q(visibility=TrackComment.Visibility.VISIBLE)
    if viewer is not None and viewer.is_authenticated:
        shown |= Q(visibility=TrackComment.Visibility.HELD, author_id=viewer.id)
    return list(track.comments.filter(shown).select_related("author").order_by("position_ms", "id"))


def follow_state(viewer, user_id: int) -> dict:
    return {"following": Follow.objects.filter(follower=viewer, followee_id=user_id).exists(),
            "followers": Follow.objects.filter(followee_id=user_id).count()}


STREAM_PAGE = 20


@dataclass
class StreamItem:
    track: Track
    at: object  # when it was uploaded or reposted
    reposted_by: object = None  # the user who reposted it, None for an upload


@dataclass
class StreamPage:
    items: list[StreamItem] = field(default_factory=list)
    page: int = 1
    has_next: bool = False


def stream(viewer, *, page: int = 1, limit: int = STREAM_PAGE) -> StreamPage:
    """What the people the viewer follows uploaded or reposted, newest first, among the tracks the
    viewer may read. Each track comes once, at its newest activity: a track uploaded by one followee
    and reposted by two others is one entry, at the latest repost, naming that reposter."""
    if not isinstance(page, int) or page < 1 or page > 1000:
        raise ValidationFailed.field("page", gettext("A page number from 1 to 1000."))
    followees = Follow.objects.filter(follower=viewer).values("followee_id")
    newest_repost = (TrackRepost.objects.filter(track=OuterRef("pk"), user_id__in=followees)
                     .order_by("-created_at", "-id"))
    uploaded = Case(When(owner_id__in=followees, then=F("created_at")), default=None)
    found = (readable_tracks(viewer)
             .filter(Q(owner_id__in=followees) | Exists(newest_repost))
             .annotate(uploaded=uploaded, reposted=Subquery(newest_repost.values("created_at")[:1]),
                       reposter=Subquery(newest_repost.values("user_id")[:1]))
             # Greatest with both sides coalesced: PostgreSQL's skips NULLs, SQLite's would return NULL.
             .annotate(at=Greatest(Coalesce("uploaded", "reposted"), Coalesce("reposted", "uploaded")))
             .order_by("-at", "-id"))
    start = (page - 1) * limit
    rows = list(found[start:start + limit + 1])
    has_next, rows = len(rows) > limit, rows[:limit]
    users = get_user_model().objects.in_bulk([t.reposter for t in rows if t.reposter])
    items = []
    for track in rows:
        by_repost = track.reposted is not None and (track.uploaded is None or track.reposted > track.uploaded)
        items.append(StreamItem(track=track, at=track.at, reposted_by=users.get(track.reposter) if by_repost else None))
    return StreamPage(items=items, page=page, has_next=has_next)


TRENDING_LIMIT = 50


def trending_tracks(viewer, *, limit: int = TRENDING_LIMIT) -> list[Track]:
    """The viewer's readable tracks by trending score (services.recompute_trending), best first."""
    return list(readable_tracks(viewer).filter(trending_score__gt=0).order_by("-trending_score", "-id")[:limit])


PROFILE_LIMIT = 50


@dataclass
class Profile:
    user: object
    tracks: list[Track]
    likes: list[Track]
    reposts: list[Track]
    followers: int
    following: int
    followed: bool  # the viewer follows this user


def profile(viewer, username: str) -> Profile:
    """A user's tracks, likes and reposts as the viewer may see them (only tracks it can read)."""
    user = get_user_model().objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise NotFound(gettext("Unknown user."))
    readable = readable_tracks(viewer)
    return Profile(
        user=user,
        tracks=list(readable.filter(owner=user)[:PROFILE_LIMIT]),
        likes=list(readable.filter(likes__user=user).order_by("-likes__created_at")[:PROFILE_LIMIT]),
        reposts=list(readable.filter(reposts__user=user).order_by("-reposts__created_at")[:PROFILE_LIMIT]),
        followers=Follow.objects.filter(followee=user).count(),
        following=Follow.objects.filter(follower=user).count(),
        followed=viewer.is_authenticated and Follow.objects.filter(follower=viewer, followee=user).exists(),
    )


def tag_tracks(viewer, tag: str, *, limit: int = 100) -> list[Track]:
    return list(readable_tracks(viewer).filter(tags__name=tag.strip().lower())[:limit])


def genre_tracks(viewer, genre: str, *, limit: int = 100) -> list[Track]:
    return list(readable_tracks(viewer).filter(genre__iexact=genre.strip())[:limit])


SEARCH_QUERY_MAX = 200
SEARCH_WORDS_MAX = 16
SEARCH_LIMIT = 50
_WORD = re.compile(r"[^\W_]+")


class _TsVector(Func):
    # The exact expression of the GIN index track_search (migration 0003), so the planner uses it.
    template = f"to_tsvector('{SEARCH_CONFIG}'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


def search_tracks(viewer, q: str, *, limit: int = SEARCH_LIMIT) -> list[Track]:
    """The viewer's readable tracks whose title, tags, genre or artist match every word of `q`
    (each a prefix from three letters on, accents ignored), best match first. PostgreSQL ranks
    with full-text search; SQLite (make run) finds each word anywhere, newest first."""
    q = q if isinstance(q, str) else ""
    if len(q) > SEARCH_QUERY_MAX:
        raise ValidationFailed.field("q", gettext("A search is at most %(n)s characters.") % {"n": SEARCH_QUERY_MAX})
    words = [w.lower() for w in _WORD.findall(q)]
    if not words:
        raise ValidationFailed.field("q", gettext("Search for at least one word."))
    if len(words) > SEARCH_WORDS_MAX:
        raise ValidationFailed.field("q", gettext("A search has at most %(n)s words.") % {"n": SEARCH_WORDS_MAX})
    qs = readable_tracks(viewer)
    if connection.vendor != "postgresql":
        for w in words:
            qs = qs.filter(search_text__icontains=w)
        return list(qs.order_by("-id")[:limit])
    query = SearchQuery(" & ".join(f"'{w}':*" if len(w) >= 3 else f"'{w}'" for w in words),
                        search_type="raw", config=SEARCH_CONFIG)
    return list(qs.annotate(vector=_TsVector(F("search_text")), rank=SearchRank(F("vector"), query))
                .filter(vector=query).order_by("-rank", "-trending_score", "-id")[:limit])


# --- playlists ------------------------------------------------------------------------------
# A private playlist is its owner's alone (404 for anyone else); a public one is seen by all, but
# each viewer sees only the entries whose track it can read.

def visible_playlist(viewer, playlist_id: int) -> Playlist:
    playlist = Playlist.objects.select_related("owner").filter(pk=playlist_id).first()
    if playlist is None or (not playlist.is_public and playlist.owner_id != viewer.id):
        raise NotFound(gettext("Unknown playlist."))
    return playlist


def playlist_entries(viewer, playlist: Playlist) -> list[PlaylistEntry]:
    """The playlist's entries in order, among the tracks the viewer may read."""
    readable = readable_tracks(viewer)
    return list(playlist.entries.filter(track__in=readable.values("id")).order_by("position", "id")
                .select_related("track__owner").prefetch_related("track__tags"))


def _with_counts(viewer, playlists: QuerySet[Playlist]) -> list[Playlist]:
    readable = readable_tracks(viewer).values("id")
    return list(playlists.select_related("owner")
                .annotate(track_count=Count("entries", filter=Q(entries__track__in=readable))))


def own_playlists(viewer) -> list[Playlist]:
    return _with_counts(viewer, Playlist.objects.filter(owner=viewer))


def user_playlists(viewer, user_id: int) -> list[Playlist]:
    """A user's public playlists (and private ones too when the viewer is that user)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound(gettext("Unknown user."))
    found = Playlist.objects.filter(owner=user)
    if user.pk != viewer.id:
        found = found.filter(is_public=True)
    return _with_counts(viewer, found)
