"""Server-rendered guild pages: the landing and home pages, a guild and its channels, leaving,
deleting and handing over a guild, and invite links. The settings pages are in settings_views.py.
Each view: access -> service -> render; errors become form errors."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import DomainError, NotFound
from apps.core.forms import add_domain_error

from . import invites, selectors, services
from .forms import GuildForm
from .models import Channel
from .permissions import names


def guild_access(user, guild_id):
    """The member's access to a guild, or the 404 page (outsiders do not learn it exists)."""
    try:
        return selectors.access_guild(user, guild_id)
    except NotFound:
        raise Http404(_("Unknown guild.")) from None


def flash_error(request, exc: DomainError) -> None:
    messages.error(request, exc.message)


def form_status(form) -> int:
    return 400 if form.errors else 200


def home(request):
    if not request.user.is_authenticated:
        return render(request, "guilds/landing.html", {"explore": selectors.discoverable_guilds()[:6]})
    first = selectors.guilds_of(request.user).first()
    return render(request, "guilds/home.html", {"first_guild": first})


def explore(request):
    query = request.GET.get("q", "")[:100]
    return render(request, "guilds/explore.html", {"guilds": selectors.discoverable_guilds(query)[:60], "q": query})


@login_required
def guild_create(request):
    form = GuildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            guild = services.create_guild(owner=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return redirect("guilds:guild", guild_id=guild.id)
    return render(request, "guilds/guild_create.html", {"form": form}, status=form_status(form))


def shell_context(request, access, **extra):
    """Context of the three-column layout: guild rail, channel sidebar, member list."""
    return {
        "guild": access.guild,
        "me": access.member,
        "perms": access.permissions,
        "perm_names": set(names(access.permissions)),
        "sections": selectors.sidebar(access.member),
        "member_groups": selectors.member_list(access.guild),
        "channel_icon_types": ["text", "voice", "announcement"],  # for channels the sidebar adds live
        **extra,
    }


@login_required
def guild(request, guild_id):
    access = guild_access(request.user, guild_id)
    text = [c for c, _ in selectors.visible_channels(access.member) if c.type != Channel.Type.VOICE]
    if text:
        return redirect("guilds:channel", guild_id=guild_id, channel_id=text[0].id)
    return render(request, "guilds/channel.html", shell_context(request, access, channel=None))


@login_required
def channel(request, guild_id, channel_id):
    access = guild_access(request.user, guild_id)
    try:
        ch_access = selectors.access_channel(request.user, channel_id)
    except NotFound:
        raise Http404(_("Unknown channel.")) from None
    if ch_access.channel.guild_id != access.guild.id:
        raise Http404(_("Unknown channel."))
    ctx = shell_context(request, access, channel=ch_access.channel,
                        channel_perm_names=set(names(ch_access.permissions)))
    # A voice channel opens its room (apps/rtc); joining happens over the gateway.
    template = "rtc/voice_room.html" if ch_access.channel.type == Channel.Type.VOICE else "guilds/channel.html"
    return render(request, template, ctx)


@login_required
@require_POST
def guild_leave(request, guild_id):
    access = guild_access(request.user, guild_id)
    try:
        services.leave_guild(user=request.user, guild=access.guild)
    except DomainError as exc:
        flash_error(request, exc)
        return redirect("guilds:settings", guild_id=guild_id)
    messages.success(request, _("You left %(name)s.") % {"name": access.guild.name})
    return redirect("home")


@login_required
@require_POST
def guild_delete(request, guild_id):
    access = guild_access(request.user, guild_id)
    if request.POST.get("confirm_name") != access.guild.name:
        messages.error(request, _("Type the guild's name to confirm."))
        return redirect("guilds:settings", guild_id=guild_id)
    try:
        services.delete_guild(actor=request.user, guild=access.guild)
    except DomainError as exc:
        flash_error(request, exc)
        return redirect("guilds:settings", guild_id=guild_id)
    return redirect("home")


@login_required
@require_POST
def guild_transfer(request, guild_id):
    access = guild_access(request.user, guild_id)
    try:
        member = selectors.member_in(access.guild, request.POST.get("user_id"))
        services.transfer_ownership(actor=request.user, guild=access.guild, new_owner=member.user)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Ownership transferred."))
    return redirect("guilds:settings", guild_id=guild_id)


def invite(request, code):
    """The page an invite link opens: preview, then join (sign up or log in first if needed)."""
    inv = selectors.invite_by_code(code)
    error, status = None, 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login?next=/invite/{code}")
        try:
            member = invites.join_by_invite(user=request.user, code=code)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            return redirect("guilds:guild", guild_id=member.guild_id)
    elif inv is None or not inv.is_usable:
        error, status = _("This invite is invalid or has expired."), 404 if inv is None else 410
    member_count = inv.guild.members.count() if inv else 0
    already = bool(inv and request.user.is_authenticated and inv.guild.members.filter(user=request.user).exists())
    return render(request, "guilds/invite.html",
                  {"invite": inv, "error": error, "member_count": member_count, "already": already},
                  status=status)
