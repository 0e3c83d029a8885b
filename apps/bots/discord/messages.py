"""/api/v10/channels/{id}/messages…: history, send, edit, delete, reactions, pins and typing, through
apps.chat's services (the same permission checks, automod, slow mode and scoring as anyone's)."""
from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.utils.translation import gettext
from rest_framework.response import Response

from apps.chat import selectors as chat_selectors
from apps.chat import services as chat
from apps.chat import uploads
from apps.core.api import body_object
from apps.core.errors import ValidationFailed
from apps.core.parsers import JSONParser, MultiPartParser
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_channel

from . import reads
from .rest import EMPTY_MESSAGE, UNKNOWN_MESSAGE, DiscordView, discord_error, query_id, query_int, snowflake


def _message(request, channel_id, message_id):
    access = access_channel(request.user, channel_id)
    return access, chat_selectors.message_in(access.channel, message_id, viewer=access)


def _nonce(value) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(value) if isinstance(value, (int, str)) else None


def _reply_to(body) -> int | None:
    ref = body.get("message_reference")
    if not isinstance(ref, dict) or ref.get("message_id") is None:
        return None
    try:
        return snowflake(ref["message_id"], "message_reference")
    except ValidationFailed:
        raise ValidationFailed.field("message_reference", gettext("Must be a message id.")) from None


class Messages(DiscordView):
    route, major = "channels/{id}/messages", "channel_id"
    parser_classes = [JSONParser, MultiPartParser]
    max_body_bytes = staticmethod(uploads.max_body_bytes)  # files travel with the message

    def get(self, request, channel_id):
        access = access_channel(request.user, channel_id)
        access.require(Permission.READ_MESSAGE_HISTORY)
        limit = query_int(request, "limit", default=50, low=1, high=settings.HISTORY_PAGE_MAX)
        cursor = {k: query_id(request, k) for k in ("before", "after", "around")}
        page = chat_selectors.history(access.channel, viewer=access, limit=limit, **cursor)
        return Response([reads.message(m, request.user.id) for m in reversed(page)])  # newest first

    def post(self, request, channel_id):
        body, files = uploads.json_and_files(request)
        if not isinstance(body, Mapping):
            raise ValidationFailed.field("non_field_errors", gettext("The body must be a JSON object."))
        content = body.get("content") or ""
        if not isinstance(content, str):
            raise ValidationFailed.field("content", gettext("A message is text."))
        embeds = body.get("embeds") or None  # checked, field by field, by the send service (chat.embeds)
        if not content.strip() and not embeds and not files:
            return discord_error(400, EMPTY_MESSAGE, gettext("Cannot send an empty message."))

        def send(attachment_ids):
            return chat.send_message(author=request.user, channel_id=channel_id, content=content,
                                     reply_to_id=_reply_to(body), nonce=_nonce(body.get("nonce")), embeds=embeds,
                                     attachment_ids=attachment_ids or None)

        if files:  # Discord's multipart send: payload_json and files[n]
            msg = uploads.send_with_files(send, files=files, store=lambda upload: chat.upload_attachment(
                uploader=request.user, channel_id=channel_id, upload=upload))
        else:
            msg = send([])
        return Response(reads.message(msg, request.user.id))


class MessageDetail(DiscordView):
    route, major, unknown = "channels/{id}/messages/{id}", "channel_id", UNKNOWN_MESSAGE

    def get(self, request, channel_id, message_id):
        access, msg = _message(request, channel_id, message_id)
        access.require(Permission.READ_MESSAGE_HISTORY)
        return Response(reads.message(msg, request.user.id))

    def patch(self, request, channel_id, message_id):
        body = body_object(request)
        access, msg = _message(request, channel_id, message_id)
        if "content" in body and body["content"] is not None:
            if not isinstance(body["content"], str):
                raise ValidationFailed.field("content", gettext("A message is text."))
            chat.edit_message(actor=request.user, message=msg, content=body["content"])
        return Response(reads.message(_message(request, channel_id, message_id)[1], request.user.id))

    def delete(self, request, channel_id, message_id):
        chat.delete_message(actor=request.user, message=_message(request, channel_id, message_id)[1])
        return Response(status=204)


class OwnReaction(DiscordView):
    route, major, unknown = "channels/{id}/messages/{id}/reactions", "channel_id", UNKNOWN_MESSAGE

    def put(self, request, channel_id, message_id, emoji):
        chat.add_reaction(actor=request.user, message=_message(request, channel_id, message_id)[1], emoji=emoji)
        return Response(status=204)

    def delete(self, request, channel_id, message_id, emoji):
        chat.remove_reaction(actor=request.user, message=_message(request, channel_id, message_id)[1], emoji=emoji)
        return Response(status=204)


class Pins(DiscordView):
    """GET /channels/{id}/pins (a list) and /channels/{id}/messages/pins ({"items", "has_more"})."""

    route, major = "channels/{id}/pins", "channel_id"
    items = False

    def get(self, request, channel_id):
        access = access_channel(request.user, channel_id)
        access.require(Permission.READ_MESSAGE_HISTORY)
        pinned = chat_selectors.pins(access.channel, viewer=access)
        if not self.items:
            return Response([reads.message(m, request.user.id) for m in pinned])
        return Response({"items": [{"pinned_at": m.pinned_at.isoformat(), "message": reads.message(m, request.user.id)}
                                   for m in pinned], "has_more": False})


class Pin(DiscordView):
    route, major, unknown = "channels/{id}/pins/{id}", "channel_id", UNKNOWN_MESSAGE

    def put(self, request, channel_id, message_id):
        chat.pin_message(actor=request.user, message=_message(request, channel_id, message_id)[1])
        return Response(status=204)

    def delete(self, request, channel_id, message_id):
        chat.unpin_message(actor=request.user, message=_message(request, channel_id, message_id)[1])
        return Response(status=204)


class Typing(DiscordView):
    route, major = "channels/{id}/typing", "channel_id"

    def post(self, request, channel_id):
        chat.start_typing(user=request.user, channel_id=channel_id)
        return Response(status=204)
