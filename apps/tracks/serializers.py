"""Shapes of the tracks API, for validation of what comes in and for the OpenAPI schema."""
from rest_framework import serializers

from apps.core.fields import IdField, StrictCharField

from . import events


class TrackUpload(serializers.Serializer):
    file = serializers.FileField(help_text="The audio: mp3, ogg/opus, flac, wav or m4a/aac, decided by decoding it.")
    title = StrictCharField(max_length=100)
    description = StrictCharField(max_length=4000, required=False, allow_blank=True)
    genre = StrictCharField(max_length=40, required=False, allow_blank=True)
    tags = StrictCharField(required=False, allow_blank=True, help_text="Comma-separated, at most 10.")
    cover = serializers.ImageField(required=False, help_text="PNG, JPEG, GIF or WebP; WebP thumbnails are made.")


class Owner(serializers.Serializer):
    id = serializers.IntegerField()
    username = StrictCharField()
    display_name = StrictCharField()
    profile_url = StrictCharField()
    avatar = StrictCharField(allow_null=True, help_text="A thumbnail of at least 48 px, or null.")


class TrackStatus(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["uploaded", "processing", "ready", "failed"])
    step = StrictCharField(help_text="The pipeline step running or next: probe, waveform, renditions, artwork.")
    failure_reason = StrictCharField()
    held = serializers.BooleanField(help_text="Moderation holds it for review: only its owner and members with "
                                    "MANAGE_TRACKS see it.")
    audience = serializers.ChoiceField(choices=["guild", "unlisted", "public"], help_text="Who may hear it besides "
                                       "its guild: nobody, anyone with its secret link, anyone (docs/tracks.md).")


class TrackOut(TrackStatus):
    guild_id = serializers.IntegerField()
    owner = Owner()
    title = StrictCharField()
    description = StrictCharField()
    genre = StrictCharField()
    tags = serializers.ListField(child=StrictCharField())
    duration_ms = serializers.IntegerField(allow_null=True)
    sample_rate = serializers.IntegerField(allow_null=True)
    channels = serializers.IntegerField(allow_null=True)
    bitrate = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    like_count = serializers.IntegerField()
    repost_count = serializers.IntegerField()
    comment_count = serializers.IntegerField()
    play_count = serializers.IntegerField(help_text="Distinct plays: one per listener per day.")
    page_url = StrictCharField()
    stream_url = StrictCharField(allow_null=True, help_text="Progressive AAC; answers HTTP Range.")
    hls_url = StrictCharField(allow_null=True, help_text="HLS master playlist (64/128/256 kbps AAC).")
    peaks_url = StrictCharField(allow_null=True, help_text="Waveform peaks, BBC audiowaveform JSON v2.")
    cover_urls = serializers.DictField(child=StrictCharField(), help_text="Thumbnail size (px) → WebP URL.")


class Counts(serializers.Serializer):
    id = serializers.IntegerField()
    like_count = serializers.IntegerField()
    repost_count = serializers.IntegerField()
    comment_count = serializers.IntegerField()
    play_count = serializers.IntegerField()
    liked = serializers.BooleanField(help_text="You like this track.")
    reposted = serializers.BooleanField(help_text="You reposted this track.")


class CommentIn(serializers.Serializer):
    body = StrictCharField(max_length=1000, help_text="1 to 1000 characters.")
    position_ms = serializers.IntegerField(min_value=0, help_text="Where in the track, from 0 to its duration_ms.")
    channel_id = IdField(required=False, help_text="Also post a message linking this moment and "
                                          "the comment to this channel (SEND_MESSAGES).")


class CommentOut(serializers.Serializer):
    id = serializers.IntegerField()
    track_id = serializers.IntegerField()
    author = Owner()
    body = StrictCharField()
    position_ms = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    held = serializers.BooleanField(help_text="Moderation holds it for review: only its author sees it.")
    message_id = serializers.IntegerField(required=False, help_text="The channel message, when channel_id was sent.")


class PlayOut(serializers.Serializer):
    counted = serializers.BooleanField(help_text="False when you already played this track today.")
    play_count = serializers.IntegerField()


class FollowOut(serializers.Serializer):
    following = serializers.BooleanField()
    followers = serializers.IntegerField(help_text="How many users follow this user now.")


class StreamItemOut(serializers.Serializer):
    track = TrackOut()
    at = serializers.DateTimeField(help_text="When it was uploaded, or reposted.")
    reposted_by = Owner(allow_null=True, help_text="Who reposted it; null for an upload.")


class StreamOut(serializers.Serializer):
    items = StreamItemOut(many=True)
    page = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True)


class PlaylistIn(serializers.Serializer):
    title = StrictCharField(max_length=100, help_text="1 to 100 characters.")
    description = StrictCharField(max_length=4000, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False, default=True,
                                         help_text="A private playlist is 404 for everyone but its owner.")


