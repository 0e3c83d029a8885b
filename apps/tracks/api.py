"""The tracks API: thin doors onto services and selectors."""
from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import NO_CONTENT, CappedUploadView
from apps.core.errors import ValidationFailed
from apps.guilds.selectors import access_guild

from . import selectors, services
from . import serializers as s


class GuildTracksView(CappedUploadView):
    def upload_limit(self) -> int:
        return settings.TRACK_MAX_BYTES + settings.MAX_IMAGE_UPLOAD_BYTES  # the audio and its cover

    def too_large(self):
        return services.track_too_large()

    @extend_schema(responses=s.TrackOut(many=True),
                   summary="The guild's ready tracks, and your own still processing or failed, newest first")
    def get(self, request, guild_id):
        access = access_guild(request.user, guild_id)
        tracks = selectors.guild_tracks(access.guild, viewer=request.user)
        return Response([selectors.track_payload(t) for t in tracks])

    @extend_schema(request={"multipart/form-data": s.TrackUpload}, responses={201: s.TrackOut},
                   summary="Upload a track to a guild (UPLOAD_TRACKS)",
                   description="At most TRACK_MAX_BYTES (200 MB; 413 `file_too_large` above) and TRACK_MAX_SECONDS "
                   "of audio. The format is decided by decoding the file, never by its name: a file that does not "
                   "open as audio is refused with 400 `not_audio` and nothing is stored. The track then goes "
                   "`uploaded → processing → ready` (or `failed` with `failure_reason`) on the media queue; its "
                   "owner hears each step as a TRACK_UPDATE gateway event.")
    def post(self, request, guild_id):
        self.check_cap()
        for field in request.FILES:
            if field not in ("file", "cover") or len(request.FILES.getlist(field)) > 1:
                raise ValidationFailed.field(field, gettext("Send one audio file and at most one cover."))
        data = request.data
        track = services.upload_track(uploader=request.user, guild_id=guild_id, upload=request.FILES.get("file"),
                                      title=data.get("title", ""), description=data.get("description", ""),
                                      genre=data.get("genre", ""), tags=data.get("tags", ""),
                                      cover=request.FILES.get("cover"))
        return Response(selectors.track_payload(track), status=status.HTTP_201_CREATED)


class TrackView(APIView):
    @extend_schema(responses=s.TrackOut, summary="A track (members of its guild)")
    def get(self, request, track_id):
        return Response(selectors.track_payload(selectors.readable_track(request.user, track_id)))

    @extend_schema(responses=NO_CONTENT, summary="Delete a track (its uploader, or MANAGE_MESSAGES)")
    def delete(self, request, track_id):
        services.delete_track(actor=request.user, track=selectors.readable_track(request.user, track_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
