"""The DM REST API: list and open DMs, create group DMs, add/remove recipients, rename a group.
Messages of a DM use chat's channel endpoints with the DM's channel id."""
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import NO_CONTENT, validated
from apps.core.errors import ValidationFailed
from apps.core.fields import IdField, StrictCharField

from . import selectors, services
from .serializers import DMChannelOut


class OpenIn(serializers.Serializer):
    recipient_id = IdField(required=False, help_text="Open the 1:1 DM with this user.")
    recipient_ids = serializers.ListField(child=IdField(), required=False, max_length=50,
                                          help_text="Create a group DM with these users (at most 9: 10 with you).")
    name = StrictCharField(required=False, allow_blank=True, max_length=1000, trim_whitespace=False,
                           help_text="The group DM's name (optional).")


class RenameIn(serializers.Serializer):
    name = StrictCharField(allow_blank=True, max_length=1000, trim_whitespace=False)


class MyChannelsView(APIView):
    @extend_schema(responses=DMChannelOut(many=True),
                   summary="Your DMs and group DMs, most recent activity first, with unread counts")
    def get(self, request):
        return Response(selectors.dm_list(request.user))

    @extend_schema(request=OpenIn, responses={200: DMChannelOut, 201: DMChannelOut},
                   summary="Open the 1:1 DM with a user (200 if it exists), or create a group DM (201)")
    def post(self, request):
        d = validated(OpenIn, request.data)
        if ("recipient_id" in d) == ("recipient_ids" in d):
            raise ValidationFailed.field("recipient_id", gettext("Send either recipient_id or recipient_ids."))
        if "recipient_id" in d:
            channel, created = services.open_dm(user=request.user, recipient_id=d["recipient_id"])
        else:
            channel = services.create_group_dm(owner=request.user, recipient_ids=d["recipient_ids"],
                                               name=d.get("name", ""))
            created = True
        return Response(selectors.dm_entry(request.user, channel.id),
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MyChannelView(APIView):
    @extend_schema(request=RenameIn, responses=DMChannelOut, summary="Rename a group DM (any of its members)")
    def patch(self, request, channel_id):
        name = validated(RenameIn, request.data)["name"]
        services.rename_group_dm(actor=request.user, channel_id=channel_id, name=name)
        return Response(selectors.dm_entry(request.user, channel_id))


class RecipientView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT, summary="Add someone to your group DM (its owner)")
    def put(self, request, channel_id, user_id):
        services.add_recipient(actor=request.user, channel_id=channel_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=NO_CONTENT,
                   summary="Remove someone from your group DM (its owner), or leave it (your own id)")
    def delete(self, request, channel_id, user_id):
        services.remove_recipient(actor=request.user, channel_id=channel_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
