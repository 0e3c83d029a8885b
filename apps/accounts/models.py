import uuid
from pathlib import PurePosixPath

from django.contrib.auth.models import AbstractUser
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def avatar_path(user, filename: str) -> str:
    """A new name for every upload: S3 overwrites an object of the same name, and the old avatar's
    files are deleted once the new one is saved."""
    ext = PurePosixPath(filename).suffix.lower()[:8]
    return f"avatars/{user.pk or 'new'}/{uuid.uuid4().hex}{ext}"


class User(AbstractUser):
    """A SmaRTC account. Usernames are unique without regard to case."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to=avatar_path, blank=True)
    # Size (px, as a string) → storage name of a square WebP thumbnail of `avatar`, made by the media
    # queue after an upload; empty until then.
    avatar_thumbs = models.JSONField(default=dict, blank=True, editable=False)
    bio = models.TextField(_("bio"), max_length=1000, blank=True)
    # `email` is verified once its owner opened the signed link sent to it; only a verified address
    # signs in or receives a password reset. A new address waits in `pending_email` until its link
    # is opened, and the current one stays in use meanwhile.
    email_verified = models.BooleanField(_("email verified"), default=False)
    pending_email = models.EmailField(_("pending email"), blank=True)
    # A bot account (apps.bots): it signs in with its application's token only, never a password,
    # and shows a BOT tag wherever its name does.
    is_bot = models.BooleanField(_("bot"), default=False, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            # Two accounts may type the same address, but only one may prove it is theirs.
            models.UniqueConstraint(Lower("email"), condition=Q(email_verified=True),
                                    name="user_verified_email_ci_unique"),
        ]

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username

    def avatar_url(self, size: int = 96) -> str | None:
        """The smallest avatar thumbnail of at least `size` px; the original until thumbnails exist."""
        if not self.avatar:
            return None
        fitting = sorted(int(s) for s in self.avatar_thumbs if int(s) >= size)
        if fitting:
            return default_storage.url(self.avatar_thumbs[str(fitting[0])])
        return self.avatar.url

    def __str__(self) -> str:
        return self.username


class Block(models.Model):
    """`blocker` blocked `blocked`: no 1:1 DM between them, and no group DM with both."""

    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="block_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class UserSession(models.Model):
    """A signed-in browser: one row per Django session of a user, shown on the sessions page and
    ended from there. Kept up to date by apps.accounts.middleware (at most once a minute)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="browser_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} from {self.ip}"


class ApiToken(models.Model):
    """A named API token: only a hash of its secret is kept; the secret is shown once."""

    class Scope(models.TextChoices):
        READ = "read", _("read")
        WRITE = "write", _("write")
        GATEWAY = "gateway", _("gateway")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=64)
    # The secret's first characters, to tell tokens apart on the list.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Handed out by POST /api/auth/token for a username and password (not made on the tokens page).
    from_login = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
