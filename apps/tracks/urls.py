from django.urls import path

from . import artist_views, public_views, views

app_name = "tracks"

urlpatterns = [
    path("guilds/<id:guild_id>/tracks", views.guild_tracks, name="guild"),
    path("tracks/<id:track_id>", views.track_page, name="page"),
    path("tracks/<id:track_id>/stream.m4a", views.stream, name="stream"),
    path("tracks/<id:track_id>/hls/<path:path>", views.hls, name="hls"),
    path("tracks/<id:track_id>/peaks.json", views.peaks, name="peaks"),
    path("tracks/<id:track_id>/cover-<int:size>.webp", views.cover, name="cover"),
    # An unlisted track's secret link: its page and media under /s/<secret>/ (visibility.py), so the
    # HLS playlists' relative segment addresses keep the secret.
    path("tracks/<id:track_id>/s/<str:secret>", views.track_page, name="secret_page"),
    path("tracks/<id:track_id>/s/<str:secret>/stream.m4a", views.stream, name="secret_stream"),
    path("tracks/<id:track_id>/s/<str:secret>/hls/<path:path>", views.hls, name="secret_hls"),
    path("tracks/<id:track_id>/s/<str:secret>/peaks.json", views.peaks, name="secret_peaks"),
    path("tracks/<id:track_id>/s/<str:secret>/cover-<int:size>.webp", views.cover, name="secret_cover"),
    path("embed/tracks/<id:track_id>", public_views.embed_track, name="embed"),
    path("embed/tracks/<id:track_id>/s/<str:secret>", public_views.embed_track, name="secret_embed"),
    path("embed/playlists/<id:playlist_id>", public_views.embed_playlist, name="embed_playlist"),
    path("oembed", public_views.oembed, name="oembed"),
    path("tracks/<id:track_id>/edit", artist_views.edit_page, name="edit"),
    path("tracks/<id:track_id>/edit/audio", artist_views.replace_audio_page, name="replace_audio"),
    path("tracks/<id:track_id>/insights", artist_views.insights_page, name="insights"),
    path("tracks/<id:track_id>/download", artist_views.download, name="download"),
    path("tracks/search", views.search_page, name="search"),
    # Tags and genres are free text: "drum/bass" is one tag, hence <path:>.
    path("tracks/tag/<path:tag>", views.tag_page, name="tag"),
    path("tracks/genre/<path:genre>", views.genre_page, name="genre"),
    path("stream", views.stream_page, name="feed"),
    path("trending", views.trending_page, name="trending"),
    path("playlists/<id:playlist_id>", views.playlist_page, name="playlist"),
    path("users/<str:username>", views.profile_page, name="profile"),
]
