"""Admin for platform staff (behind 2FA). Every list is read-only; what staff change here goes
through the same services as the pages and the API (apps.core.admin.ServiceAdmin), so it is
checked in the guild's permission engine, written to the audit log and told to open connections.

Staff act with the permissions they hold as members of the guild; a superuser acts in every guild
with the owner's rank (selectors.moderator_access). The audit log itself is append-only here."""
from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ServiceAdmin, ServiceForm, apply_to_each, form_action

from . import invites, sanctions, services
from .forms import BanForm
from .models import AuditLogEntry, Ban, Category, Channel, Guild, Invite, Member, PermissionOverwrite, Role
from .permissions import ALL, CHANNEL_OVERWRITABLE, Permission, from_names, names


class PermissionBitsField(forms.MultipleChoiceField):
    """A permission bitfield as one checkbox per permission."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, allowed: int = int(ALL), **kwargs):
        super().__init__(choices=[(p.name, p.name) for p in Permission if p & allowed], required=False, **kwargs)

    def prepare_value(self, value):
        return names(value) if isinstance(value, int) else value

    def clean(self, value) -> int:
        return int(from_names(super().clean(value)))

    def has_changed(self, initial, data) -> bool:
        try:
            return int(initial or 0) != self.clean(data)
        except forms.ValidationError:
            return True


class ColourField(forms.CharField):
    """A role's colour as "#5865f2" (empty: none)."""

    def prepare_value(self, value):
        if isinstance(value, int):
            return f"#{value:06x}" if value else ""
        return value

    def clean(self, value) -> int:
        value = (super().clean(value) or "").strip().lstrip("#")
        try:
            colour = int(value, 16) if value else 0
        except ValueError:
            raise forms.ValidationError(gettext("Use a colour like #5865f2.")) from None
        if not 0 <= colour <= 0xFFFFFF:
            raise forms.ValidationError(gettext("Use a colour like #5865f2."))
        return colour

    def has_changed(self, initial, data) -> bool:
        try:
            return int(initial or 0) != self.clean(data)
        except forms.ValidationError:
            return True


def _changed(form, fields) -> dict:
    return {f: form.cleaned_data[f] for f in form.changed_data if f in fields}


# --- guilds ----------------------------------------------------------------------------------------

class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChannelInline(_ReadOnlyInline):
    model = Channel
    fk_name = "guild"
    fields = ("name", "type", "category", "position", "slowmode_seconds", "nsfw")


class RoleInline(_ReadOnlyInline):
    model = Role
    fields = ("name", "position", "color", "hoist", "mentionable", "is_default")


@admin.register(Guild)
class GuildAdmin(ServiceAdmin):
    list_display = ("name", "owner", "discoverable", "mfa_required", "member_count", "created_at")
    list_filter = ("discoverable", "mfa_required", "created_at")
    search_fields = ("name", "owner__username")
    autocomplete_fields = ("owner",)
    inlines = [RoleInline, ChannelInline]
    fields = ("name", "description", "discoverable", "mfa_required", "owner", "icon", "created_at")
    service_fields = ("name", "description", "discoverable", "mfa_required", "owner")

    @admin.display(description=_("members"))
    def member_count(self, obj):
        return obj.members.count()

    def save_through(self, request, obj, form, change):
        guild = obj
        fields = _changed(form, ("name", "description", "discoverable", "mfa_required"))
        if fields:
            guild = services.update_guild(actor=request.user, guild=obj, **fields)
        if "owner" in form.changed_data:
            guild = services.transfer_ownership(actor=request.user, guild=obj, new_owner=form.cleaned_data["owner"])
        return guild

    def delete_through(self, request, obj):
        services.delete_guild(actor=request.user, guild=obj)


@admin.register(Category)
class CategoryAdmin(ServiceAdmin):
    list_display = ("name", "guild", "position")
    search_fields = ("name", "guild__name")
    list_select_related = ("guild",)

    def delete_through(self, request, obj):
        services.delete_category(actor=request.user, category=obj)


# --- channels --------------------------------------------------------------------------------------

