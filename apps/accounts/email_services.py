"""Email addresses and password resets: verification by a signed, expiring link, changing the
address (the new one is verified, the old one told), and password reset by mail. Every mail is
sent by a Celery task (tasks.py) after the request's transaction commits, never inside a request."""
from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext

from apps.core import ratelimit, unavailable
from apps.core.errors import RateLimited, ValidationFailed

from . import session_services
from .models import User

log = logging.getLogger(__name__)
_VERIFY_SALT = "accounts.email-verify"
MAX_EMAIL_LENGTH = 254


# --- addresses -----------------------------------------------------------------------------------

def clean_email(value: str, *, field: str = "email") -> str:
    """A well-formed address (domain in lower case), or ValidationFailed on `field`."""
    value = (value or "").strip()
    if not value:
        raise ValidationFailed.field(field, gettext("Enter your email address."))
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValidationFailed.field(field, gettext("An email address has at most 254 characters."))
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValidationFailed.field(field, gettext("Enter a valid email address.")) from None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def verified_owner(email: str) -> User | None:
    """The active account whose verified address this is."""
    return User.objects.filter(email__iexact=email, email_verified=True, is_active=True).first()


def _state(user: User) -> str:
    """Changes whenever the address to verify does: a link made before no longer applies."""
    return salted_hmac(_VERIFY_SALT, f"{user.email}|{user.pending_email}|{user.email_verified}").hexdigest()[:16]


def verification_link(user: User, email: str, base_url: str) -> str:
    token = signing.dumps({"u": user.pk, "e": email, "s": _state(user)}, salt=_VERIFY_SALT, compress=True)
    return f"{base_url}/accounts/email/verify/{token}"


def _queue_verification(user: User, email: str, base_url: str) -> None:
    from . import tasks

    user_id, language = user.pk, translation.get_language()
    unavailable.after_commit(lambda: tasks.send_email_verification.delay(user_id, email, base_url, language),
                             what="queueing a verification mail")


def request_verification(user: User, *, base_url: str) -> str:
    """Send (again) the link that verifies the address waiting to be verified; returns it."""
    email = user.pending_email or (user.email if not user.email_verified else "")
    if not email:
        raise ValidationFailed(gettext("Your address is already verified."), code="already_verified")
    if ratelimit.hit(f"verify:user:{user.pk}", window=3600) > 5:
        raise RateLimited(gettext("Too many mails asked for. Try again in an hour."), retry_after=3600)
    _queue_verification(user, email, base_url)
    return email


@transaction.atomic
def after_sign_up(user: User, *, base_url: str) -> None:
    """A new account's address gets its verification link."""
    if user.email and not user.email_verified:
        _queue_verification(user, user.email, base_url)


@transaction.atomic
def change_email(user: User, *, new_email: str, password: str, base_url: str) -> None:
    """Ask to change the address: the new one gets a link; until it is opened the old one stays.
    Whether another account uses the new address is not told here (the link's owner learns it)."""
    if not user.check_password(password):
        raise ValidationFailed.field("password", gettext("Your current password is wrong."))
    new_email = clean_email(new_email)
    user = User.objects.select_for_update().get(pk=user.pk)
    if new_email.lower() == user.email.lower() and user.email_verified:
        raise ValidationFailed.field("email", gettext("This is already your address."))
    if user.email_verified:
        user.pending_email = new_email
    else:  # nothing proven to keep: the new address replaces the unverified one
        user.email, user.pending_email = new_email, ""
    user.save(update_fields=["email", "pending_email"])
    _queue_verification(user, new_email, base_url)
    log.info("user %s asked to change their email address", user.pk)


