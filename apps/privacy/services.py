"""A member's requests about their own data: deleting the account (after a grace period that
signing in cancels) and exports of it (a zip built by a worker, downloaded by a signed link).
What the deletion itself removes is in erasure.py; what an export holds is in exporting.py."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from apps.accounts import session_services, token_services
from apps.accounts.services import has_two_factor, verify_second_factor
from apps.core import ratelimit, unavailable
from apps.core.errors import Conflict, DomainError, NotFound, RateLimited, ValidationFailed

from . import selectors
from .models import DataExport, DeletionRequest

log = logging.getLogger(__name__)

# Wrong passwords on the deletion form, per account, before it waits (a stolen session must not
# be a free password oracle).
CONFIRM_LIMIT = 5
CONFIRM_WINDOW = 900
_LINK_SALT = "privacy.export-link"


class OwnsGuilds(DomainError):
    """The account owns guilds: they must change hands (or be deleted) first."""

    status = 409
    code = "owns_guilds"

    def __init__(self, names: list[str]):
        listed = ", ".join(names)
        super().__init__(ngettext(
            "You own the guild %(guilds)s: transfer it to another member or delete it first.",
            "You own these guilds: %(guilds)s. Transfer each to another member or delete it first.",
            len(names)) % {"guilds": listed})
        self.guilds = names

    def as_dict(self) -> dict:
        return {**super().as_dict(), "guilds": self.guilds}


# --- deletion ------------------------------------------------------------------------------

def check_no_owned_guilds(user) -> None:
    names = selectors.owned_guild_names(user)
    if names:
        raise OwnsGuilds(names)


def _confirm_identity(user, *, password: str, otp: str) -> None:
    key = f"privacy:confirm:{user.id}"
    if ratelimit.count(key) >= CONFIRM_LIMIT:
        raise RateLimited(gettext("Too many wrong passwords. Try again in %(n)s minutes.")
                          % {"n": CONFIRM_WINDOW // 60}, retry_after=CONFIRM_WINDOW)
    if not user.check_password(password or ""):
        ratelimit.hit(key, window=CONFIRM_WINDOW)
        raise ValidationFailed.field("password", gettext("Your password is wrong."))
    if has_two_factor(user):
        if not (otp or "").strip():
            raise ValidationFailed.field("otp", gettext("Two-factor authentication is on: enter a code."))
        try:
            verify_second_factor(user, token=otp, field="otp")
        except ValidationFailed:
            ratelimit.hit(key, window=CONFIRM_WINDOW)
            raise
    ratelimit.reset(key)


@transaction.atomic
def request_deletion(*, user, password: str, otp: str = "", messages: str = DeletionRequest.Messages.ANONYMISE
                     ) -> DeletionRequest:
    """Schedule the account's deletion ACCOUNT_DELETION_GRACE_DAYS from now, once its owner proved
    who they are (password, and a second factor when they have one). Refused, changing nothing,
    while they own a guild. The caller signs them out: signing in again cancels."""
    if messages not in DeletionRequest.Messages.values:
        raise ValidationFailed.field("messages", gettext("Choose what happens to your messages."))
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    _confirm_identity(user, password=password, otp=otp)
    check_no_owned_guilds(user)
    due = timezone.now() + timedelta(days=settings.ACCOUNT_DELETION_GRACE_DAYS)
    request, _ = DeletionRequest.objects.update_or_create(user=user, defaults={
        "delete_after": due, "messages": messages, "requested_at": timezone.now()})
    # API tokens and other browsers would carry on as if nothing happened: signing in is the way back.
    token_services.revoke_all_tokens(user)
    session_services.end_other_sessions(user, keep_session_key=None)
    return request


def cancel_deletion(user) -> DeletionRequest | None:
    """Signing in during the grace period keeps the account: the request is dropped (returned, so
    the caller can say so), or None when there was none."""
    with transaction.atomic():
        request = DeletionRequest.objects.select_for_update().filter(user_id=user.pk).first()
        if request is not None:
            request.delete()
    return request


def delete_due_accounts(*, now=None) -> dict[str, int]:
    """The beat job: every account whose grace period ended is erased (erasure.erase_account), one
    at a time, each in its own transaction; one that came to own a guild meanwhile waits, logged."""
    from . import erasure

    done = {"deleted": 0, "waiting": 0}
    for user_id in selectors.due_deletions(now or timezone.now()):
        try:
            erased = erasure.erase_account(user_id)
        except OwnsGuilds:
            log.warning("account %s is due for deletion but owns guilds", user_id)
            done["waiting"] += 1
            continue
        done["deleted"] += erased
    return done


# --- exports -------------------------------------------------------------------------------

@transaction.atomic
def request_export(*, user, language: str = "", site: str = "") -> DataExport:
    """Queue a zip of the member's data. One at a time, and one a day. `site`: where the mailed link
    points (the site the member asked from, unless SITE_URL says otherwise)."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)  # two clicks at once: one export
    running = selectors.running_export(user)
    if running is not None:
        raise Conflict(gettext("Your export is being prepared: you will get an email when it is ready."),
                       code="export_running")
    recent = selectors.latest_export_since(user, timezone.now() - timedelta(days=1))
    if recent is not None:
        wait = recent.created_at + timedelta(days=1) - timezone.now()
        hours = max(1, int(wait.total_seconds() // 3600) + 1)
        raise RateLimited(ngettext("You can ask for one export a day: try again in %(n)s hour.",
                                   "You can ask for one export a day: try again in %(n)s hours.", hours)
                          % {"n": hours}, retry_after=int(wait.total_seconds()) + 1, code="export_daily_limit")
    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user, language=language[:16])
    except IntegrityError:
        raise Conflict(gettext("Your export is being prepared: you will get an email when it is ready."),
                       code="export_running") from None
    from . import tasks

    export_id = export.id
    unavailable.after_commit(lambda: tasks.build_export.delay(export_id, site), what="queueing a data export")
    return export


def export_token(export: DataExport) -> str:
    """The signed part of an export's download link. It names the export and when the link stops
    working, so the same link is shown on the page and in the email, and changing either part
    breaks the signature."""
    return signing.Signer(salt=_LINK_SALT).sign_object(
        {"e": export.id, "k": export.key.hex, "x": int(export.expires_at.timestamp())})


def export_from_link(token: str, *, user) -> DataExport:
    """The ready export a signed link names, for its owner only, while the link lasts. A tampered,
    foreign or expired link gets a clear refusal, and nothing is read."""
    try:
        data = signing.Signer(salt=_LINK_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        data = None
    if not isinstance(data, dict):
        raise NotFound(gettext("This download link is not valid."), code="export_link_invalid")
    export = DataExport.objects.filter(pk=data.get("e"), user_id=user.pk, state=DataExport.State.READY).first()
    if export is None or export.key.hex != data.get("k") or export.expires_at is None:
        raise NotFound(gettext("This download link is not valid."), code="export_link_invalid")
    expires = min(int(export.expires_at.timestamp()), int(data.get("x", 0)))
    if expires <= timezone.now().timestamp() or not export.file:
        raise NotFound(gettext("This download link has expired: ask for a new export."),
                       code="export_link_expired")
    return export


def purge_expired_exports(*, now=None) -> int:
    """The beat job: exports whose link expired lose their file (the row stays, for the daily limit
    and the page's history)."""
    now = now or timezone.now()
    count = 0
    for export in DataExport.objects.filter(expires_at__lte=now).exclude(file=""):
        name = export.file.name
        DataExport.objects.filter(pk=export.pk).update(file="")
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete %s", name)
        count += 1
    return count
