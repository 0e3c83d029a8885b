from django.urls import path

from . import api

urlpatterns = [
    path("users/@me/channels", api.MyChannelsView.as_view()),
    path("users/@me/channels/<int:channel_id>", api.MyChannelView.as_view()),
    path("channels/<int:channel_id>/recipients/<int:user_id>", api.RecipientView.as_view()),
]
