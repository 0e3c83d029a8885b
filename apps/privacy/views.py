"""The "Your data" page: ask for an export, download it by its signed link, delete the account."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.services import has_two_factor
from apps.core.clientaddr import site_url
from apps.core.errors import DomainError
from apps.core.forms import add_domain_error

from . import selectors, services
from .exporting import download_path
from .forms import DeletionForm


def _page(request, form=None, status=200):
    user = request.user
    now = timezone.now()
    exports = [(e, download_path(e) if e.state == e.State.READY and e.file and e.expires_at > now else None)
               for e in selectors.exports_of(user)]
    return render(request, "privacy/data.html", {
        "form": form or DeletionForm(two_factor=has_two_factor(user)),
        "exports": exports, "owned_guilds": selectors.owned_guild_names(user),
        "grace_days": settings.ACCOUNT_DELETION_GRACE_DAYS, "link_days": settings.DATA_EXPORT_LINK_DAYS,
    }, status=status)


@login_required
def data(request):
    return _page(request)


@login_required
@require_POST
def export_request(request):
    try:
        services.request_export(user=request.user, language=translation.get_language() or "",
                                site=site_url(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your export is being prepared: you will get an email when it is ready."))
    return redirect("privacy:data")


@login_required
def export_download(request, token):
    try:
        export = services.export_from_link(token, user=request.user)
    except DomainError as exc:
        # 410 for a link that worked and has expired; 404 for one that never named this member's export.
        status = 410 if exc.code == "export_link_expired" else 404
        return render(request, "privacy/link_refused.html", {"message": exc.message}, status=status)
    return FileResponse(export.file.open("rb"), as_attachment=True,
                        filename=export.file.name.rsplit("/", 1)[-1], content_type="application/zip")


@login_required
@require_POST
def delete_account(request):
    user = request.user
    form = DeletionForm(request.POST, two_factor=has_two_factor(user))
    if form.is_valid():
        try:
            deletion = services.request_deletion(user=user, password=form.cleaned_data["password"],
                                                 otp=form.cleaned_data.get("otp", ""),
                                                 messages=form.cleaned_data["messages"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            when = formats.date_format(deletion.delete_after, "DATE_FORMAT")
            logout(request)
            messages.info(request, _("Your account will be deleted on %(date)s. Sign in before then to keep it.")
                          % {"date": when})
            return redirect("/")
    return _page(request, form, status=400)
