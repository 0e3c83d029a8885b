"""Admin for platform staff (behind 2FA): every model listed, filterable, searchable, users picked
by autocomplete. Staff act for the platform here, outside the guild permission engine; members
change their guilds through the pages and the API, which go through the services. The audit log
is read-only."""
from django.contrib import admin

from .models import AuditLogEntry, Ban, Category, Channel, Guild, Invite, Member, PermissionOverwrite, Role
from .permissions import names


class ReadOnlyAuditMixin:
    readonly_fields = ("created_at",)


class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 0
    fields = ("name", "type", "category", "position", "slowmode_seconds", "nsfw")
    show_change_link = True


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    fields = ("name", "position", "color", "hoist", "mentionable")
    readonly_fields = ("is_default",)
    show_change_link = True


@admin.register(Guild)
class GuildAdmin(ReadOnlyAuditMixin, admin.ModelAdmin):
    list_display = ("name", "owner", "discoverable", "member_count", "created_at")
    list_filter = ("discoverable", "created_at")
    search_fields = ("name", "owner__username")
    autocomplete_fields = ("owner",)
    inlines = [RoleInline, ChannelInline]

    @admin.display(description="members")
    def member_count(self, obj):
        return obj.members.count()


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "guild", "position")
    search_fields = ("name", "guild__name")
    list_select_related = ("guild",)
    autocomplete_fields = ("guild",)


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAuditMixin, admin.ModelAdmin):
    list_display = ("name", "guild", "type", "category", "position", "slowmode_seconds", "nsfw")
    list_filter = ("type", "nsfw")
    search_fields = ("name", "topic", "guild__name")
    list_select_related = ("guild", "category")
    autocomplete_fields = ("guild",)
    raw_id_fields = ("category",)


@admin.register(Role)
class RoleAdmin(ReadOnlyAuditMixin, admin.ModelAdmin):
    list_display = ("name", "guild", "position", "color_hex", "hoist", "mentionable", "is_default")
    list_filter = ("hoist", "mentionable", "is_default")
    search_fields = ("name", "guild__name")
    list_select_related = ("guild",)
    autocomplete_fields = ("guild",)
    readonly_fields = ("created_at", "is_default", "permission_names")

    @admin.display(description="permissions (names)")
    def permission_names(self, obj):
        return ", ".join(names(obj.permissions)) or "-"


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("user", "guild", "nickname", "joined_at", "timed_out_until")
    list_filter = ("joined_at", "timed_out_until")
    search_fields = ("user__username", "nickname", "guild__name")
    list_select_related = ("user", "guild")
    autocomplete_fields = ("user", "guild")
    filter_horizontal = ("roles",)
    readonly_fields = ("joined_at",)


@admin.register(PermissionOverwrite)
class PermissionOverwriteAdmin(admin.ModelAdmin):
    list_display = ("channel", "role", "member", "allow", "deny")
    search_fields = ("channel__name", "role__name", "member__user__username")
    raw_id_fields = ("channel", "role", "member")


@admin.register(Invite)
class InviteAdmin(ReadOnlyAuditMixin, admin.ModelAdmin):
    list_display = ("code", "guild", "creator", "uses", "max_uses", "expires_at", "revoked_at")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("code", "guild__name", "creator__username")
    list_select_related = ("guild", "creator")
    autocomplete_fields = ("guild", "creator")
    raw_id_fields = ("channel",)
    readonly_fields = ("created_at", "uses")


@admin.register(Ban)
class BanAdmin(ReadOnlyAuditMixin, admin.ModelAdmin):
    list_display = ("user", "guild", "reason", "banned_by", "created_at")
    list_filter = ("created_at",)
    search_fields = ("user__username", "guild__name", "reason")
    list_select_related = ("user", "guild", "banned_by")
    autocomplete_fields = ("user", "guild", "banned_by")


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "guild", "actor", "action", "target_type", "target_id", "reason")
    # Append-only: no add, change or delete here, and no service deletes entries (a guild's go with it).
    list_filter = ("action", ("guild", admin.RelatedOnlyFieldListFilter), ("actor", admin.RelatedOnlyFieldListFilter),
                   "created_at")
    search_fields = ("guild__name", "actor__username", "action", "reason")
    list_select_related = ("guild", "actor")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
