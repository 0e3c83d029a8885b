from django.urls import path

from . import api

urlpatterns = [
    path("users/@me/channels", api.MyChannelsView.as_view()),
    path("users/@me/channels/<id:channel_id>", api.MyChannelView.as_view()),
    path("channels/<id:channel_id>/recipients/<id:user_id>", api.RecipientView.as_view()),
]
