"""Direct message pages: the DM home (/channels/@me) and a DM conversation, which is the chat page
itself on a DM channel. Each view: access -> service -> render or redirect with a flash message."""
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts import selectors as account_selectors
from apps.accounts import services as account_services
from apps.core.errors import DomainError, NotFound
from apps.guilds.models import Channel
from apps.guilds.permissions import names
from apps.guilds.selectors import access_channel

from . import selectors, services


def _sidebar(request, **extra) -> dict:
    entries = selectors.dm_list(request.user)
    for e in entries:
        e["title"] = selectors.title_for(e, request.user.id)
    return {"dm_entries": entries, "dm_home": True, "me": {"shown_name": request.user.shown_name}, **extra}


def _user_by_name(username: str):
    user = get_user_model().objects.filter(username__iexact=username.strip().lstrip("@"), is_active=True).first()
    if user is None:
        raise NotFound(_("Unknown user."), code="unknown_user")
    return user


@login_required
def home(request):
    return render(request, "dms/home.html", _sidebar(request, blocked=account_selectors.blocked_users(request.user),
                                                     reachable=selectors.reachable_users(request.user)))


@login_required
@require_POST
def open_dm(request):
    """Open the DM with a user, named by id (the member list's Message button) or by username."""
    try:
        user_id = request.POST.get("user_id", "")
        other = (get_user_model().objects.filter(pk=int(user_id)).first() if user_id.isdigit()
                 else _user_by_name(request.POST.get("username", "")))
        if other is None:
            raise NotFound(_("Unknown user."), code="unknown_user")
        channel, _created = services.open_dm(user=request.user, recipient_id=other.id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("dms:home")
    return redirect("dms:channel", channel_id=channel.id)


@login_required
@require_POST
def create_group(request):
    try:
        names_given = [n for n in request.POST.get("usernames", "").replace(",", " ").split() if n]
        if not names_given:
            raise NotFound(_("Name at least one person."))
        ids = [_user_by_name(n).id for n in names_given]
        channel = services.create_group_dm(owner=request.user, recipient_ids=ids, name=request.POST.get("name", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("dms:home")
    return redirect("dms:channel", channel_id=channel.id)


def _access(user, channel_id):
    try:
        access = access_channel(user, channel_id)
    except NotFound:
        raise Http404(_("Unknown channel.")) from None
    if not access.channel.is_private:
        raise Http404(_("Unknown channel."))
    return access


@login_required
def channel(request, channel_id):
    access = _access(request.user, channel_id)
    ctx = _sidebar(request)
    entry = next(e for e in ctx["dm_entries"] if e["id"] == access.channel.id)
    others = [r for r in entry["recipients"] if r["id"] != request.user.id]
    dm = access.channel
    dm.name = entry["title"]  # shown where the chat page shows a channel's name
    perm_names = set(names(access.permissions))
    ctx.update(
        channel=dm, guild=None, me=access.member, entry=entry, others=others,
        is_group=dm.type == Channel.Type.GROUP_DM, is_owner=dm.owner_id == request.user.id,
        channel_perm_names=perm_names, dm_blocked=access.blocked,
        i_blocked=bool(others) and dm.type == Channel.Type.DM
        and account_selectors.has_blocked(request.user, others[0]["id"]),
    )
    return render(request, "dms/channel.html", ctx)


@login_required
@require_POST
def block(request, channel_id):
    """Block or unblock the other person of a 1:1 DM."""
    access = _access(request.user, channel_id)
    other = selectors.recipient_ids(access.channel)
    other = [uid for uid in other if uid != request.user.id]
    if access.channel.type != Channel.Type.DM or not other:
        raise Http404
    try:
        if request.POST.get("action") == "unblock":
            account_services.unblock_user(user=request.user, target_id=other[0])
            messages.success(request, _("Unblocked."))
        else:
            account_services.block_user(user=request.user, target_id=other[0])
            messages.success(request, _("Blocked. Neither of you can send messages here now."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("dms:channel", channel_id=channel_id)


@login_required
@require_POST
def unblock(request, user_id):
    try:
        account_services.unblock_user(user=request.user, target_id=user_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("dms:home")


@login_required
@require_POST
def group_action(request, channel_id):
    """Rename a group DM, add someone (owner), remove someone (owner) or leave."""
    _access(request.user, channel_id)
    action = request.POST.get("action")
    try:
        if action == "rename":
            services.rename_group_dm(actor=request.user, channel_id=channel_id, name=request.POST.get("name", ""))
        elif action == "add":
            user = _user_by_name(request.POST.get("username", ""))
            services.add_recipient(actor=request.user, channel_id=channel_id, user_id=user.id)
        elif action == "remove":
            user_id = request.POST.get("user_id", "")
            user_id = int(user_id) if user_id.isdigit() else 0
            services.remove_recipient(actor=request.user, channel_id=channel_id, user_id=user_id)
            if user_id == request.user.id:
                return redirect("dms:home")
        elif action == "leave":
            services.remove_recipient(actor=request.user, channel_id=channel_id, user_id=request.user.id)
            return redirect("dms:home")
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("dms:channel", channel_id=channel_id)
