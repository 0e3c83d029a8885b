"""The artist tools' API: thin doors onto editing.py and stats.py."""
from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import CappedUploadView, body_object, validated_query
from apps.core.errors import ValidationFailed

from . import editing, payloads, services, stats
from . import serializers as s

EDITABLE = ("title", "description", "genre", "tags", "credits", "licence", "release_at", "downloadable")


def edit(request, track_id):
    """PATCH /api/tracks/{id} (TrackView.patch): change what the body names."""
    data = body_object(request)
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise ValidationFailed.field(unknown[0], gettext("This field cannot be changed."))
    track = editing.edit_track(actor=request.user, track_id=track_id, **{k: data[k] for k in EDITABLE if k in data})
    return Response(payloads.track_details(track))


class TrackAudioView(CappedUploadView):
    def upload_limit(self) -> int:
        return settings.TRACK_MAX_BYTES

    def too_large(self):
        return services.track_too_large()

    @extend_schema(request={"multipart/form-data": s.AudioReplace}, responses={202: s.ReplacementOut},
                   summary="Replace a track's audio (its uploader, or MANAGE_TRACKS)",
                   description="The file is checked as an upload is (400 `not_audio`, `too_long`…, 413 "
                   "`file_too_large`): a refused file changes nothing. The pipeline then runs on it; the old audio "
                   "plays until the new one is ready, when the track takes its media and keeps its likes, reposts, "
                   "comments and plays. 409 `replacement_pending` while another replacement is processed.")
    def post(self, request, track_id):
        self.check_cap()
        found = editing.replace_audio(actor=request.user, track_id=track_id, upload=request.FILES.get("file"))
        return Response(payloads.replacement(track_id, found), status=status.HTTP_202_ACCEPTED)


class TrackInsightsView(APIView):
    @extend_schema(responses=s.InsightsOut, summary="Plays, listeners, likes, reposts, comments per UTC day",
                   parameters=[OpenApiParameter("days", int, description="1-365, 30 by default.")])
    def get(self, request, track_id):
        track = editing.manageable_track(request.user, track_id)
        days = validated_query(s.InsightsQuery, request.query_params)["days"]
        return Response(payloads.insights(stats.track_insights(track, days=days)))