@admin.register(Channel)
class ChannelAdmin(ServiceAdmin):
    """Guild channels and threads (direct messages are their recipients' business and not listed).
    Threads change through chat's thread admin."""

    list_display = ("name", "guild", "type", "category", "position", "slowmode_seconds", "nsfw")
    list_filter = ("type", "nsfw")
    search_fields = ("name", "topic", "guild__name")
    list_select_related = ("guild", "category")
    fields = ("guild", "name", "type", "parent", "category", "topic", "nsfw", "slowmode_seconds", "user_limit",
              "position", "created_at")
    service_fields = ("name", "category", "topic", "nsfw", "slowmode_seconds", "user_limit")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(guild__isnull=False)

    def editable_fields(self, request, obj):
        return () if obj.type == Channel.Type.THREAD else self.service_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "category" in form.base_fields:
            form.base_fields["category"].queryset = Category.objects.filter(guild_id=obj.guild_id)
        return form

    def has_delete_permission(self, request, obj=None):
        return not (obj is not None and obj.type == Channel.Type.THREAD) and super().has_delete_permission(request, obj)

    def save_through(self, request, obj, form, change):
        return services.update_channel(actor=request.user, channel=Channel.objects.get(pk=obj.pk),
                                       **_changed(form, self.service_fields))

    def delete_through(self, request, obj):
        services.delete_channel(actor=request.user, channel=obj)


class OverwriteForm(ServiceForm):
    allow = PermissionBitsField(allowed=int(CHANNEL_OVERWRITABLE), label=_("allowed"))
    deny = PermissionBitsField(allowed=int(CHANNEL_OVERWRITABLE), label=_("denied"))

    class Meta:
        model = PermissionOverwrite
        fields = ("allow", "deny")


@admin.register(PermissionOverwrite)
class PermissionOverwriteAdmin(ServiceAdmin):
    list_display = ("channel", "role", "member", "allowed", "denied")
    search_fields = ("channel__name", "role__name", "member__user__username")
    list_select_related = ("channel", "role", "member__user")
    form = OverwriteForm
    fields = ("channel", "role", "member", "allow", "deny")
    service_fields = ("allow", "deny")

    @admin.display(description=_("allowed"))
    def allowed(self, obj):
        return ", ".join(names(Permission(obj.allow))) or "-"

    @admin.display(description=_("denied"))
    def denied(self, obj):
        return ", ".join(names(Permission(obj.deny))) or "-"

    def save_through(self, request, obj, form, change):
        return services.set_overwrite(actor=request.user, channel=obj.channel, role=obj.role, member=obj.member,
                                      allow=form.cleaned_data["allow"], deny=form.cleaned_data["deny"])

    def delete_through(self, request, obj):
        services.delete_overwrite(actor=request.user, overwrite=obj)


# --- roles -----------------------------------------------------------------------------------------

class RoleForm(ServiceForm):
    permissions = PermissionBitsField(label=_("permissions"))
    color = ColourField(label=_("colour"), required=False, max_length=7)

    class Meta:
        model = Role
        fields = ("guild", "name", "permissions", "color", "hoist", "mentionable")


@admin.register(Role)
class RoleAdmin(ServiceAdmin):
    list_display = ("name", "guild", "position", "color_hex", "hoist", "mentionable", "is_default")
    list_filter = ("hoist", "mentionable", "is_default")
    search_fields = ("name", "guild__name")
    list_select_related = ("guild",)
    autocomplete_fields = ("guild",)
    form = RoleForm
    fields = ("guild", "name", "permissions", "color", "hoist", "mentionable", "position", "is_default", "created_at")
    service_fields = ("name", "permissions", "color", "hoist", "mentionable")
    add_fields = ("guild", "name", "permissions", "color", "hoist", "mentionable")

    def editable_fields(self, request, obj):
        return tuple(f for f in self.service_fields if f != "name") if obj.is_default else self.service_fields

    def save_through(self, request, obj, form, change):
        if not change:
            return services.create_role(actor=request.user, guild=obj.guild,
                                        **{f: form.cleaned_data[f] for f in self.add_fields if f != "guild"})
        return services.update_role(actor=request.user, role=obj, **_changed(form, self.service_fields))

    def delete_through(self, request, obj):
        services.delete_role(actor=request.user, role=obj)


# --- members and sanctions ------------------------------------------------------------------------

class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=512, required=False)


class TimeoutForm(ReasonForm):
    seconds = forms.TypedChoiceField(label=_("Duration"), coerce=int, initial=3600, choices=[
        (60, _("1 minute")), (600, _("10 minutes")), (3600, _("1 hour")), (86400, _("1 day")),
        (604800, _("1 week")), (2419200, _("28 days"))])


