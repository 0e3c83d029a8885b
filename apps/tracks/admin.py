from django.contrib import admin

from .models import Playlist, Tag, Track, TrackComment


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    """Moderators look tracks up and read the pipeline's state; changes go through the services
    (deleting a track here would leave its files behind, so the admin cannot delete)."""

    list_display = ("id", "title", "owner", "guild", "state", "visibility", "step", "duration_ms", "created_at")
    list_filter = ("state", "visibility", "created_at")
    search_fields = ("title", "owner__username", "genre", "tags__name")
    list_select_related = ("owner", "guild")
    raw_id_fields = ("owner", "guild", "tags")
    readonly_fields = [f.name for f in Track._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(TrackComment)
class TrackCommentAdmin(admin.ModelAdmin):
    """Moderators read comments here; removing one goes through the track page or the API, where
    the service keeps the track's count and tells open pages."""

    list_display = ("id", "track", "author", "position_ms", "body", "created_at")
    search_fields = ("body", "author__username", "track__title")
    list_select_related = ("track", "author")
    raw_id_fields = ("track", "author")
    readonly_fields = [f.name for f in TrackComment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    """Moderators look playlists up (a title can be abusive); their owners change them in the app."""

    list_display = ("id", "title", "owner", "is_public", "updated_at")
    list_filter = ("is_public",)
    search_fields = ("title", "owner__username")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = [f.name for f in Playlist._meta.fields]

    def has_add_permission(self, request):
        return False
