"""`Authorization: Bot <token>` for the Discord-compatible API (apps.bots.discord)."""
from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import authentication, exceptions

from .selectors import bot_for_token


class BotAuthentication(authentication.BaseAuthentication):
    keyword = "Bot"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme != self.keyword or not token.strip():
            return None
        bot = bot_for_token(token.strip())
        if bot is None:
            raise exceptions.AuthenticationFailed(gettext("This bot token is not valid."))
        return bot, bot.bot_app

    def authenticate_header(self, request):
        return self.keyword
