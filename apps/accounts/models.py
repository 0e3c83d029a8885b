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
    # A bot account (apps.bots): it signs in with its application's token only, never a password,
    # and shows a BOT tag wherever its name does.
    is_bot = models.BooleanField(_("bot"), default=False, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("username"), name="user_username_ci_unique")]

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
