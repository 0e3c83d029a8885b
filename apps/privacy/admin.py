"""Staff see pending deletions and exports; they change nothing here (members act on their own
account from their "Your data" page, and signing in cancels a deletion)."""
from django.contrib import admin

from .models import DataExport, DeletionRequest


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeletionRequest)
class DeletionRequestAdmin(ReadOnly):
    list_display = ("user", "requested_at", "delete_after", "messages")
    list_filter = ("messages",)
    search_fields = ("user__username",)
    ordering = ("delete_after",)


@admin.register(DataExport)
class DataExportAdmin(ReadOnly):
    list_display = ("user", "state", "created_at", "finished_at", "expires_at", "size")
    list_filter = ("state",)
    search_fields = ("user__username",)
    exclude = ("file",)  # the file is its owner's: staff see that it exists, not what is in it
