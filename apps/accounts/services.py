"""Every change to an account: sign-up, profile, password, login throttling, two-factor."""
from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth import authenticate as check_credentials
from django.contrib.auth import password_validation
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext, ngettext
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core import images, ratelimit, unavailable
from apps.core.errors import NotAuthenticated, NotFound, RateLimited, ValidationFailed
from apps.core.images import validate_image

from .models import Block, User

RECOVERY_CODE_COUNT = 10
log = logging.getLogger(__name__)


def _password_errors(password: str, user: User | None, field: str) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), fields={field: exc.messages}) from None


@transaction.atomic
def sign_up(*, username: str, email: str, password: str, display_name: str = "", base_url: str = "",
            email_verified: bool = False) -> User:
    """A new account. Its address gets a verification link (sent to `base_url`'s pages) unless
    `email_verified` (demo users). An address another account verified is accepted unverified, so
    the form tells nobody whose it is; that account keeps it."""
    from . import email_services

    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed.field("username", gettext("This username is taken."))
    if "@" in username:
        raise ValidationFailed.field("username", gettext("A username cannot contain “@”."))
    email = email_services.clean_email(email)
    if email_verified and email_services.verified_owner(email) is not None:
        email_verified = False
    user = User(username=username, email=email, display_name=display_name.strip(), email_verified=email_verified)
    try:
        user.full_clean(exclude=["password"])
    except DjangoValidationError as exc:
        raise ValidationFailed.in_fields(exc.message_dict) from None
    _password_errors(password, user, "password")
    user.set_password(password)
    user.save()
    if not email_verified:
        email_services.after_sign_up(user, base_url=base_url)
    return user


@transaction.atomic
def update_profile(user: User, *, display_name: str, bio: str, avatar=None) -> User:
    if len(display_name) > 64:
        raise ValidationFailed.field("display_name", gettext("At most 64 characters."))
    if len(bio) > 1000:
        raise ValidationFailed.field("bio", gettext("At most 1000 characters."))
    replaced = []
    if avatar is not None:
        validate_image(avatar, field="avatar")
        if user.avatar:
            replaced = [user.avatar.name, *user.avatar_thumbs.values()]
        user.avatar, user.avatar_thumbs = avatar, {}
    user.display_name = display_name.strip()
    user.bio = bio
    user.save()
    if avatar is not None:
        from . import tasks

        user_id = user.id
        kept = user.avatar.name
        transaction.on_commit(lambda: _delete_files(n for n in replaced if n != kept), robust=True)
        unavailable.after_commit(lambda: tasks.avatar_thumbnails.delay(user_id), what="queueing avatar thumbnails")
    return user


def _delete_files(names) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete %s", name)  # an orphan costs storage, not correctness


