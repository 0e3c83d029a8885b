from django.urls import path

from . import api

urlpatterns = [
    path("guilds/<int:guild_id>/tracks", api.GuildTracksView.as_view()),
    path("tracks/<int:track_id>", api.TrackView.as_view()),
]
