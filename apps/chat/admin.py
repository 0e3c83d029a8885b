from django.contrib import admin

from .models import Attachment, Message, Reaction, ReadState


class ReactionInline(admin.TabularInline):
    model = Reaction
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "author", "short_content", "created_at", "edited_at", "pinned_at")
    list_filter = ("created_at", "pinned_at")
    search_fields = ("content", "author__username", "channel__name")
    list_select_related = ("channel", "author")
    raw_id_fields = ("channel", "author", "reply_to", "mentions", "mention_roles")
    readonly_fields = ("created_at", "edited_at", "content_html")
    inlines = [ReactionInline]
    show_full_result_count = False  # counting millions of rows on every page load is slow

    @admin.display(description="content")
    def short_content(self, obj):
        return obj.content[:80]


@admin.register(ReadState)
class ReadStateAdmin(admin.ModelAdmin):
    list_display = ("user", "channel", "last_read_id", "updated_at")
    search_fields = ("user__username", "channel__name")
    raw_id_fields = ("user", "channel")


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("id", "filename", "channel", "uploader", "size", "state", "created_at", "sent_at")
    list_filter = ("state", "created_at")
    search_fields = ("filename", "uploader__username")
    list_select_related = ("channel", "uploader")
    raw_id_fields = ("channel", "uploader", "message")
    readonly_fields = ("key", "created_at", "sent_at", "failure_reason", "thumbnail_size")
