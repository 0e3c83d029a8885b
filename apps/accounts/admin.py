from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Block, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "email", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "display_name", "email")
    # The avatar changes only through the profile service, which makes its thumbnails.
    readonly_fields = ("date_joined", "last_login", "avatar")
    fieldsets = (*BaseUserAdmin.fieldsets, ("Profile", {"fields": ("display_name", "avatar", "bio")}))


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("blocker", "blocked", "created_at")
    search_fields = ("blocker__username", "blocked__username")
    raw_id_fields = ("blocker", "blocked")
    readonly_fields = ("created_at",)