def make_avatar_thumbnails(user_id: int) -> str:
    """Square WebP thumbnails of a user's avatar in AVATAR_SIZES. Idempotent: a user whose thumbnails
    exist is skipped, and thumbnails of an avatar replaced meanwhile are thrown away."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.avatar or user.avatar_thumbs:
        return "skipped"
    source = user.avatar.name
    try:
        with user.avatar.open("rb") as fh:
            thumbs = images.webp_thumbnails(fh, settings.AVATAR_SIZES, square=True)
    except FileNotFoundError:
        return "skipped"
    except images.BAD_IMAGE_ERRORS as exc:
        if isinstance(exc, OSError) and exc.errno:
            raise  # storage trouble: the task retries
        return "skipped"  # checked at upload; the original stays the avatar
    stem = PurePosixPath(source).with_suffix("")
    names = {str(size): default_storage.save(f"{stem}-{size}.webp", ContentFile(data))
             for size, data in thumbs.items()}
    if not User.objects.filter(pk=user_id, avatar=source, avatar_thumbs={}).update(avatar_thumbs=names):
        _delete_files(names.values())
        return "skipped"
    return "done"


@transaction.atomic
def change_password(user: User, *, old_password: str, new_password: str, keep_session_key: str | None = None) -> None:
    """A new password; every other session of the account ends (their sockets close too)."""
    from . import session_services

    if not user.check_password(old_password):
        raise ValidationFailed.field("old_password", gettext("Your current password is wrong."))
    _password_errors(new_password, user, "new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    session_services.end_other_sessions(user, keep_session_key=keep_session_key)


# --- Login throttling ---------------------------------------------------------------------
# A stranger must not be able to lock the owner out, nor one client everyone behind its address:
# - failures per username *from one client* (its address, or the browser's device cookie) are
#   bounded tightly (LOGIN_RATE_LIMIT per LOGIN_RATE_WINDOW): a guesser stops only itself;
# - failures per username from everywhere are bounded widely (LOGIN_USER_LIMIT); past it each
#   further failure makes clients without a device cookie for that account wait longer before the
#   next try (1 s, 2 s, 4 s ... at most LOGIN_USER_MAX_DELAY), a delay rather than a lockout;
# - an address that failed for LOGIN_ADDRESS_USERNAMES different usernames is refused: it sprays
#   passwords. Distinct names are counted, so colleagues behind one NAT who mistype are not.
# A browser that signed in to an account gets a signed device cookie for it: its failures are
# counted under the device, not the address, and the username-wide delay and the address bound do
# not apply to it, so the owner's own browser gets in whatever others try.

DEVICE_COOKIE = "smartc_login_device"
_DEVICE_SALT = "accounts.login-device"


def _name_key(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:24]


def issue_login_device(username: str) -> str:
    """A signed device token for the browser that just signed in as `username`."""
    return signing.dumps({"u": _name_key(username), "d": secrets.token_hex(8)}, salt=_DEVICE_SALT)


def login_device(token: str | None, username: str) -> str:
    """The device id in `token` when it is valid for `username`, else ""."""
    if not token:
        return ""
    try:
        data = signing.loads(token, salt=_DEVICE_SALT, max_age=settings.LOGIN_DEVICE_DAYS * 86400)
    except signing.BadSignature:
        return ""
    if not isinstance(data, dict) or data.get("u") != _name_key(username):
        return ""
    return str(data.get("d", ""))


def _client_key(username: str, ip: str, device: str) -> str:
    client = f"d:{device}" if device else f"a:{ip}"
    return f"login:client:{_name_key(username)}:{client}"


def _too_many(seconds: int) -> RateLimited:
    if seconds >= 60:
        minutes = seconds // 60
        message = ngettext("Too many failed attempts. Try again in %(n)s minute.",
                           "Too many failed attempts. Try again in %(n)s minutes.", minutes) % {"n": minutes}
    else:
        message = ngettext("Too many failed attempts. Try again in %(n)s second.",
                           "Too many failed attempts. Try again in %(n)s seconds.", seconds) % {"n": seconds}
    return RateLimited(message, retry_after=seconds)


def check_login_allowed(*, username: str, ip: str, device: str = "") -> None:
    """Raises RateLimited when this client may not try to sign in as `username` now. `device` is
    the id login_device() found in the browser's cookie for that username ("" without one)."""
    window = settings.LOGIN_RATE_WINDOW
    if ratelimit.count(_client_key(username, ip, device)) >= settings.LOGIN_RATE_LIMIT:
        raise _too_many(window)
    if device:
        return
    if ratelimit.count(f"login:address:{ip}") >= settings.LOGIN_ADDRESS_USERNAMES:
        raise _too_many(window)
    wait_until = cache.get(f"login:wait:{_name_key(username)}")
    if wait_until and wait_until > time.time():
        raise _too_many(math.ceil(wait_until - time.time()))


def record_login_failure(*, username: str, ip: str, device: str = "") -> None:
    window = settings.LOGIN_RATE_WINDOW
    if ratelimit.hit(_client_key(username, ip, device), window=window) == 1 and not device:
        ratelimit.hit(f"login:address:{ip}", window=window)  # one more username tried from there
    failures = ratelimit.hit(f"login:user:{_name_key(username)}", window=window)
    over = failures - settings.LOGIN_USER_LIMIT
    if over > 0:
        delay = min(2 ** min(over - 1, 16), settings.LOGIN_USER_MAX_DELAY)
        cache.set(f"login:wait:{_name_key(username)}", time.time() + delay, timeout=delay)


def record_login_success(*, username: str, ip: str, device: str = "") -> None:
    # Only this client's count is cleared: the owner signing in must not hand a guesser elsewhere
    # a fresh allowance.
    ratelimit.reset(_client_key(username, ip, device))


# --- Signing in: the one flow of the login page and the API's token endpoint ----------------

@dataclass(frozen=True)
class LoginClient:
    """Who is trying to sign in, as login throttling counts them: the client's address, and the
    device id a browser's cookie holds for the username tried ("" without one: API clients)."""

    ip: str
    device: str = ""