class PlaylistPatch(serializers.Serializer):
    title = StrictCharField(max_length=100, required=False)
    description = StrictCharField(max_length=4000, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False)


class PlaylistEntryOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The entry (what PUT …/order lists), not the track.")
    position = serializers.IntegerField()
    track = TrackOut()


class PlaylistOut(serializers.Serializer):
    id = serializers.IntegerField()
    owner = Owner()
    title = StrictCharField()
    description = StrictCharField()
    is_public = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    page_url = StrictCharField()
    track_count = serializers.IntegerField(help_text="How many of its tracks you can read.")


class PlaylistDetailOut(PlaylistOut):
    entries = PlaylistEntryOut(many=True, help_text="In order; only the tracks you can read.")


class PlaylistTrackIn(serializers.Serializer):
    track_id = IdField()


class PlaylistOrderIn(serializers.Serializer):
    entry_ids = serializers.ListField(
        child=IdField(),
        help_text="Every entry id of the playlist you can see, once each, in the new order.")


# --- events: what each track event's `d` is (built by payloads.py; see EVENT_SHAPES) -------------

class TrackDeleteEventOut(serializers.Serializer):
    """TRACK_DELETE, to the owner: the track is gone (deleted, or removed by moderation)."""

    id = serializers.IntegerField()


class CommentEventOut(CommentOut):
    """TRACK_COMMENT_CREATE: the comment as GET /api/tracks/{id}/comments lists it, and its guild."""

    message_id = None
    guild_id = serializers.IntegerField()


class CommentDeleteEventOut(serializers.Serializer):
    guild_id = serializers.IntegerField()
    track_id = serializers.IntegerField()
    id = serializers.IntegerField()


# The gateway events of tracks, each with the serializer that documents its `d` (in /api/schema/
# under x-gateway-events; tests/integration/test_payloads.py checks real events against them).
EVENT_SHAPES = {
    events.TRACK_UPDATE: TrackStatus,
    events.TRACK_DELETE: TrackDeleteEventOut,
    events.TRACK_COMMENT_CREATE: CommentEventOut,
    events.TRACK_COMMENT_DELETE: CommentDeleteEventOut,
}


class SharingIn(serializers.Serializer):
    audience = serializers.ChoiceField(choices=["guild", "unlisted", "public"])


class SharingOut(serializers.Serializer):
    id = serializers.IntegerField()
    audience = serializers.ChoiceField(choices=["guild", "unlisted", "public"])
    secret_url = StrictCharField(help_text="The unlisted link: anyone holding it may hear the track.")
    embed_url = StrictCharField()
    secret_embed_url = StrictCharField()


class GuildTrackSettingsIO(serializers.Serializer):
    allow_public = serializers.BooleanField(help_text="Off: no track of the guild may be public.")
# --- artist tools (editing.py, stats.py) -------------------------------------------------------------

LICENCES = ["arr", "cc-by", "cc-by-sa", "cc-by-nd", "cc-by-nc", "cc-by-nc-sa", "cc-by-nc-nd", "cc0"]


class TrackEdit(serializers.Serializer):
    title = StrictCharField(max_length=100, required=False)
    description = StrictCharField(max_length=4000, required=False, allow_blank=True)
    genre = StrictCharField(max_length=40, required=False, allow_blank=True)
    tags = serializers.ListField(child=StrictCharField(max_length=30), required=False, max_length=10)
    credits = StrictCharField(max_length=2000, required=False, allow_blank=True)
    licence = serializers.ChoiceField(choices=LICENCES, required=False, help_text="arr: all rights reserved.")
    release_at = serializers.DateTimeField(required=False, allow_null=True,
                                           help_text="In the future, at most a year ahead; null: released now.")
    downloadable = serializers.BooleanField(required=False)


class TrackDetailsOut(TrackOut):
    credits = StrictCharField()
    licence = serializers.ChoiceField(choices=LICENCES)
    release_at = serializers.DateTimeField(allow_null=True)
    released = serializers.BooleanField(help_text="False while a scheduled release waits: only its owner sees it.")
    downloadable = serializers.BooleanField()
    download_url = StrictCharField(allow_null=True, help_text="The original file, when downloads are allowed.")


class AudioReplace(serializers.Serializer):
    file = serializers.FileField(help_text="The new audio, checked as an upload is.")


class ReplacementOut(serializers.Serializer):
    track_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["uploaded", "processing", "ready", "failed"])
    failure_reason = StrictCharField()


class InsightDayOut(serializers.Serializer):
    day = serializers.DateField()
    plays = serializers.IntegerField()
    listeners = serializers.IntegerField()
    likes = serializers.IntegerField()
    reposts = serializers.IntegerField()
    comments = serializers.IntegerField()


class InsightsQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365, default=30, help_text="Days back from today.")


class InsightsOut(serializers.Serializer):
    listeners = serializers.IntegerField(help_text="Distinct listeners over the period.")
    days = InsightDayOut(many=True)
