"""Account security pages: email address, password reset by mail, signed-in sessions, API tokens.
Thin: parse the form, call the service, answer."""
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.core.clientaddr import client_address, site_url
from apps.core.errors import DomainError, RateLimited
from apps.core.forms import add_domain_error

from . import email_services, selectors, session_services, token_services
from .forms import ApiTokenForm, EmailChangeForm, PasswordResetRequestForm

# --- email ---------------------------------------------------------------------------------------

@login_required
def email_settings(request):
    form = EmailChangeForm(request.POST or None)
    status = 200
    if request.method == "POST" and request.POST.get("action") == "resend":
        try:
            sent_to = email_services.request_verification(request.user, base_url=site_url(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("A new link is on its way to %(email)s.") % {"email": sent_to})
        return redirect("accounts:email")
    if request.method == "POST" and form.is_valid():
        try:
            email_services.change_email(request.user, new_email=form.cleaned_data["email"],
                                        password=form.cleaned_data["password"], base_url=site_url(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("We sent a link to %(email)s: open it to use this address.")
                             % {"email": form.cleaned_data["email"].strip()})
            return redirect("accounts:email")
    if form.errors:
        status = 400
    return render(request, "accounts/email.html", {"form": form}, status=status)


def email_verify(request, token: str):
    try:
        user = email_services.verify_email(token)
    except DomainError as exc:
        return render(request, "accounts/email_verified.html", {"error": exc.message}, status=400)
    return render(request, "accounts/email_verified.html", {"email": user.email})


# --- password reset by mail -------------------------------------------------------------------------

def password_reset(request):
    form = PasswordResetRequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            email_services.request_password_reset(email=form.cleaned_data["email"], ip=client_address(request),
                                                  base_url=site_url(request))
        except DomainError as exc:
            add_domain_error(form, exc)
            status = 429 if isinstance(exc, RateLimited) else 400
        else:
            return redirect("accounts:password_reset_sent")
    if form.errors and status == 200:
        status = 400
    return render(request, "accounts/password_reset.html", {"form": form}, status=status)


def password_reset_sent(request):
    return render(request, "accounts/password_reset_sent.html")


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    """Django's checks of the link (uid, token: expiring, single use, tamper-proof; the token moves
    to the session so it never sits in a URL the page could leak), SmaRTC's page and service."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        try:
            email_services.reset_password(self.user, new_password=form.cleaned_data["new_password1"],
                                          ip=client_address(self.request))
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())


def password_reset_done(request):
    return render(request, "accounts/password_reset_done.html")


# --- sessions ----------------------------------------------------------------------------------------

@login_required
def sessions(request):
    current = request.session.session_key
    rows = [{"id": s.id, "device": selectors.describe_user_agent(s.user_agent), "ip": s.ip,
             "last_seen_at": s.last_seen_at, "created_at": s.created_at, "current": s.session_key == current}
            for s in selectors.user_sessions(request.user)]
    return render(request, "accounts/sessions.html", {"sessions": rows})


@login_required
@require_POST
def session_end(request, session_id: int):
    try:
        session_services.end_session(request.user, session_id=session_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("That session is signed out."))
    return redirect("accounts:sessions")


@login_required
@require_POST
def sessions_end_others(request):
    ended = session_services.end_other_sessions(request.user, keep_session_key=request.session.session_key)
    messages.success(request, _("Signed out everywhere else (%(n)s sessions).") % {"n": ended})
    return redirect("accounts:sessions")


# --- API tokens --------------------------------------------------------------------------------------

@never_cache  # the page that shows a new token's secret is not kept anywhere
@login_required
def tokens(request):
    form = ApiTokenForm(request.POST or None)
    secret = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = token_services.create_token(request.user, name=form.cleaned_data["name"],
                                                        scopes=form.cleaned_data["scopes"],
                                                        expires_in_days=form.cleaned_data["expires_in_days"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            form = ApiTokenForm()
    if form.errors:
        status = 400
    return render(request, "accounts/tokens.html",
                  {"form": form, "secret": secret, "tokens": selectors.api_tokens(request.user)}, status=status)


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        token_services.revoke_token(request.user, token_id=token_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The token is revoked."))
    return redirect("accounts:tokens")
