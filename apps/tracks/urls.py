from django.urls import path

from . import artist_views, views

app_name = "tracks"

urlpatterns = [
    path("guilds/<int:guild_id>/tracks", views.guild_tracks, name="guild"),
    path("tracks/<int:track_id>", views.track_page, name="page"),
    path("tracks/<int:track_id>/stream.m4a", views.stream, name="stream"),
    path("tracks/<int:track_id>/hls/<path:path>", views.hls, name="hls"),
    path("tracks/<int:track_id>/peaks.json", views.peaks, name="peaks"),
    path("tracks/<int:track_id>/cover-<int:size>.webp", views.cover, name="cover"),
    path("tracks/<int:track_id>/edit", artist_views.edit_page, name="edit"),
    path("tracks/<int:track_id>/edit/audio", artist_views.replace_audio_page, name="replace_audio"),
    path("tracks/<int:track_id>/insights", artist_views.insights_page, name="insights"),
    path("tracks/<int:track_id>/download", artist_views.download, name="download"),
    path("tracks/search", views.search_page, name="search"),
    # Tags and genres are free text: "drum/bass" is one tag, hence <path:>.
    path("tracks/tag/<path:tag>", views.tag_page, name="tag"),
    path("tracks/genre/<path:genre>", views.genre_page, name="genre"),
    path("stream", views.stream_page, name="feed"),
    path("trending", views.trending_page, name="trending"),
    path("playlists/<int:playlist_id>", views.playlist_page, name="playlist"),
    path("users/<str:username>", views.profile_page, name="profile"),
]
