"""The guild's moderation settings page (MANAGE_GUILD): thresholds and automod rules; the warn
button of the guild's members page. Each form calls the same service as the API."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import DomainError, NotFound
from apps.core.forms import add_domain_error
from apps.guilds.models import Role
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_guild, member_in, visible_channels
from apps.guilds.settings_views import member_action
from apps.guilds.views import shell_context

from . import report_services, selectors, services
from .forms import AutomodRuleForm, ThresholdsForm


def _manager(user, guild_id):
    try:
        access = access_guild(user, guild_id)
    except NotFound:
        raise Http404(_("Unknown guild.")) from None
    if not access.permissions & Permission.MANAGE_GUILD:
        raise PermissionDenied(_("You need the MANAGE_GUILD permission."))
    return access


@login_required
def settings_moderation(request, guild_id):
    access = _manager(request.user, guild_id)
    guild = access.guild
    roles = list(Role.objects.filter(guild=guild, is_default=False).order_by("-position"))
    channels = [c for c, _ in visible_channels(access.member)]  # never a channel this moderator cannot view
    review_at, hide_at = selectors.guild_thresholds(guild.id)
    thresholds = ThresholdsForm(request.POST if "thresholds" in request.POST else None,
                                initial={"review_at": review_at, "hide_at": hide_at})
    rule_form = AutomodRuleForm(request.POST if "rule" in request.POST else None, roles=roles, channels=channels)
    if request.method == "POST":
        form = thresholds if "thresholds" in request.POST else rule_form
        if form.is_valid():
            try:
                if form is thresholds:
                    services.set_thresholds(actor=request.user, guild=guild, **form.cleaned_data)
                else:
                    services.create_automod_rule(actor=request.user, guild=guild, **form.service_kwargs())
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("moderation:settings", guild_id=guild.id)
    ctx = shell_context(request, access, tab="moderation", thresholds=thresholds, rule_form=rule_form,
                        rules=selectors.automod_rules(guild.id))
    status = 400 if thresholds.errors or rule_form.errors else 200
    return render(request, "moderation/settings.html", ctx, status=status)


@login_required
@require_POST
def rule_delete(request, guild_id, rule_id):
    _manager(request.user, guild_id)
    rule = next((r for r in selectors.automod_rules(guild_id) if r.id == rule_id), None)
    if rule is None:
        raise Http404(_("Unknown automod rule."))
    try:
        services.delete_automod_rule(actor=request.user, rule=rule)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("moderation:settings", guild_id=guild_id)


@login_required
def my_reports(request):
    """The reports the member filed, newest first, with what came of them (GET /api/reports)."""
    return render(request, "moderation/my_reports.html", {"reports": report_services.my_reports(request.user)})


@login_required
@require_POST
def warning_seen(request, warning_id):
    """"Got it" on a warning's notice: 204 for the page's script, else back to the page it was on."""
    try:
        services.acknowledge_warning(user=request.user, warning_id=warning_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    if "application/json" in request.headers.get("Accept", ""):
        return HttpResponse(status=204)
    back = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(back if safe else "/")


@member_action
def member_warn(request, access, user_id):
    """The members page's warn button (MODERATE_MEMBERS, checked by the service)."""
    services.warn_member(actor=request.user, member=member_in(access.guild, user_id),
                         reason=request.POST.get("reason", ""))
    return _("Member warned.")
