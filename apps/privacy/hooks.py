"""Signing in during the grace period cancels an account's deletion. Django's own login signal is
the one place every sign-in (password, then the second factor) passes, so accounts needs no code
of ours: the receiver calls the service and tells the member."""
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext


def _cancel_deletion(sender, request, user, **kwargs):
    from . import services

    if services.cancel_deletion(user) is not None and request is not None:
        messages.info(request, gettext("Welcome back: your account will not be deleted."))


def connect() -> None:
    user_logged_in.connect(_cancel_deletion, dispatch_uid="privacy.cancel_deletion")
