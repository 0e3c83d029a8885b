"""Applications and their bot users. A bot is a User (is_bot) that an application owns; its token
is stored only as a SHA-256 digest, so it is shown once and can only be replaced, never read back."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Application(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applications")
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=400, blank=True)
    bot = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bot_application")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_reset_at = models.DateTimeField(default=timezone.now, editable=False)
    # Discord's privileged intents: a bot asks for them at IDENTIFY only if its owner turned them on.
    members_intent = models.BooleanField(_("server members intent"), default=False)
    presence_intent = models.BooleanField(_("presence intent"), default=False)
    message_content_intent = models.BooleanField(_("message content intent"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class BotInstall(models.Model):
    """A bot added to a guild, with the role it keeps there (managed: the guild cannot give it to
    anyone else or delete it while the bot is in)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="installs")
    guild = models.ForeignKey("guilds.Guild", on_delete=models.CASCADE, related_name="bot_installs")
    role = models.OneToOneField("guilds.Role", on_delete=models.CASCADE, related_name="bot_install")
    installed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "guild"], name="bot_install_unique")]

    def __str__(self) -> str:
        return f"{self.application} in {self.guild}"