@transaction.atomic
def verify_email(token: str) -> User:
    """Open a verification link: its address becomes the account's verified one. Expired,
    tampered or used links change nothing."""
    try:
        data = signing.loads(token, salt=_VERIFY_SALT, max_age=settings.EMAIL_VERIFY_SECONDS)
    except signing.SignatureExpired:
        raise ValidationFailed(gettext("This link has expired. Ask for a new one from your account."),
                               code="link_expired") from None
    except signing.BadSignature:
        raise ValidationFailed(gettext("This link is not valid. Check that you copied all of it."),
                               code="link_invalid") from None
    user = User.objects.select_for_update().filter(pk=data.get("u")).first() if isinstance(data, dict) else None
    email = data.get("e") if user is not None else None
    if user is None or data.get("s") != _state(user) or email not in (user.pending_email, user.email):
        raise ValidationFailed(gettext("This link was already used, or a newer one was sent."), code="link_used")
    other = verified_owner(email)
    if other is not None and other.pk != user.pk:
        raise ValidationFailed(gettext("This address is already used by another account."), code="email_taken")
    old = user.email if user.email_verified and user.email.lower() != email.lower() else ""
    user.email, user.pending_email, user.email_verified = email, "", True
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "pending_email", "email_verified"])
    except IntegrityError:  # verified by another account meanwhile
        raise ValidationFailed(gettext("This address is already used by another account."),
                               code="email_taken") from None
    if old:
        from . import tasks

        user_id, language = user.pk, translation.get_language()
        unavailable.after_commit(lambda: tasks.send_email_changed_notice.delay(user_id, old, email, language),
                                 what="queueing an address change notice")
    log.info("user %s verified their email address", user.pk)
    return user


# --- the mails (run by the tasks) ------------------------------------------------------------------

def _mail(to: str, template: str, context: dict, language: str) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"accounts/mail/{template}_subject.txt", context).strip()
        body = render_to_string(f"accounts/mail/{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def mail_verification(user_id: int, email: str, base_url: str, language: str) -> str:
    user = User.objects.filter(pk=user_id).first()
    if user is None or email not in (user.pending_email, "" if user.email_verified else user.email):
        return "skipped"  # changed again since: only the latest address gets a link
    _mail(email, "verify_email", {"user": user, "link": verification_link(user, email, base_url),
                                  "days": settings.EMAIL_VERIFY_SECONDS // 86400 or 1}, language)
    return "sent"


def mail_email_changed(user_id: int, old_email: str, new_email: str, language: str) -> str:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return "skipped"
    _mail(old_email, "email_changed", {"user": user, "new_email": new_email}, language)
    return "sent"


# --- password reset ---------------------------------------------------------------------------------

def _address_key(email: str) -> str:
    return hashlib.sha256(email.lower().encode()).hexdigest()[:24]


def request_password_reset(*, email: str, ip: str, base_url: str) -> None:
    """Ask for a reset link. The answer and the work done here are the same whether an account
    has this address or not: the worker looks the address up and mails only an account's owner."""
    email = clean_email(email)
    window = settings.PASSWORD_RESET_RATE_WINDOW
    if ratelimit.hit(f"reset:ip:{ip}", window=window) > settings.PASSWORD_RESET_IP_LIMIT \
            or ratelimit.hit(f"reset:email:{_address_key(email)}", window=window) > settings.PASSWORD_RESET_EMAIL_LIMIT:
        minutes = max(window // 60, 1)
        raise RateLimited(gettext("Too many reset requests. Try again in %(n)s minutes.") % {"n": minutes},
                          retry_after=window)
    from . import tasks

    language = translation.get_language()
    unavailable.after_commit(lambda: tasks.send_password_reset.delay(email, base_url, language),
                             what="queueing a password reset mail")
    log.info("password reset asked from %s", ip)


def mail_password_reset(email: str, base_url: str, language: str) -> str:
    user = verified_owner(email)
    if user is None or not user.has_usable_password():
        return "skipped"
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = f"{base_url}/accounts/reset/{uid}/{default_token_generator.make_token(user)}/"
    _mail(user.email, "password_reset", {"user": user, "link": link,
                                         "minutes": settings.PASSWORD_RESET_TIMEOUT // 60}, language)
    return "sent"


@transaction.atomic
def reset_password(user: User, *, new_password: str, ip: str) -> None:
    """Set the password from a reset link (checked by the caller); every session of the account
    ends, and with them their gateway sockets."""
    from .services import _password_errors

    _password_errors(new_password, user, "new_password1")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    ended = session_services.end_other_sessions(user, keep_session_key=None)
    log.warning("password of user %s reset by mail from %s; %s sessions ended", user.pk, ip, ended)
