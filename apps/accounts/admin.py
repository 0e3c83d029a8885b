from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "email", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "display_name", "email")
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (*BaseUserAdmin.fieldsets, ("Profile", {"fields": ("display_name", "avatar", "bio")}))
