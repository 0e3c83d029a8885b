"""Writes about who may hear a track (the rule itself is visibility.py): a track's audience, a
reset of its secret link, and a guild forbidding public tracks."""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from apps.core.errors import Forbidden, NotFound, ValidationFailed
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_guild

from . import events
from .models import GuildTrackSettings, Track, new_secret
from .selectors import readable_track


class PublicTracksForbidden(Forbidden):
    code = "public_tracks_forbidden"


def public_tracks_allowed(guild_id: int) -> bool:
    found = GuildTrackSettings.objects.filter(guild_id=guild_id).values_list("allow_public", flat=True).first()
    return found is None or found


def own_track(actor, track_id: int) -> Track:
    track = readable_track(actor, track_id)
    if track.owner_id != actor.id:
        raise NotFound(gettext("Unknown track."))  # only its uploader decides, and others may not learn more
    return track


def set_track_audience(*, actor, track_id: int, audience) -> Track:
    """Its uploader makes a track guild-only, unlisted or public (public only where its guild allows it)."""
    if audience not in Track.Audience.values:
        raise ValidationFailed.field("audience", gettext("Choose guild, unlisted or public."))
    track = own_track(actor, track_id)
    if audience == Track.Audience.PUBLIC and not public_tracks_allowed(track.guild_id):
        raise PublicTracksForbidden(gettext("This guild does not allow public tracks."))
    if track.audience != audience:
        track.audience = audience
        with transaction.atomic():
            track.save(update_fields=["audience"])
            events.track_update(track)
    return track


def reset_track_secret(*, actor, track_id: int) -> Track:
    """A new secret link for the track: the old one stops working at once."""
    track = own_track(actor, track_id)
    track.secret = new_secret()
    track.save(update_fields=["secret"])
    return track


def set_public_tracks_allowed(*, actor, guild_id: int, allowed) -> bool:
    """MANAGE_GUILD allows or forbids public tracks in the guild; forbidding brings its public tracks
    back to the guild (a guild that wants its music in the family keeps it there)."""
    if not isinstance(allowed, bool):
        raise ValidationFailed.field("allow_public", gettext("Say true or false."))
    access_guild(actor, guild_id).require(Permission.MANAGE_GUILD)
    with transaction.atomic():
        GuildTrackSettings.objects.update_or_create(guild_id=guild_id, defaults={"allow_public": allowed})
        if not allowed:
            Track.objects.filter(guild_id=guild_id, audience=Track.Audience.PUBLIC).update(
                audience=Track.Audience.GUILD)
    return allowed
