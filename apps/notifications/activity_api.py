"""The bell's API: your recent activity and its unread count, marking it read, and which kinds you
hear of. Thin doors onto activity.py."""
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import body_object, validated

from . import activity, payloads
from .serializers import ActivityListOut, ActivitySettingsIn, ActivitySettingsOut


def _listing(user) -> dict:
    return {"unread_count": activity.unread_count(user.id),
            "items": [payloads.activity(a) for a in activity.recent(user)]}


class ActivityView(APIView):
    @extend_schema(responses=ActivityListOut, summary="Your newest activity: followers, likes, reposts, comments, "
                   "replies")
    def get(self, request):
        return Response(_listing(request.user))


class ActivityReadView(APIView):
    @extend_schema(request=None, responses=ActivityListOut, summary="Mark all your activity read")
    def post(self, request):
        activity.mark_read(user=request.user)
        return Response(_listing(request.user))


class ActivitySettingsView(APIView):
    @extend_schema(responses=ActivitySettingsOut, summary="Which kinds of activity you hear of")
    def get(self, request):
        return Response(payloads.activity_settings(activity.settings_for(request.user)))

    @extend_schema(request=ActivitySettingsIn, responses=ActivitySettingsOut,
                   summary="Turn kinds of activity on or off (bell, live and Web Push)")
    def patch(self, request):
        d = validated(ActivitySettingsIn, body_object(request))
        return Response(payloads.activity_settings(activity.update_settings(user=request.user, **d)))
