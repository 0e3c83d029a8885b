"""The chat REST API: history, send, edit, delete, reactions, pins, typing, read acknowledgements."""
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_channel, access_guild, member_color, members_of

from . import selectors, services
from . import serializers as s

NO_CONTENT = {204: OpenApiResponse(description="Done.")}


def _data(serializer_class, data):
    ser = serializer_class(data=data)
    ser.is_valid(raise_exception=True)
    return ser.validated_data


def present(messages, viewer, channel) -> list[dict]:
    """Messages as the viewer sees them: payload plus reactions with "me" and role colours."""
    authors = {m.author_id for m in messages if m.author_id}
    colors = {m.user_id: member_color(m) for m in members_of(channel.guild).filter(user_id__in=authors)}
    out = []
    for msg in messages:
        msg.author_color = colors.get(msg.author_id, "")
        out.append({**services.message_payload(msg), "reactions": selectors.reaction_summary(msg, viewer.id)})
    return out


class MessagesView(APIView):
    @extend_schema(parameters=[OpenApiParameter(n, int) for n in ("before", "after", "around", "limit")],
                   responses=s.MessageOut(many=True),
                   summary="A page of history, oldest first (READ_MESSAGE_HISTORY)")
    def get(self, request, channel_id):
        access = access_channel(request.user, channel_id)
        access.require(Permission.READ_MESSAGE_HISTORY)
        q = _data(s.HistoryQuery, request.query_params)
        page = selectors.history(access.channel, **q)
        return Response(present(page, request.user, access.channel))

    @extend_schema(request=s.MessageIn, responses={201: s.MessageOut}, summary="Send a message (SEND_MESSAGES)")
    def post(self, request, channel_id):
        d = _data(s.MessageIn, request.data)
        msg = services.send_message(author=request.user, channel_id=channel_id, content=d["content"],
                                    reply_to_id=d["reply_to"], nonce=d["nonce"])
        body = {**services.message_payload(msg, nonce=d["nonce"]), "reactions": []}
        return Response(body, status=status.HTTP_201_CREATED)


class MessageDetailView(APIView):
    @extend_schema(responses=s.MessageOut)
    def get(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        access.require(Permission.READ_MESSAGE_HISTORY)
        msg = selectors.message_in(access.channel, message_id)
        return Response(present([msg], request.user, access.channel)[0])

    @extend_schema(request=s.MessageEdit, responses=s.MessageOut, summary="Edit your message")
    def patch(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        msg = selectors.message_in(access.channel, message_id)
        services.edit_message(actor=request.user, message=msg, content=_data(s.MessageEdit, request.data)["content"])
        return Response(present([selectors.message_in(access.channel, message_id)], request.user, access.channel)[0])

    @extend_schema(responses=NO_CONTENT, summary="Delete a message (yours, or any with MANAGE_MESSAGES)")
    def delete(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        services.delete_message(actor=request.user, message=selectors.message_in(access.channel, message_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReactionView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT, summary="React with a unicode emoji")
    def put(self, request, channel_id, message_id, emoji):
        access = access_channel(request.user, channel_id)
        services.add_reaction(actor=request.user, message=selectors.message_in(access.channel, message_id),
                              emoji=emoji)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=NO_CONTENT, summary="Remove your reaction")
    def delete(self, request, channel_id, message_id, emoji):
        access = access_channel(request.user, channel_id)
        services.remove_reaction(actor=request.user, message=selectors.message_in(access.channel, message_id),
                                 emoji=emoji)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PinsView(APIView):
    @extend_schema(responses=s.MessageOut(many=True), summary="Pinned messages, newest pin first")
    def get(self, request, channel_id):
        access = access_channel(request.user, channel_id)
        access.require(Permission.READ_MESSAGE_HISTORY)
        return Response(present(selectors.pins(access.channel), request.user, access.channel))


class PinView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT, summary="Pin a message (MANAGE_MESSAGES)")
    def put(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        services.pin_message(actor=request.user, message=selectors.message_in(access.channel, message_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=NO_CONTENT, summary="Unpin a message (MANAGE_MESSAGES)")
    def delete(self, request, channel_id, message_id):
        access = access_channel(request.user, channel_id)
        services.unpin_message(actor=request.user, message=selectors.message_in(access.channel, message_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TypingView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT, summary="Show that you are typing")
    def post(self, request, channel_id):
        services.start_typing(user=request.user, channel_id=channel_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AckView(APIView):
    @extend_schema(request=s.AckIn, responses=NO_CONTENT, summary="Mark the channel read up to a message")
    def post(self, request, channel_id):
        services.ack_message(user=request.user, channel_id=channel_id,
                             message_id=_data(s.AckIn, request.data)["message_id"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def present_found(messages) -> list[dict]:
    """Search and inbox results: the message, its channel, and the matched part as safe HTML."""
    return [{**services.message_payload(m), "channel": {"id": m.channel_id, "name": m.channel.name,
                                                         "guild_id": m.channel.guild_id},
             "snippet": m.snippet} for m in messages]


class GuildSearchView(APIView):
    @extend_schema(parameters=[s.SearchQuery], responses=s.SearchOut,
                   summary="Search the guild's messages you may read, best match first")
    def get(self, request, guild_id):
        access = access_guild(request.user, guild_id)
        params = request.query_params.copy()
        if "has" in params:
            params.setlist("has", [h for h in params.getlist("has") if h])
        q = _data(s.SearchQuery, params)
        found = selectors.search_messages(access.member, **q)
        return Response({"total": found.total, "capped": found.capped, "results": present_found(found.messages)})


class MentionsView(APIView):
    @extend_schema(parameters=[s.MentionsQuery], responses=s.SearchResultOut(many=True),
                   summary="Recent messages that mention you, your roles or @everyone, newest first")
    def get(self, request):
        q = _data(s.MentionsQuery, request.query_params)
        return Response(present_found(selectors.mentions_of(request.user, **q)))
