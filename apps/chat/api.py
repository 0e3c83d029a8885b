"""The chat REST API: history, send, edit, delete, reactions, pins, typing, read acknowledgements,
attachment uploads."""
from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import NO_CONTENT, CappedUploadView, validated, validated_query
from apps.core.errors import ValidationFailed
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_channel, access_guild, member_color, members_of

from . import payloads, preview_services, selectors, services, thread_selectors
from . import serializers as s


def present(messages, viewer, channel) -> list[dict]:
    """Messages as the viewer sees them: payload plus reactions with "me" and role colours."""
    authors = {m.author_id for m in messages if m.author_id}
    thread_selectors.attach_thread_summaries(messages)
    colors = {m.user_id: member_color(m) for m in members_of(channel.guild).filter(user_id__in=authors)}
    out = []
    for msg in messages:
        msg.author_color = colors.get(msg.author_id, "")
        out.append(payloads.message_with_reactions(msg, selectors.reaction_summary(msg, viewer.id)))
    return out


def _message(access, message_id: int):
    """A message of the channel as the viewer may see it (held ones: the author and moderators)."""
    return selectors.message_in(access.channel, message_id, viewer=access)


class MessagesView(APIView):
    @extend_schema(parameters=[s.HistoryQuery],
                   responses=s.MessageOut(many=True),
                   summary="A page of history, oldest first (READ_MESSAGE_HISTORY)")
    def get(self, request, channel_id):
        access = access_channel(request.user, channel_id)
        access.require(Permission.READ_MESSAGE_HISTORY)
        q = validated_query(s.HistoryQuery, request.query_params)
        page = selectors.history(access.channel, viewer=access, **q)
        return Response(present(page, request.user, access.channel))

    @extend_schema(request=s.MessageIn, responses={201: s.MessageOut, 200: s.MessageOut},
                   summary="Send a message (SEND_MESSAGES)",
                   description="201 with the new message. With a `nonce`, a retry is safe: if you sent a message "
                   "with the same nonce to this channel in the last 10 minutes, the answer is 200 with that "
                   "message, and no second one is stored or delivered.")
    def post(self, request, channel_id):
        d = validated(s.MessageIn, request.data)
        msg = services.send_message(author=request.user, channel_id=channel_id, content=d["content"],
                                    reply_to_id=d["reply_to"], nonce=d["nonce"], attachment_ids=d["attachment_ids"],
                                    embeds=d["embeds"])
        reactions = selectors.reaction_summary(msg, request.user.id) if msg.replayed else []
        body = payloads.sent_message(msg, nonce=d["nonce"], reactions=reactions)
        return Response(body, status=status.HTTP_200_OK if msg.replayed else status.HTTP_201_CREATED)


