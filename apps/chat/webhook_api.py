"""Incoming webhooks over the API: managed by members (MANAGE_WEBHOOKS), executed by anyone holding
the URL. The execute view answers at /api/webhooks/{id}/{token} and, for Discord clients and
libraries, at /api/v10/webhooks/{id}/{token}: one view, two routes."""
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import NO_CONTENT, validated
from apps.core.errors import RateLimited
from apps.core.fields import StrictCharField
from apps.core.parsers import FormParser, JSONParser, MultiPartParser

from . import payloads, uploads, webhooks
from . import serializers as s


class WebhookIn(serializers.Serializer):
    name = StrictCharField(max_length=80)


class WebhookOut(serializers.Serializer):
    id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    guild_id = serializers.IntegerField()
    name = StrictCharField()
    creator = StrictCharField(allow_null=True)
    created_at = serializers.DateTimeField()
    token = StrictCharField(required=False, help_text="Only when the webhook is made or its token regenerated: "
                            "it is never shown again (only a hash is kept).")
    url = StrictCharField(required=False, help_text="With `token`: the URL to post to.")


class WebhookExecuteIn(serializers.Serializer):
    """Discord's execute-webhook body (JSON, or multipart with the same object in `payload_json`)."""

    content = StrictCharField(required=False, help_text="Markdown, as a message.")
    username = StrictCharField(required=False, help_text="The name to show (1-80 characters); the webhook's "
                               "own by default.")
    avatar_url = StrictCharField(required=False, help_text="An http(s) image URL to show as the avatar.")
    embeds = serializers.ListField(child=s.EmbedIn(), required=False, help_text="Up to 10 rich embeds.")
    allowed_mentions = serializers.DictField(required=False, help_text="Discord's {parse, users, roles}. Absent: "
                                             "users and roles are pinged, @everyone and @here never.")


def webhook_payload(webhook, *, token: str | None = None, request=None) -> dict:
    out = {"id": webhook.id, "channel_id": webhook.channel_id, "guild_id": webhook.channel.guild_id,
           "name": webhook.name, "creator": webhook.creator.username if webhook.creator else None,
           "created_at": webhook.created_at.isoformat()}
    if token is not None:
        path = f"/api/webhooks/{webhook.id}/{token}"
        out.update(token=token, url=request.build_absolute_uri(path) if request else path)
    return out


class ChannelWebhooksView(APIView):
    @extend_schema(responses=WebhookOut(many=True), summary="A channel's webhooks (MANAGE_WEBHOOKS)")
    def get(self, request, channel_id):
        return Response([webhook_payload(w) for w in webhooks.channel_webhooks(request.user, channel_id)])

    @extend_schema(request=WebhookIn, responses={201: WebhookOut}, summary="Make a webhook (MANAGE_WEBHOOKS)",
                   description="The answer holds the token and URL: the only time they are shown.")
    def post(self, request, channel_id):
        name = validated(WebhookIn, request.data)["name"]
        webhook, token = webhooks.create_webhook(actor=request.user, channel_id=channel_id, name=name)
        return Response(webhook_payload(webhook, token=token, request=request), status=status.HTTP_201_CREATED)


class WebhookView(APIView):
    @extend_schema(responses=WebhookOut, summary="A webhook (MANAGE_WEBHOOKS)")
    def get(self, request, webhook_id):
        return Response(webhook_payload(webhooks.managed_webhook(request.user, webhook_id)))

    @extend_schema(request=WebhookIn, responses=WebhookOut, summary="Rename a webhook (MANAGE_WEBHOOKS)")
    def patch(self, request, webhook_id):
        webhook = webhooks.managed_webhook(request.user, webhook_id)
        name = validated(WebhookIn, request.data)["name"]
        return Response(webhook_payload(webhooks.rename_webhook(actor=request.user, webhook=webhook, name=name)))

    @extend_schema(responses=NO_CONTENT, summary="Delete a webhook (MANAGE_WEBHOOKS)")
    def delete(self, request, webhook_id):
        webhooks.delete_webhook(actor=request.user, webhook=webhooks.managed_webhook(request.user, webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookTokenView(APIView):
    @extend_schema(request=None, responses=WebhookOut, summary="Regenerate a webhook's token (MANAGE_WEBHOOKS)",
                   description="The old URL stops working at once; the answer holds the new one.")
    def post(self, request, webhook_id):
        webhook = webhooks.managed_webhook(request.user, webhook_id)
        webhook, token = webhooks.regenerate_token(actor=request.user, webhook=webhook)
        return Response(webhook_payload(webhook, token=token, request=request))


class WebhookExecuteView(APIView):
    """No session and no CSRF: the token in the URL is the credential."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    max_body_bytes = staticmethod(uploads.max_body_bytes)  # files travel with the message

    @extend_schema(request={"application/json": WebhookExecuteIn, "multipart/form-data": WebhookExecuteIn},
                   parameters=[OpenApiParameter("wait", bool, description="true: answer with the message sent.")],
                   responses={200: s.MessageOut, 204: OpenApiResponse(description="Sent.")},
                   summary="Post through a webhook (Discord's execute webhook)", auth=[],
                   description="Past the webhook's rate the 429 also carries Discord's `message`, `retry_after` "
                   "and `global` at the top level, next to `error`.")
    def post(self, request, webhook_id, token):
        data, files = uploads.json_and_files(request)
        try:
            msg = webhooks.execute(webhook_id=webhook_id, token=token, data=data, files=files)
        except RateLimited as exc:
            # Discord's shape (message, retry_after, global) around SmaRTC's error.
            body = {"message": exc.message, "retry_after": exc.retry_after, "global": False, "error": exc.as_dict()}
            return Response(body, status=429, headers={"Retry-After": str(exc.retry_after)})
        if request.query_params.get("wait", "").lower() in ("true", "1"):
            return Response(self.answer(msg))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def answer(self, msg) -> dict:
        """The message sent, as `?wait=true` returns it (Discord's shape under /api/v10/)."""
        return payloads.sent_message(msg, nonce=None, reactions=[])
