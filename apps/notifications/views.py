"""The activity page: the bell's list in full, with its settings. (The service worker, which
loads the Web Push handlers, is apps/pwa's.)"""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from . import activity, payloads
from .models import ActivityKind


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def activity_page(request):
    """Everything the bell shows, and which kinds of activity the member hears of (a POST of the form)."""
    saved = False
    if request.method == "POST":
        activity.update_settings(user=request.user, **{k: k in request.POST for k in ActivityKind.values})
        saved = True
    found = activity.recent(request.user, limit=100)
    activity.mark_read(user=request.user)
    row = activity.settings_for(request.user)
    return render(request, "notifications/activity.html", {
        "items": [payloads.activity(a) for a in found], "saved": saved,
        "kinds": [(value, label, getattr(row, value)) for value, label in ActivityKind.choices]})
