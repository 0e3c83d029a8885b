"""Messages and threads for platform staff (behind 2FA): read-only lists whose actions call chat's
services, as the chat page does (a moderator's delete, pin and thread moderation are checked in
the channel and written to the guild's audit log). Nobody edits a message here: only its author
does, through edit_message (markdown, mentions, automod and the scorer see the new text)."""
from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ServiceAdmin, apply_to_each

from . import services, thread_services
from .models import Attachment, Message, Reaction, ReadState, Thread


class ReactionInline(admin.TabularInline):
    model = Reaction
    extra = 0
    fields = ("emoji", "user", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _pin_action(pinned: bool, description, done):
    @admin.action(description=description, permissions=["change"])
    def action(modeladmin, request, queryset):
        pin = services.pin_message if pinned else services.unpin_message
        apply_to_each(modeladmin, request, queryset.select_related("channel"),
                      lambda message: pin(actor=request.user, message=message), done)

    action.__name__ = "pin" if pinned else "unpin"
    return action


@admin.register(Message)
class MessageAdmin(ServiceAdmin):
    """Deleting a message here is delete_message: the channel hears MESSAGE_DELETE, and deleting
    someone else's is in the guild's audit log."""

    list_display = ("id", "channel", "author", "short_content", "visibility", "created_at", "edited_at", "pinned_at")
    list_filter = ("visibility", "created_at", "pinned_at")
    search_fields = ("content", "author__username", "channel__name")
    list_select_related = ("channel", "author")
    fields = ("channel", "author", "content", "content_html", "reply_to", "visibility", "created_at", "edited_at",
              "pinned_at")
    inlines = [ReactionInline]
    actions = [_pin_action(True, _("Pin the selected messages"), _("%(n)s message(s) pinned.")),
               _pin_action(False, _("Unpin the selected messages"), _("%(n)s message(s) unpinned."))]
    show_full_result_count = False  # counting millions of rows on every page load is slow

    @admin.display(description=_("content"))
    def short_content(self, obj):
        return obj.content[:80]

    def delete_through(self, request, obj):
        services.delete_message(actor=request.user, message=obj)


def _thread_action(name: str, description, done, **change):
    @admin.action(description=description, permissions=["change"])
    def action(modeladmin, request, queryset):
        apply_to_each(modeladmin, request, queryset,
                      lambda thread: thread_services.update_thread(actor=request.user, thread_id=thread.pk, **change),
                      done)

    action.__name__ = name
    return action


@admin.register(Thread)
class ThreadAdmin(ServiceAdmin):
    """Threads through thread_services, as a moderator with MANAGE_THREADS changes them in the app:
    the parent channel hears THREAD_UPDATE or THREAD_DELETE, and the audit log has the act."""

    list_display = ("channel", "parent", "guild", "creator", "message_count", "archived", "locked", "last_message_at")
    list_filter = ("archived", "locked")
    search_fields = ("channel__name", "channel__parent__name", "channel__guild__name", "creator__username")
    list_select_related = ("channel__parent", "channel__guild", "creator")
    fields = ("channel", "parent", "guild", "starter_message", "creator", "message_count", "archived", "locked",
              "last_message_at", "archived_at", "created_at")
    readonly_fields = ("parent", "guild")
    actions = [_thread_action("lock", _("Lock the selected threads"), _("%(n)s thread(s) locked."), locked=True),
               _thread_action("unlock", _("Unlock the selected threads"), _("%(n)s thread(s) unlocked."), locked=False),
               _thread_action("archive", _("Archive the selected threads"), _("%(n)s thread(s) archived."),
                              archived=True),
               _thread_action("unarchive", _("Unarchive the selected threads"), _("%(n)s thread(s) unarchived."),
                              archived=False)]

    @admin.display(description=_("channel"))
    def parent(self, obj):
        return obj.channel.parent

    @admin.display(description=_("guild"))
    def guild(self, obj):
        return obj.channel.guild

    def delete_through(self, request, obj):
        thread_services.delete_thread(actor=request.user, thread_id=obj.pk)


class _ReadOnlyAdmin(admin.ModelAdmin):
    """No service writes these here: an upload belongs to its message, a read state to its reader."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReadState)
class ReadStateAdmin(_ReadOnlyAdmin):
    list_display = ("user", "channel", "last_read_id", "updated_at")
    search_fields = ("user__username", "channel__name")
    list_select_related = ("user", "channel")


@admin.register(Attachment)
class AttachmentAdmin(_ReadOnlyAdmin):
    list_display = ("id", "filename", "channel", "uploader", "size", "state", "created_at", "sent_at")
    list_filter = ("state", "created_at")
    search_fields = ("filename", "uploader__username")
    list_select_related = ("channel", "uploader")
