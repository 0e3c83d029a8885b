"""Pages: the Developers page (applications, bot tokens, intents) and the authorize page that adds
a bot to a guild (/oauth2/authorize?client_id=…&scope=bot&permissions=…)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.core.errors import DomainError
from apps.core.forms import add_domain_error

from . import forms, selectors, services


def _developers(request, *, form=None, new_token=None, token_app=None, status=200):
    return render(request, "bots/developers.html", {
        "form": form or forms.ApplicationForm(), "applications": selectors.applications_of(request.user),
        "new_token": new_token, "token_app": token_app, "authorize_path": reverse("bots:authorize"),
    }, status=status)


@login_required
def developers(request):
    if request.method != "POST":
        return _developers(request)
    form = forms.ApplicationForm(request.POST)
    if not form.is_valid():
        return _developers(request, form=form, status=400)
    try:
        app, token = services.create_application(owner=request.user, name=form.cleaned_data["name"],
                                                 description=form.cleaned_data["description"])
    except DomainError as exc:
        add_domain_error(form, exc)
        return _developers(request, form=form, status=exc.status)
    return _developers(request, new_token=token, token_app=app)


def _own_application(request, app_id):
    app = selectors.application_by_id(app_id)
    return app if app is not None and app.owner_id == request.user.id else None


@login_required
def reset_token(request, app_id):
    app = _own_application(request, app_id)
    if app is None or request.method != "POST":
        return redirect("bots:developers")
    token = services.reset_token(actor=request.user, application=app)
    return _developers(request, new_token=token, token_app=app)


@login_required
def intents(request, app_id):
    app = _own_application(request, app_id)
    if app is not None and request.method == "POST":
        form = forms.IntentsForm(request.POST)
        if form.is_valid():
            services.set_intents(actor=request.user, application=app, members=form.cleaned_data["members"],
                                 presence=form.cleaned_data["presence"],
                                 message_content=form.cleaned_data["message_content"])
    return redirect("bots:developers")


@login_required
def authorize(request):
    params = request.POST if request.method == "POST" else request.GET
    app = selectors.application_by_id(params.get("client_id"))
    if app is None:
        return render(request, "bots/authorize.html", {"error": _("Unknown application.")}, status=404)
    if "bot" not in (params.get("scope") or "").split():
        return render(request, "bots/authorize.html", {"error": _("This link does not ask to add a bot (scope=bot)."),
                                                       "app": app}, status=400)
    guilds = selectors.manageable_guilds(request.user)
    if request.method != "POST":
        form = forms.AuthorizeForm(guilds=guilds, initial={"permissions": forms.initial_permissions(params.get(
            "permissions"))})
        return render(request, "bots/authorize.html", {"app": app, "form": form, "guilds": guilds})
    form = forms.AuthorizeForm(request.POST, guilds=guilds)
    if form.is_valid():
        try:
            install = services.authorize_bot(actor=request.user, application=app, guild_id=form.cleaned_data["guild"],
                                             permissions=form.bits())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return render(request, "bots/authorized.html", {"app": app, "guild": install.guild})
    return render(request, "bots/authorize.html", {"app": app, "form": form, "guilds": guilds}, status=400)
