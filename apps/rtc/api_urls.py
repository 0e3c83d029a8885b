from django.urls import path

from . import api

urlpatterns = [
    path("rtc/ice-servers", api.IceServersView.as_view()),
    path("guilds/<int:guild_id>/voice-states/<int:user_id>", api.VoiceStateView.as_view()),
]