def authenticate(request, *, username: str, password: str, client: LoginClient, otp: str = "",
                 otp_later: bool = False) -> User:
    """The user these credentials sign in, within login throttling: raises RateLimited while this
    client may not try, NotAuthenticated (invalid_credentials) for a wrong pair, and counts the
    failure. For an account with two-factor authentication `otp` is its code, checked as
    verify_login_code does; with `otp_later` the caller asks for the code on its own step (the
    login page's second page) and nothing counts as a success until it is given there."""
    username = account_username(username)
    check_login_allowed(username=username, ip=client.ip, device=client.device)
    user = check_credentials(request, username=username, password=password)
    if user is None:
        record_login_failure(username=username, ip=client.ip, device=client.device)
        raise NotAuthenticated(gettext("Wrong username, email or password."), code="invalid_credentials")
    if has_two_factor(user):
        if otp_later:
            return user
        if not otp:
            raise ValidationFailed.field("otp", gettext("Two-factor authentication is on: send a code."))
        verify_login_code(user, code=otp, client=client, field="otp")
        return user
    record_login_success(username=username, ip=client.ip, device=client.device)
    return user


def account_username(login: str) -> str:
    """What a login form's first field names: a username, or the verified address of an account
    (then its username). An unknown address stays as typed: it fails like a wrong username."""
    login = login.strip()
    if "@" in login:
        owner = User.objects.filter(email__iexact=login, email_verified=True).only("username").first()
        if owner is not None:
            return owner.username
    return login


def verify_login_code(user: User, *, code: str, client: LoginClient, field: str = "token"):
    """The second step of signing in to an account with two-factor authentication: the confirmed
    device that accepts `code` (authenticator or recovery code), within login throttling; a wrong
    code counts as a failed login (ValidationFailed on `field`)."""
    check_login_allowed(username=user.username, ip=client.ip, device=client.device)
    try:
        device = verify_second_factor(user, token=code, field=field)
    except ValidationFailed:
        record_login_failure(username=user.username, ip=client.ip, device=client.device)
        raise
    record_login_success(username=user.username, ip=client.ip, device=client.device)
    return device


def issue_token(user: User) -> str:
    """A new API token with every scope for a user who just gave their credentials
    (token_services.issue_login_token)."""
    from . import token_services

    return token_services.issue_login_token(user)


# --- Two-factor authentication (TOTP with recovery codes). ---

def has_two_factor(user: User) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


@transaction.atomic
def start_totp_enrolment(user: User) -> TOTPDevice:
    """A fresh unconfirmed authenticator; earlier unconfirmed attempts are dropped."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    codes = ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


@transaction.atomic
def confirm_totp(user: User, *, token: str) -> list[str]:
    """Confirm the pending authenticator with a code from it; returns new recovery codes."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise NotFound(gettext("Start the set-up again: there is no authenticator waiting to be confirmed."))
    if not device.verify_token(token.strip()):
        raise ValidationFailed.field("token", gettext("That code is not valid. Check your device's clock."))
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return _new_recovery_codes(user)


@transaction.atomic
def regenerate_recovery_codes(user: User, *, token: str) -> list[str]:
    verify_second_factor(user, token=token)
    return _new_recovery_codes(user)


@transaction.atomic
def disable_two_factor(user: User, *, token: str) -> None:
    verify_second_factor(user, token=token)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def verify_second_factor(user: User, *, token: str, field: str = "token"):
    """The confirmed device that accepts `token` (authenticator code or recovery code)."""
    token = token.strip()
    if token:
        for device in devices_for_user(user, confirmed=True):
            if device.verify_token(token):
                return device
    raise ValidationFailed.field(field, gettext("That code is not valid."))


# --- blocking ------------------------------------------------------------------------------

@transaction.atomic
def block_user(*, user: User, target_id: int) -> bool:
    """`user` blocks `target_id`; True if it is new (blocking twice changes nothing)."""
    if target_id == user.id:
        raise ValidationFailed.field("user_id", gettext("You cannot block yourself."))
    target = User.objects.filter(pk=target_id).first()
    if target is None:
        raise NotFound(gettext("Unknown user."), code="unknown_user")
    _, created = Block.objects.get_or_create(blocker=user, blocked=target)
    return created


@transaction.atomic
def unblock_user(*, user: User, target_id: int) -> None:
    deleted, _ = Block.objects.filter(blocker=user, blocked_id=target_id).delete()
    if not deleted:
        raise NotFound(gettext("You have not blocked this user."), code="not_blocked")