class MessageDetailView(APIView):
    @extend_schema(responses=s.MessageOut)
    def get(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        access.require(Permission.READ_MESSAGE_HISTORY)
        msg = _message(access, message_id)
        return Response(present([msg], request.user, access.channel)[0])

    @extend_schema(request=s.MessageEdit, responses=s.MessageOut, summary="Edit your message")
    def patch(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        msg = _message(access, message_id)
        content = validated(s.MessageEdit, request.data)["content"]
        services.edit_message(actor=request.user, message=msg, content=content)
        return Response(present([_message(access, message_id)], request.user, access.channel)[0])

    @extend_schema(responses=NO_CONTENT, summary="Delete a message (yours, or any with MANAGE_MESSAGES)")
    def delete(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        services.delete_message(actor=request.user, message=_message(access, message_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReactionView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT, summary="React with a unicode emoji")
    def put(self, request, channel_id, message_id, emoji):
        access = access_channel(request.user, channel_id)
        services.add_reaction(actor=request.user, message=_message(access, message_id),
                              emoji=emoji)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=NO_CONTENT, summary="Remove your reaction")
    def delete(self, request, channel_id, message_id, emoji):
        access = access_channel(request.user, channel_id)
        services.remove_reaction(actor=request.user, message=_message(access, message_id),
                                 emoji=emoji)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PinsView(APIView):
    @extend_schema(responses=s.MessageOut(many=True), summary="Pinned messages, newest pin first")
    def get(self, request, channel_id):
        access = access_channel(request.user, channel_id)
        access.require(Permission.READ_MESSAGE_HISTORY)
        return Response(present(selectors.pins(access.channel, viewer=access), request.user, access.channel))


class PinView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT, summary="Pin a message (MANAGE_MESSAGES)")
    def put(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        services.pin_message(actor=request.user, message=_message(access, message_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=NO_CONTENT, summary="Unpin a message (MANAGE_MESSAGES)")
    def delete(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        services.unpin_message(actor=request.user, message=_message(access, message_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SuppressEmbedsView(APIView):
    @extend_schema(request=s.SuppressEmbedsIn, responses=s.MessageOut,
                   summary="Remove a message's link previews (its author, or MANAGE_MESSAGES)",
                   description="Sets the message's `suppress_embeds`: its link previews are no longer shown (its "
                   "rich embeds stay). `{\"suppress\": false}` brings them back. Everyone hears MESSAGE_UPDATE.")
    def post(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        suppress = validated(s.SuppressEmbedsIn, request.data)["suppress"]
        preview_services.suppress_embeds(actor=request.user, message=_message(access, message_id), suppress=suppress)
        return Response(present([_message(access, message_id)], request.user, access.channel)[0])


class TypingView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT, summary="Show that you are typing")
    def post(self, request, channel_id):
        services.start_typing(user=request.user, channel_id=channel_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AckView(APIView):
    @extend_schema(request=s.AckIn, responses=NO_CONTENT, summary="Mark the channel read up to a message")
    def post(self, request, channel_id):
        services.ack_message(user=request.user, channel_id=channel_id,
                             message_id=validated(s.AckIn, request.data)["message_id"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttachmentUploadView(CappedUploadView):
    def upload_limit(self) -> int:
        return settings.ATTACHMENT_MAX_BYTES

    def too_large(self):
        return services.attachment_too_large()

    @extend_schema(request={"multipart/form-data": s.AttachmentUpload}, responses={201: s.AttachmentOut},
                   summary="Upload a file to attach to your next message (SEND_MESSAGES + ATTACH_FILES)",
                   description="One file per request, at most ATTACHMENT_MAX_BYTES (25 MB; 413 `file_too_large` "
                   "above). The type is decided by the content: PNG, JPEG, GIF and WebP images are decoded and "
                   "checked (a corrupt image or a decompression bomb is refused with 400 `invalid_image` / "
                   "`image_too_large`), anything else is stored as a plain download. Send the returned id in "
                   "`attachment_ids` of a message within ATTACHMENT_UNSENT_HOURS (24 h).")
    def post(self, request, channel_id):
        files = request.FILES.getlist("file")
        self.check_cap()
        if len(request.FILES) > 1 or len(files) > 1:
            raise ValidationFailed.field("file", gettext("Upload one file per request."))
        att = services.upload_attachment(uploader=request.user, channel_id=channel_id,
                                         upload=files[0] if files else None)
        return Response(payloads.attachment_payload(att), status=status.HTTP_201_CREATED)


class GuildSearchView(APIView):
    @extend_schema(parameters=[s.SearchQuery], responses=s.SearchOut,
                   summary="Search the guild's messages you may read, best match first")
    def get(self, request, guild_id):
        access = access_guild(request.user, guild_id)
        params = request.query_params.copy()
        if "has" in params:
            params.setlist("has", [h for h in params.getlist("has") if h])
        q = validated_query(s.SearchQuery, params)
        found = selectors.search_messages(access.member, **q)
        return Response(payloads.search_results(found))


class MentionsView(APIView):
    @extend_schema(parameters=[s.MentionsQuery], responses=s.SearchResultOut(many=True),
                   summary="Recent messages that mention you, your roles or @everyone, newest first")
    def get(self, request):
        q = validated_query(s.MentionsQuery, request.query_params)
        return Response([payloads.found_message(m) for m in selectors.mentions_of(request.user, **q)])
