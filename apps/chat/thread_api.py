"""The threads REST API: start a thread from a message, list a channel's threads, read, rename,
archive, lock or delete one, join, leave, list members. A thread's messages go through the
ordinary /api/channels/{thread_id}/messages endpoints."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import NO_CONTENT, validated, validated_query
from apps.core.fields import StrictCharField
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_channel

from . import payloads
from . import thread_selectors as selectors
from . import thread_services as services
from .serializers import ThreadDetailOut, ThreadMemberOut, ThreadOut


class ThreadIn(serializers.Serializer):
    name = StrictCharField(max_length=1000, allow_blank=True, trim_whitespace=False)


class ThreadPatch(serializers.Serializer):
    name = StrictCharField(required=False, max_length=1000, allow_blank=True, trim_whitespace=False)
    archived = serializers.BooleanField(required=False)
    locked = serializers.BooleanField(required=False)


class ThreadListQuery(serializers.Serializer):
    archived = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=selectors.THREAD_LIST_MAX)


def _detail(access, thread, user) -> dict:
    perms = access.permissions
    manage = bool(perms & Permission.MANAGE_THREADS)
    can_send = bool(perms & Permission.SEND_MESSAGES_IN_THREADS) and (manage or not thread.locked)
    return payloads.thread_detail(thread, joined=selectors.is_member(thread, user), can_send=can_send,
                                  can_manage=manage)


class ThreadCreateView(APIView):
    @extend_schema(request=ThreadIn, responses={201: ThreadOut},
                   summary="Start a thread from a message (CREATE_THREADS); one thread per message")
    def post(self, request, channel_id, message_id):
        name = validated(ThreadIn, request.data)["name"]
        thread = services.create_thread(actor=request.user, channel_id=channel_id, message_id=message_id, name=name)
        return Response(payloads.thread_payload(thread), status=status.HTTP_201_CREATED)


class ChannelThreadsView(APIView):
    @extend_schema(parameters=[OpenApiParameter("archived", bool), OpenApiParameter("limit", int)],
                   responses=ThreadOut(many=True),
                   summary="A channel's active threads, or its archived ones (READ_MESSAGE_HISTORY)")
    def get(self, request, channel_id):
        access = access_channel(request.user, channel_id)
        q = validated_query(ThreadListQuery, request.query_params)
        if q["archived"]:
            access.require(Permission.READ_MESSAGE_HISTORY)
        threads = selectors.threads_of(access.channel, archived=q["archived"], limit=q["limit"])
        return Response([payloads.thread_payload(t) for t in threads])


class ThreadDetailView(APIView):
    @extend_schema(responses=ThreadDetailOut, summary="A thread, with what the viewer may do in it")
    def get(self, request, thread_id):
        access, thread = services.access_thread(request.user, thread_id)
        return Response(_detail(access, thread, request.user))

    @extend_schema(request=ThreadPatch, responses=ThreadDetailOut,
                   summary="Rename, archive or lock (MANAGE_THREADS; the creator may rename and archive theirs)")
    def patch(self, request, thread_id):
        d = validated(ThreadPatch, request.data)
        services.update_thread(actor=request.user, thread_id=thread_id, **d)
        access, thread = services.access_thread(request.user, thread_id)
        return Response(_detail(access, thread, request.user))

    @extend_schema(responses=NO_CONTENT, summary="Delete a thread and its messages (MANAGE_THREADS)")
    def delete(self, request, thread_id):
        services.delete_thread(actor=request.user, thread_id=thread_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThreadMembersView(APIView):
    @extend_schema(responses=ThreadMemberOut(many=True), summary="Who joined the thread, first joined first")
    def get(self, request, thread_id):
        _, thread = services.access_thread(request.user, thread_id)
        return Response([payloads.thread_member(tm) for tm in selectors.thread_members(thread)])


class ThreadMeView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT, summary="Join the thread")
    def put(self, request, thread_id):
        services.join_thread(user=request.user, thread_id=thread_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=NO_CONTENT, summary="Leave the thread")
    def delete(self, request, thread_id):
        services.leave_thread(user=request.user, thread_id=thread_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
