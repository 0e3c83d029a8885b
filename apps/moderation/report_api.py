"""Reports through the API: file one (`POST /api/reports`), list one's own with their outcome
(`GET /api/reports`). Moderators decide in the admin's review queue."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import validated
from apps.core.fields import IdField, StrictCharField

from . import payloads
from . import report_services as services
from .models import Report
from .serializers import ReportOut


class ReportIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=Report.Kind.choices)
    id = IdField(min_value=1, help_text="The message, track, track comment or user id.")
    reason = serializers.ChoiceField(choices=Report.Category.choices)
    details = StrictCharField(max_length=services.DETAILS_MAX, required=False, default="", allow_blank=True)
    guild_id = IdField(required=False, allow_null=True, default=None,
                                        help_text="For a user: the guild where they are reported.")


class ReportsView(APIView):
    @extend_schema(responses=ReportOut(many=True), summary="My reports, newest first, with their outcome")
    def get(self, request):
        return Response([payloads.report_payload(r) for r in services.my_reports(request.user)])

    @extend_schema(request=ReportIn, responses={201: ReportOut, 200: ReportOut},
                   summary="Report a message, a track, a track comment or a member (201; 200: already reported)")
    def post(self, request):
        d = validated(ReportIn, request.data)
        report, created = services.report(reporter=request.user, kind=d["type"], item_id=d["id"],
                                          category=d["reason"], details=d["details"], guild_id=d["guild_id"])
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(payloads.report_payload(report), status=code)
