"""The notifications REST API: a member's notification settings (per guild, per channel or DM) and
their devices' Web Push subscriptions. Thin: parse, call the service, answer with the selectors'
shapes (built by payloads.py, documented by serializers.py)."""
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import NO_CONTENT, body_object, validated
from apps.core.errors import Conflict, PayloadTooLarge
from apps.core.fields import StrictCharField
from apps.guilds.selectors import access_channel, access_guild

from . import payloads, push, selectors, services
from .models import ChannelLevel, Level
from .serializers import AllSettingsOut, SettingsOut, SubscriptionOut, VapidKeyOut

MUTE_CHOICES = [(m, f"{m} minutes") for m in services.MUTE_MINUTES]
MUTE_HELP = ("With muted: true, how long the mute lasts (15, 60, 480 or 1440 minutes); null or absent: until "
             "turned back on. A mute silences all but the pings and hides the unread badge.")


class GuildSettingsIn(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices, required=False,
                                    help_text="all: every message; mentions: only what pings you; nothing.")
    suppress_everyone = serializers.BooleanField(required=False, help_text="@everyone and @here ping you no more.")
    muted = serializers.BooleanField(required=False)
    mute_minutes = serializers.ChoiceField(choices=MUTE_CHOICES, required=False, allow_null=True, help_text=MUTE_HELP)


class ChannelSettingsIn(serializers.Serializer):
    level = serializers.ChoiceField(choices=ChannelLevel.choices, required=False,
                                    help_text="inherit: the guild's level (a DM: all messages).")
    muted = serializers.BooleanField(required=False)
    mute_minutes = serializers.ChoiceField(choices=MUTE_CHOICES, required=False, allow_null=True, help_text=MUTE_HELP)


class MySettingsView(APIView):
    @extend_schema(responses=AllSettingsOut, summary="Your notification settings that differ from the defaults")
    def get(self, request):
        return Response(selectors.settings_of(request.user))


class GuildSettingsView(APIView):
    @extend_schema(responses=SettingsOut, summary="Your notification settings for a guild")
    def get(self, request, guild_id):
        access_guild(request.user, guild_id)
        return Response(payloads.guild_settings(selectors.default_guild_settings(request.user, guild_id)))

    @extend_schema(request=GuildSettingsIn, responses=SettingsOut,
                   summary="Change your notifications for a guild: level, @everyone and @here, mute")
    def patch(self, request, guild_id):
        d = validated(GuildSettingsIn, body_object(request))
        row = services.update_guild_settings(user=request.user, guild_id=guild_id, **d)
        return Response(payloads.guild_settings(row))


class ChannelSettingsView(APIView):
    @extend_schema(responses=SettingsOut, summary="Your notification settings for a channel or a DM")
    def get(self, request, channel_id):
        channel = access_channel(request.user, channel_id).channel
        return Response(payloads.channel_settings(selectors.default_channel_settings(request.user, channel)))

    @extend_schema(request=ChannelSettingsIn, responses=SettingsOut,
                   summary="Override a channel's notifications, or set a DM's: level, mute")
    def patch(self, request, channel_id):
        d = validated(ChannelSettingsIn, body_object(request))
        row = services.update_channel_settings(user=request.user, channel_id=channel_id, **d)
        return Response(payloads.channel_settings(row))


class VapidKeyView(APIView):
    @extend_schema(responses={200: VapidKeyOut, 409: OpenApiResponse(description="Web Push is not set up.")},
                   summary="The server's VAPID public key, for PushManager.subscribe")
    def get(self, request):
        if not push.enabled():
            raise Conflict(gettext("Web Push is not set up on this server."), code="push_disabled")
        return Response({"public_key": push.public_key()})


class KeysIn(serializers.Serializer):
    p256dh = StrictCharField(max_length=100)
    auth = StrictCharField(max_length=40)


class SubscriptionIn(serializers.Serializer):
    """A PushSubscription as the browser's toJSON() gives it."""

    endpoint = StrictCharField(max_length=push.ENDPOINT_MAX)
    keys = KeysIn()
    expirationTime = serializers.IntegerField(required=False, allow_null=True)  # the browser's own name


class EndpointIn(serializers.Serializer):
    endpoint = StrictCharField(max_length=push.ENDPOINT_MAX)


class SubscriptionsView(APIView):
    # A subscription is a URL and two keys: anything much larger is not one.
    MAX_BODY_BYTES = 4096

    @classmethod
    def max_body_bytes(cls) -> int:
        return cls.MAX_BODY_BYTES

    def too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(gettext("A push subscription is at most %(n)s KB.") % {"n": self.MAX_BODY_BYTES // 1024},
                               code="request_too_large")

    @extend_schema(responses=SubscriptionOut(many=True), summary="Your devices that get Web Push")
    def get(self, request):
        return Response([payloads.subscription(s) for s in selectors.push_subscriptions([request.user.id])])

    @extend_schema(request=SubscriptionIn, responses={200: SubscriptionOut, 201: SubscriptionOut},
                   summary="Subscribe this device to Web Push (201), or refresh its subscription (200)")
    def post(self, request):
        d = validated(SubscriptionIn, body_object(request))
        sub, created = services.subscribe(user=request.user, endpoint=d["endpoint"], p256dh=d["keys"]["p256dh"],
                                          auth=d["keys"]["auth"], user_agent=request.headers.get("User-Agent", ""),
                                          language=getattr(request, "LANGUAGE_CODE", ""))
        return Response(payloads.subscription(sub), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=EndpointIn, responses=NO_CONTENT, summary="Stop Web Push to this device")
    def delete(self, request):
        d = validated(EndpointIn, body_object(request))
        services.unsubscribe(user=request.user, endpoint=d["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)
