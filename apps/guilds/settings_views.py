"""The guild settings pages: overview, channels and their permission overwrites, roles, members
and bans, invites and the audit log. Each page needs one of the permissions it administers (403
without); each form posts to one view that calls one service and comes back with its outcome."""
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_by_id
from apps.core.bodylimit import body_limit
from apps.core.errors import DomainError, MissingPermission, NotFound, ValidationFailed
from apps.core.forms import add_domain_error

from . import audit, invites, sanctions, selectors, services
from .forms import (
    BanForm,
    CategoryForm,
    ChannelEditForm,
    ChannelForm,
    GuildSettingsForm,
    InviteForm,
    OverwriteForm,
    RoleForm,
)
from .permissions import Permission, from_names, names
from .views import flash_error, form_status, guild_access, shell_context


def _found(selector, *args):
    """What a lookup selector finds, or the 404 page."""
    try:
        return selector(*args)
    except NotFound:
        raise Http404 from None


def _settings(user, guild_id, *administers: Permission):
    """A settings page: the guild (404 for outsiders) and one of the permissions the page
    administers (403 without)."""
    access = guild_access(user, guild_id)
    try:
        access.require_any(*administers)
    except MissingPermission as exc:
        raise PermissionDenied(exc.message) from None
    return access


def _edited_channel(user, guild_id, channel_id):
    """A channel's settings: 404 unless the user can view the channel in this guild, 403 without
    MANAGE_CHANNELS or MANAGE_ROLES in it."""
    try:
        ch_access = selectors.channel_settings_access(user, channel_id)
    except NotFound:
        raise Http404(_("Unknown channel.")) from None
    except MissingPermission as exc:
        raise PermissionDenied(exc.message) from None
    if ch_access.channel.guild_id != guild_id:
        raise Http404(_("Unknown channel."))
    return ch_access


# What the members page administers: any of these opens it; each action asks for its own.
MEMBER_MODERATION = (Permission.KICK_MEMBERS, Permission.BAN_MEMBERS, Permission.MODERATE_MEMBERS,
                     Permission.MANAGE_ROLES)


# --- settings: overview ---

def _moved(ids: list[int], item_id: int, direction: str | None) -> list[int]:
    """The order after moving one item a place up or down (unchanged at either end); a 404 for an id
    that is not in it."""
    if item_id not in ids:
        raise Http404
    ids = list(ids)
    i = ids.index(item_id)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    return ids


