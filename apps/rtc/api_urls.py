from django.urls import path

from . import api

urlpatterns = [
    path("rtc/ice-servers", api.IceServersView.as_view()),
    path("guilds/<id:guild_id>/voice-states/<id:user_id>", api.VoiceStateView.as_view()),
]
