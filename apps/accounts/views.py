"""Account pages: sign up, two-step log in, log out, password, profile, two-factor set-up."""
import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.bodylimit import body_limit
from apps.core.clientaddr import client_address, site_url
from apps.core.errors import DomainError, RateLimited
from apps.core.forms import add_domain_error

from . import services, session_services
from .forms import LoginForm, PasswordChangeForm, ProfileForm, SignUpForm, TokenForm

PENDING_2FA = "pending_2fa_user"


def login_client(request, username: str) -> services.LoginClient:
    """The client's address and the device id its cookie holds for `username` ("" if none)."""
    return services.LoginClient(ip=client_address(request),
                                device=services.login_device(request.COOKIES.get(services.DEVICE_COOKIE), username))


def remember_device(response, username: str):
    """Marks this browser as one that signed in as `username` (see services, login throttling)."""
    response.set_cookie(services.DEVICE_COOKIE, services.issue_login_device(username),
                        max_age=settings.LOGIN_DEVICE_DAYS * 86400, secure=settings.SESSION_COOKIE_SECURE,
                        httponly=True, samesite="Lax")
    return response


def _next_url(request) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return nxt
    return "/"


def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up(username=form.cleaned_data["username"], email=form.cleaned_data["email"],
                                    password=form.cleaned_data["password"],
                                    display_name=form.cleaned_data["display_name"], base_url=site_url(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.info(request, _("We sent a link to %(email)s: open it to confirm your address.")
                          % {"email": user.email})
            return redirect(_next_url(request))
    return render(request, "accounts/signup.html", {"form": form, "next": _next_url(request)},
                  status=400 if form.errors else 200)


def login_view(request):
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            user = services.authenticate(request, username=username, password=form.cleaned_data["password"],
                                         client=login_client(request, username), otp_later=True)
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = 429 if isinstance(exc, RateLimited) else 400
        else:
            if services.has_two_factor(user):
                request.session[PENDING_2FA] = user.pk
                return redirect(f"/accounts/login/verify?next={_next_url(request)}")
            login(request, user)
            return remember_device(redirect(_next_url(request)), user.username)
    if form.errors and status == 200:
        status = 400  # the form's own errors (a field left empty)
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)}, status=status)


def login_verify(request):
    """Second step for accounts with 2FA: the password was right, now a code."""
    user = get_user_model().objects.filter(pk=request.session.get(PENDING_2FA)).first()
    if user is None:
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.verify_login_code(user, code=form.cleaned_data["token"],
                                                client=login_client(request, user.username))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            del request.session[PENDING_2FA]
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            return remember_device(redirect(_next_url(request)), user.username)
    return render(request, "accounts/login_verify.html", {"form": form, "next": _next_url(request)},
                  status=400 if form.errors else 200)


@require_POST
def logout_view(request):
    session_services.forget_session(request.user, request.session.session_key)
    logout(request)
    return redirect("/")


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(request.user, **form.cleaned_data,
                                     keep_session_key=request.session.session_key)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            login(request, request.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your password was changed."))
            return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@body_limit(lambda: settings.MAX_IMAGE_UPLOAD_BYTES)
def profile(request):
    user = request.user
    form = ProfileForm(request.POST or None, request.FILES or None,
                       initial={"display_name": user.display_name, "bio": user.bio})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(user, display_name=form.cleaned_data["display_name"],
                                    bio=form.cleaned_data["bio"], avatar=form.cleaned_data["avatar"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html",
                  {"form": form, "two_factor": services.has_two_factor(user)}, status=400 if form.errors else 200)


def _qr_svg(url: str) -> str:
    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


@login_required
def two_factor(request):
    """Status page; POST starts enrolment of a new authenticator."""
    if request.method == "POST":
        services.start_totp_enrolment(request.user)
        return redirect("accounts:two_factor_enrol")
    return render(request, "accounts/two_factor.html", {"enabled": services.has_two_factor(request.user)})


@login_required
def two_factor_enrol(request):
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("-id").first()
    if device is None:
        return redirect("accounts:two_factor")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.confirm_totp(request.user, token=form.cleaned_data["token"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            otp_login(request, TOTPDevice.objects.get(pk=device.pk))
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
    secret = base64.b32encode(device.bin_key).decode()
    return render(request, "accounts/two_factor_enrol.html",
                  {"form": form, "qr": _qr_svg(device.config_url), "secret": secret},
                  status=400 if form.errors else 200)


@login_required
def two_factor_manage(request):
    """Regenerate recovery codes or turn 2FA off; both need a current code."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        try:
            if action == "disable":
                services.disable_two_factor(request.user, token=form.cleaned_data["token"])
                messages.success(request, _("Two-factor authentication is off."))
                return redirect("accounts:two_factor")
            codes = services.regenerate_recovery_codes(request.user, token=form.cleaned_data["token"])
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
        except DomainError as exc:
            add_domain_error(form, exc)
    return render(request, "accounts/two_factor.html",
                  {"enabled": services.has_two_factor(request.user), "form": form}, status=400 if form.errors else 200)