@login_required
@body_limit(lambda: settings.MAX_IMAGE_UPLOAD_BYTES)
def settings_overview(request, guild_id):
    access = guild_access(request.user, guild_id)
    g = access.guild
    form = GuildSettingsForm(request.POST or None, request.FILES or None,
                             initial={"name": g.name, "description": g.description, "discoverable": g.discoverable,
                                      "mfa_required": g.mfa_required})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_guild(actor=request.user, guild=g, name=form.cleaned_data["name"],
                                  description=form.cleaned_data["description"],
                                  discoverable=form.cleaned_data["discoverable"], icon=form.cleaned_data["icon"],
                                  mfa_required=form.cleaned_data["mfa_required"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("guilds:settings", guild_id=g.id)
    ctx = shell_context(request, access, form=form, tab="overview",
                 members=selectors.members_of(g).exclude(user_id=g.owner_id))
    return render(request, "guilds/settings_overview.html", ctx, status=form_status(form))


# --- settings: channels ---

@login_required
def settings_channels(request, guild_id):
    access = _settings(request.user, guild_id, Permission.MANAGE_CHANNELS)
    g = access.guild
    categories = list(g.categories.all())
    channel_form = ChannelForm(request.POST if request.POST.get("form") == "channel" else None, categories=categories)
    category_form = CategoryForm(request.POST if request.POST.get("form") == "category" else None)
    if request.method == "POST":
        try:
            if channel_form.is_bound and channel_form.is_valid():
                d = channel_form.cleaned_data
                cat = next((c for c in categories if c.id == d["category"]), None)
                services.create_channel(actor=request.user, guild=g, name=d["name"], type=d["type"],
                                        category=cat, topic=d["topic"])
                messages.success(request, _("Channel created."))
                return redirect("guilds:settings_channels", guild_id=g.id)
            if category_form.is_bound and category_form.is_valid():
                services.create_category(actor=request.user, guild=g, name=category_form.cleaned_data["name"])
                messages.success(request, _("Category created."))
                return redirect("guilds:settings_channels", guild_id=g.id)
        except DomainError as exc:
            add_domain_error(channel_form if channel_form.is_bound else category_form, exc)
    ctx = shell_context(request, access, tab="channels", channel_form=channel_form, category_form=category_form,
                 all_channels=[c for c, _ in selectors.visible_channels(access.member)],
                 categories=categories)
    return render(request, "guilds/settings_channels.html", ctx,
                  status=400 if channel_form.errors or category_form.errors else 200)


@login_required
@require_POST
def channel_move(request, guild_id, channel_id):
    """Move a channel one place up or down among those the member can view (the sidebar's order)."""
    access = _settings(request.user, guild_id, Permission.MANAGE_CHANNELS)
    channels = [c for c, _ in selectors.visible_channels(access.member)]
    ids = _moved([c.id for c in channels], channel_id, request.POST.get("direction"))
    by_id = {c.id: c for c in channels}
    try:
        services.reorder_channels(actor=request.user, guild=access.guild,
                                  order=[(cid, by_id[cid].category_id) for cid in ids])
    except DomainError as exc:
        flash_error(request, exc)
    return redirect("guilds:settings_channels", guild_id=guild_id)


@login_required
@require_POST
def category_delete(request, guild_id, category_id):
    access = guild_access(request.user, guild_id)
    cat = _found(selectors.category_in, access.guild, category_id)
    try:
        services.delete_category(actor=request.user, category=cat)
    except DomainError as exc:
        flash_error(request, exc)
    return redirect("guilds:settings_channels", guild_id=guild_id)


@login_required
def channel_edit(request, guild_id, channel_id):
    access = guild_access(request.user, guild_id)
    ch_access = _edited_channel(request.user, guild_id, channel_id)
    ch = ch_access.channel
    categories = list(access.guild.categories.all())
    is_overwrite = request.POST.get("form") == "overwrite"
    form = ChannelEditForm(request.POST if request.method == "POST" and not is_overwrite else None,
                           categories=categories, initial={
                               "name": ch.name, "topic": ch.topic, "category": ch.category_id, "nsfw": ch.nsfw,
                               "slowmode_seconds": ch.slowmode_seconds, "user_limit": ch.user_limit})
    ow_form = OverwriteForm(request.POST if is_overwrite else None)
    if request.method == "POST":
        try:
            if is_overwrite and ow_form.is_valid():
                kind, _sep, target_id = ow_form.cleaned_data["target"].partition(":")
                target = _found(selectors.overwrite_target, access.guild, kind, target_id)
                allow, deny = ow_form.bits()
                services.set_overwrite(actor=request.user, channel=ch, allow=allow, deny=deny, **target)
                messages.success(request, _("Permissions saved."))
                return redirect("guilds:channel_edit", guild_id=guild_id, channel_id=ch.id)
            if not is_overwrite and form.is_valid():
                d = form.cleaned_data
                d["category"] = next((c for c in categories if c.id == d["category"]), None)
                services.update_channel(actor=request.user, channel=ch, **d)
                messages.success(request, _("Saved."))
                return redirect("guilds:channel_edit", guild_id=guild_id, channel_id=ch.id)
        except DomainError as exc:
            add_domain_error(ow_form if is_overwrite else form, exc)
    overwrites = []
    for ow in selectors.overwrites_of(ch):
        label = ow.role.name if ow.role_id else ow.member.shown_name
        target = f"role:{ow.role_id}" if ow.role_id else f"member:{ow.member.user_id}"
        overwrites.append({"label": label, "target": target, "allow": names(ow.allow), "deny": names(ow.deny)})
    ctx = shell_context(request, access, tab="channels", edited=ch, form=form, ow_form=ow_form, overwrites=overwrites,
                        roles=selectors.roles_of(access.guild), members=selectors.members_of(access.guild),
                        channel_perm_names=set(names(ch_access.permissions)))
    return render(request, "guilds/channel_edit.html", ctx, status=400 if form.errors or ow_form.errors else 200)


@login_required
@require_POST
def overwrite_delete(request, guild_id, channel_id):
    guild_access(request.user, guild_id)
    ch = _edited_channel(request.user, guild_id, channel_id).channel
    kind, _sep, target_id = request.POST.get("target", "").partition(":")
    target = _found(selectors.overwrite_target, ch.guild, kind, target_id)
    ow = _found(selectors.overwrite_for, ch, target)
    try:
        services.delete_overwrite(actor=request.user, overwrite=ow)
    except DomainError as exc:
        flash_error(request, exc)
    return redirect("guilds:channel_edit", guild_id=guild_id, channel_id=channel_id)


@login_required
@require_POST
def channel_delete(request, guild_id, channel_id):
    guild_access(request.user, guild_id)
    ch = _edited_channel(request.user, guild_id, channel_id).channel
    try:
        services.delete_channel(actor=request.user, channel=ch)
    except DomainError as exc:
        flash_error(request, exc)
        return redirect("guilds:channel_edit", guild_id=guild_id, channel_id=channel_id)
    messages.success(request, _("Channel deleted."))
    return redirect("guilds:settings_channels", guild_id=guild_id)


# --- settings: roles ---

def _role_fields(form) -> dict:
    d = form.cleaned_data
    return {"name": d["name"], "color": d["color"] or 0, "hoist": d["hoist"], "mentionable": d["mentionable"],
            "permissions": int(from_names(d["permissions"]))}


@login_required
def settings_roles(request, guild_id):
    access = _settings(request.user, guild_id, Permission.MANAGE_ROLES)
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_role(actor=request.user, guild=access.guild, **_role_fields(form))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Role created."))
            return redirect("guilds:settings_roles", guild_id=guild_id)
    ctx = shell_context(request, access, tab="roles", form=form, roles=selectors.roles_of(access.guild))
    return render(request, "guilds/settings_roles.html", ctx, status=form_status(form))


@login_required
def role_edit(request, guild_id, role_id):
    access = _settings(request.user, guild_id, Permission.MANAGE_ROLES)
    role = _found(selectors.role_in, access.guild, role_id)
    form = RoleForm(request.POST or None, initial={
        "name": role.name, "color": role.color_hex or "#000000", "hoist": role.hoist,
        "mentionable": role.mentionable, "permissions": names(role.permissions)})
    if request.method == "POST" and form.is_valid():
        fields = _role_fields(form)
        if role.is_default:
            fields.pop("name")
        try:
            services.update_role(actor=request.user, role=role, **fields)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Role saved."))
            return redirect("guilds:role_edit", guild_id=guild_id, role_id=role.id)
    ctx = shell_context(request, access, tab="roles", form=form, role=role, roles=selectors.roles_of(access.guild))
    return render(request, "guilds/role_edit.html", ctx, status=form_status(form))


@login_required
@require_POST
def role_move(request, guild_id, role_id):
    access = guild_access(request.user, guild_id)
    order = selectors.ordered_role_ids(access.guild)
    moved = _moved(order, role_id, request.POST.get("direction"))
    if moved != order:  # reorder_roles takes the two roles that swapped, in their new order
        pair = [rid for rid, was in zip(moved, order, strict=True) if rid != was]
        try:
            services.reorder_roles(actor=request.user, guild=access.guild, order=pair)
        except DomainError as exc:
            flash_error(request, exc)
    return redirect("guilds:settings_roles", guild_id=guild_id)


@login_required
@require_POST
def role_delete(request, guild_id, role_id):
    access = guild_access(request.user, guild_id)
    role = _found(selectors.role_in, access.guild, role_id)
    try:
        services.delete_role(actor=request.user, role=role)
    except DomainError as exc:
        flash_error(request, exc)
        return redirect("guilds:role_edit", guild_id=guild_id, role_id=role_id)
    messages.success(request, _("Role deleted."))
    return redirect("guilds:settings_roles", guild_id=guild_id)


# --- settings: members and bans ---

@login_required
def settings_members(request, guild_id):
    access = _settings(request.user, guild_id, *MEMBER_MODERATION)
    bans = []
    if access.permissions & Permission.BAN_MEMBERS:
        bans = selectors.bans_of(access.guild)
    ctx = shell_context(request, access, tab="members", members=selectors.members_of(access.guild),
                 roles=selectors.roles_of(access.guild).filter(is_default=False), bans=bans, ban_form=BanForm())
    return render(request, "guilds/settings_members.html", ctx)


# The members page's timeout choices, in seconds ("0" lifts a timeout).
TIMEOUT_CHOICES = ("0", "60", "600", "3600", "86400", "604800")


def member_action(action):
    """A view for one of the members page's actions: `action(request, access, user_id)` calls a
    service and answers what to tell the moderator; a refusal is told instead. Either way the
    moderator is back on the members page. (Outsiders get the 404 page.)"""

    @wraps(action)
    @login_required
    @require_POST
    def view(request, guild_id, user_id):
        access = guild_access(request.user, guild_id)
        try:
            done = action(request, access, user_id)
        except DomainError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, done)
        return redirect("guilds:settings_members", guild_id=guild_id)

    return view


def _reason(request) -> str:
    return request.POST.get("reason", "")[:512]


@member_action
def member_roles(request, access, user_id):
    member = selectors.member_in(access.guild, user_id)
    roles = selectors.assignable_roles(access.guild, request.POST.getlist("roles"))
    services.set_member_roles(actor=request.user, member=member, roles=roles)
    return _("Roles updated.")


@member_action
def member_kick(request, access, user_id):
    sanctions.kick_member(actor=request.user, member=selectors.member_in(access.guild, user_id),
                          reason=_reason(request))
    return _("Member kicked.")


@member_action
def member_ban(request, access, user_id):
    member = selectors.member_in(access.guild, user_id)
    form = BanForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(_("Check the ban form: %(errors)s") % {"errors": form.errors.as_text()})
    sanctions.ban_member(actor=request.user, guild=access.guild, user=member.user, **form.cleaned_data)
    return _("Member banned.")


@member_action
def member_timeout(request, access, user_id):
    """Time a member out for one of TIMEOUT_CHOICES ("0" lifts the timeout)."""
    member = selectors.member_in(access.guild, user_id)
    seconds = request.POST.get("seconds", "")
    if seconds not in TIMEOUT_CHOICES:
        raise ValidationFailed.field("seconds", _("Choose a timeout from the list."))
    duration = timedelta(seconds=int(seconds)) if int(seconds) else None
    sanctions.timeout_member(actor=request.user, member=member, duration=duration, reason=_reason(request))
    return _("Timeout set.") if duration else _("Timeout lifted.")


@member_action
def ban_lift(request, access, user_id):
    sanctions.unban_member(actor=request.user, guild=access.guild, user=user_by_id(user_id))
    return _("Ban lifted.")


# --- invites ---

@login_required
def settings_invites(request, guild_id):
    access = _settings(request.user, guild_id, Permission.CREATE_INVITE, Permission.MANAGE_GUILD)
    form = InviteForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = invites.create_invite(actor=request.user, guild=access.guild, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            form = InviteForm()
    active = selectors.active_invites(access.guild).select_related("creator")
    if not access.permissions & Permission.MANAGE_GUILD:
        active = active.filter(creator=request.user)
    ctx = shell_context(request, access, tab="invites", form=form, created=created, invites=active)
    return render(request, "guilds/settings_invites.html", ctx, status=form_status(form))


@login_required
@require_POST
def invite_revoke(request, guild_id, code):
    access = guild_access(request.user, guild_id)
    invite = _found(selectors.known_invite, code)
    if invite.guild_id != access.guild.id:
        raise Http404
    try:
        invites.revoke_invite(actor=request.user, invite=invite)
    except DomainError as exc:
        flash_error(request, exc)
    return redirect("guilds:settings_invites", guild_id=guild_id)


# --- audit log ---

AUDIT_PAGE = 50


@login_required
def settings_audit_log(request, guild_id):
    """The guild's audit log (VIEW_AUDIT_LOG), filtered by action, actor and dates, 50 a page, with
    links to export what the filters select as CSV or JSON."""
    access = _settings(request.user, guild_id, Permission.VIEW_AUDIT_LOG)
    choices = selectors.audit_filters(access.guild)
    action = request.GET.get("action", "")
    action = action if action in choices["actions"] else ""
    actor_id = request.GET.get("actor", "")
    actor_id = int(actor_id) if actor_id.isdigit() and any(a.id == int(actor_id) for a in choices["actors"]) else None
    since, until = parse_date(request.GET.get("since", "")[:10]), parse_date(request.GET.get("until", "")[:10])
    entries = selectors.audit_log(access.guild, viewer=access.member, action=action, actor_id=actor_id, since=since,
                                  until=until)
    page = Paginator(entries, AUDIT_PAGE).get_page(request.GET.get("page"))
    export = urlencode({k: v for k, v in (("action", action), ("actor_id", actor_id or ""),
                                           ("since", f"{since}T00:00:00Z" if since else ""),
                                           ("until", f"{until}T23:59:59.999999Z" if until else "")) if v})
    filters = urlencode({k: v for k, v in (("action", action), ("actor", actor_id or ""), ("since", since or ""),
                                           ("until", until or "")) if v})
    rows = audit.describe(access.guild, page, viewer=access.member)
    ctx = shell_context(request, access, tab="audit_log", page=page, rows=rows, choices=choices, action=action,
                        actor_id=actor_id, since=since, until=until, export=export, filters=filters)
    return render(request, "guilds/settings_audit_log.html", ctx)