@form_action(TimeoutForm, description=_("Time out the selected members"), done=_("%(n)s member(s) timed out."))
def timeout(modeladmin, request, member, *, seconds, reason):
    sanctions.timeout_member(actor=request.user, member=member, duration=timedelta(seconds=seconds), reason=reason)


@admin.action(description=_("Lift the selected members' timeouts"), permissions=["change"])
def lift_timeout(modeladmin, request, queryset):
    apply_to_each(modeladmin, request, queryset,
                  lambda member: sanctions.timeout_member(actor=request.user, member=member, duration=None),
                  gettext("%(n)s timeout(s) lifted."))


@form_action(ReasonForm, description=_("Kick the selected members"), done=_("%(n)s member(s) kicked."))
def kick(modeladmin, request, member, *, reason):
    sanctions.kick_member(actor=request.user, member=member, reason=reason)


@form_action(BanForm, description=_("Ban the selected members"), done=_("%(n)s member(s) banned."))
def ban(modeladmin, request, member, *, reason, delete_message_days):
    sanctions.ban_member(actor=request.user, guild=member.guild, user=member.user, reason=reason,
                         delete_message_days=delete_message_days)


@admin.register(Member)
class MemberAdmin(ServiceAdmin):
    list_display = ("user", "guild", "nickname", "joined_at", "timed_out_until")
    list_filter = ("joined_at", "timed_out_until")
    search_fields = ("user__username", "nickname", "guild__name")
    list_select_related = ("user", "guild")
    filter_horizontal = ("roles",)
    fields = ("user", "guild", "nickname", "roles", "joined_at", "timed_out_until")
    service_fields = ("nickname", "roles")
    actions = [timeout, lift_timeout, kick, ban]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "roles" in form.base_fields:
            form.base_fields["roles"].queryset = Role.objects.filter(guild_id=obj.guild_id, is_default=False)
        return form

    def save_through(self, request, obj, form, change):
        member, data = Member.objects.select_related("guild", "user").get(pk=obj.pk), form.cleaned_data
        if "nickname" in form.changed_data:
            member = services.set_nickname(actor=request.user, member=member, nickname=data["nickname"])
        if "roles" in form.changed_data:
            member = services.set_member_roles(actor=request.user, member=member, roles=list(data["roles"]))
        return member


class BanAddForm(ServiceForm):
    delete_message_days = BanForm.base_fields["delete_message_days"]

    class Meta:
        model = Ban
        fields = ("guild", "user", "reason")


@admin.register(Ban)
class BanAdmin(ServiceAdmin):
    """Bans are added through ban_member (the member leaves, their sockets close) and lifted
    through unban_member: deleting a ban here lifts it."""

    list_display = ("user", "guild", "reason", "banned_by", "created_at")
    list_filter = ("created_at",)
    search_fields = ("user__username", "guild__name", "reason")
    list_select_related = ("user", "guild", "banned_by")
    autocomplete_fields = ("user", "guild")
    form = BanAddForm
    fields = ("guild", "user", "reason", "banned_by", "created_at")
    add_fields = ("guild", "user", "reason", "delete_message_days")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, _description = actions["delete_selected"]
            actions["delete_selected"] = (func, name, gettext("Lift the selected bans"))
        return actions

    def save_through(self, request, obj, form, change):
        return sanctions.ban_member(actor=request.user, guild=obj.guild, user=obj.user, reason=obj.reason,
                                    delete_message_days=form.cleaned_data["delete_message_days"])

    def delete_through(self, request, obj):
        sanctions.unban_member(actor=request.user, guild=obj.guild, user=obj.user)


# --- invites and the audit log --------------------------------------------------------------------

@admin.action(description=_("Revoke the selected invites"), permissions=["change"])
def revoke(modeladmin, request, queryset):
    apply_to_each(modeladmin, request, queryset,
                  lambda invite: invites.revoke_invite(actor=request.user, invite=invite),
                  gettext("%(n)s invite(s) revoked."))


@admin.register(Invite)
class InviteAdmin(ServiceAdmin):
    list_display = ("code", "guild", "creator", "uses", "max_uses", "expires_at", "revoked_at")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("code", "guild__name", "creator__username")
    list_select_related = ("guild", "creator")
    actions = [revoke]


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
