"""The API of who may hear a track (sharing.py): its audience, its secret link, the guild's rule."""
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import body_object
from apps.guilds.selectors import access_guild

from . import payloads, sharing
from . import serializers as s


class TrackSharingView(APIView):
    @extend_schema(responses=s.SharingOut, summary="A track's audience and secret link (its uploader)")
    def get(self, request, track_id):
        track = sharing.own_track(request.user, track_id)
        return Response(payloads.sharing_payload(track))

    @extend_schema(request=s.SharingIn, responses=s.SharingOut,
                   summary="Make a track guild-only, unlisted or public (its uploader)",
                   description="`public` where the guild forbids it is refused with 403 `public_tracks_forbidden`.")
    def put(self, request, track_id):
        track = sharing.set_track_audience(actor=request.user, track_id=track_id,
                                           audience=body_object(request).get("audience"))
        return Response(payloads.sharing_payload(track))


class TrackSecretView(APIView):
    @extend_schema(request=None, responses=s.SharingOut,
                   summary="A new secret link for the track (its uploader): the old one stops working")
    def post(self, request, track_id):
        return Response(payloads.sharing_payload(sharing.reset_track_secret(actor=request.user, track_id=track_id)))


class GuildTrackSettingsView(APIView):
    @extend_schema(responses=s.GuildTrackSettingsIO, summary="The guild's rules for its tracks (members)")
    def get(self, request, guild_id):
        access_guild(request.user, guild_id)
        return Response({"allow_public": sharing.public_tracks_allowed(guild_id)})

    @extend_schema(request=s.GuildTrackSettingsIO, responses=s.GuildTrackSettingsIO,
                   summary="Allow or forbid public tracks in the guild (MANAGE_GUILD)",
                   description="Forbidding brings the guild's public tracks back to `guild`.")
    def put(self, request, guild_id):
        allowed = sharing.set_public_tracks_allowed(actor=request.user, guild_id=guild_id,
                                                    allowed=body_object(request).get("allow_public"))
        return Response({"allow_public": allowed})
