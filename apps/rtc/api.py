"""The voice REST API: thin doors — parse, call a service, answer."""
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import validated
from apps.core.errors import ValidationFailed
from apps.core.fields import IdField
from apps.guilds.selectors import access_guild

from . import services
from .serializers import IceServersOut, VoiceStateOut


class VoiceStatePatch(serializers.Serializer):
    mute = serializers.BooleanField(required=False)
    deaf = serializers.BooleanField(required=False)
    channel_id = IdField(required=False, allow_null=True)


class IceServersView(APIView):
    @extend_schema(responses={
        200: IceServersOut,
        403: OpenApiResponse(description="missing_permission: no CONNECT in my voice channel any more (timed out)."),
        404: OpenApiResponse(description="not_found: my voice channel is not one I can view (kicked, banned)."),
        409: OpenApiResponse(description="not_in_voice: I am in no voice channel; a join answer carries the first."),
    }, summary="Renew my ICE servers and TURN credentials while I am in a voice channel")
    def get(self, request):
        return Response(services.ice_servers_for(user=request.user))


class VoiceStateView(APIView):
    @extend_schema(request=VoiceStatePatch, responses={200: VoiceStateOut, 204: None},
                   summary="Server mute or deafen (MUTE_MEMBERS, DEAFEN_MEMBERS), move or disconnect "
                           "(channel_id, null to disconnect; MOVE_MEMBERS) a participant")
    def patch(self, request, guild_id, user_id):
        access_guild(request.user, guild_id)
        data = validated(VoiceStatePatch, request.data)
        if not data:
            raise ValidationFailed(gettext("Send mute, deaf or channel_id."))
        kw = {"actor": request.user, "guild_id": guild_id, "user_id": user_id}
        state = None
        if "mute" in data:
            state = services.server_mute(**kw, mute=data["mute"])
        if "deaf" in data:
            state = services.server_deafen(**kw, deaf=data["deaf"])
        if "channel_id" in data:
            if data["channel_id"] is None:
                services.disconnect_member(**kw)
                return Response(status=204)
            state = services.move_member(**kw, channel_id=data["channel_id"])
        return Response(state)
