from django.urls import path

from . import api, artist_api, sharing_api

urlpatterns = [
    path("guilds/<id:guild_id>/tracks", api.GuildTracksView.as_view()),
    path("tracks/trending", api.TrendingView.as_view()),
    path("tracks/search", api.SearchView.as_view()),
    path("tracks/<id:track_id>", api.TrackView.as_view()),
    path("tracks/<id:track_id>/sharing", sharing_api.TrackSharingView.as_view()),
    path("tracks/<id:track_id>/secret", sharing_api.TrackSecretView.as_view()),
    path("guilds/<id:guild_id>/track-settings", sharing_api.GuildTrackSettingsView.as_view()),
    path("tracks/<id:track_id>/audio", artist_api.TrackAudioView.as_view()),
    path("tracks/<id:track_id>/insights", artist_api.TrackInsightsView.as_view()),
    path("tracks/<id:track_id>/like", api.TrackLikeView.as_view()),
    path("tracks/<id:track_id>/repost", api.TrackRepostView.as_view()),
    path("tracks/<id:track_id>/comments", api.TrackCommentsView.as_view()),
    path("tracks/<id:track_id>/comments/<id:comment_id>", api.TrackCommentView.as_view()),
    path("tracks/<id:track_id>/plays", api.TrackPlaysView.as_view()),
    path("users/<id:user_id>/follow", api.FollowView.as_view()),
    path("stream", api.StreamView.as_view()),
    path("playlists", api.PlaylistsView.as_view()),
    path("playlists/<id:playlist_id>", api.PlaylistView.as_view()),
    path("playlists/<id:playlist_id>/tracks", api.PlaylistTracksView.as_view()),
    path("playlists/<id:playlist_id>/tracks/<id:track_id>", api.PlaylistTrackView.as_view()),
    path("playlists/<id:playlist_id>/order", api.PlaylistOrderView.as_view()),
    path("users/<id:user_id>/playlists", api.UserPlaylistsView.as_view()),
]
