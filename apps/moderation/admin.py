"""The review queue (behind 2FA). Every action is a door onto a service: the service checks the
moderator's rights in the guild (the permission engine; superusers act everywhere), writes the
decision and its audit log entry, and tells the sockets. Nothing here writes a model."""
import csv

from django.contrib import admin, messages
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import each_action

from . import report_services, selectors, services
from .models import AutomodRule, Flag, Report, Thresholds, ToxicityModel, Warning


def _removal(sanction: str | None, description):
    return each_action(f"remove_{sanction}" if sanction else "remove", description=description,
                       related=("channel",), done=_("%(n)s message(s) removed."),
                       act=lambda user, flag: services.remove(actor=user, flag=flag, sanction=sanction))


approve = each_action("approve", description=_("Approve: not toxic, show the message again"),
                      related=("channel",), done=_("%(n)s message(s) approved."),
                      act=lambda user, flag: services.approve(actor=user, flag=flag))


@admin.action(description=_("Export the labelled decisions as CSV"), permissions=["view"])
def export_csv(modeladmin, request, queryset):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="moderation-labels.csv"'
    out = csv.writer(response)
    out.writerow(["id", "text", "score", "scorer", "label", "decided_at"])
    for flag in selectors.labelled(queryset):
        out.writerow([flag.id, flag.content, f"{flag.score:.4f}", flag.scorer, flag.label, flag.decided_at.isoformat()])
    return response


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("id", "score_shown", "top_category", "state", "kind", "auto_hidden", "author", "guild", "channel",
                    "excerpt", "created_at", "label")
    list_filter = ("state", "kind", "auto_hidden", "label", "created_at")
    search_fields = ("content", "author__username", "guild__name", "channel__name")
    list_select_related = ("author", "guild", "channel")
    ordering = ("-id",)
    date_hierarchy = "created_at"
    actions = [approve, _removal(None, _("Remove: toxic")), _removal("warn", _("Remove and warn the author")),
               _removal("timeout_1h", _("Remove and time the author out for 1 hour")),
               _removal("timeout_1d", _("Remove and time the author out for 1 day")),
               _removal("kick", _("Remove and kick the author")),
               _removal("ban", _("Remove and ban the author")), export_csv]
    fields = ("kind", "content", "score", "scorer", "categories", "state", "auto_hidden", "label", "author", "guild",
              "channel", "message", "track", "track_comment", "created_at", "scored_at", "decided_at", "decided_by")
    readonly_fields = fields
    change_form_template = "admin/moderation/flag/change_form.html"

    @admin.display(description=_("score"), ordering="score")
    def score_shown(self, obj):
        return f"{obj.score:.2f}"

    @admin.display(description=_("why"))
    def top_category(self, obj):
        # the model's leading category, so a moderator sees why it scored high ("threat 0.81")
        if not obj.categories:
            return "-"
        name, value = max(obj.categories.items(), key=lambda kv: kv[1])
        return f"{name} {value:.2f}"

    @admin.display(description=_("message"))
    def excerpt(self, obj):
        return obj.content[:120]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # The list opens on the queue (what waits for a decision); the filters reach the rest.
        if request.method == "GET" and not request.GET:
            return HttpResponseRedirect(f"{request.path}?state__exact={Flag.State.OPEN}")
        _say_if_fallback(self, request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        flag = self.get_object(request, object_id)
        # Every field is read-only: decisions are the buttons below, not a form to save.
        extra = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
                 "context_messages": selectors.context_around(flag) if flag else [], "flag": flag,
                 "decisions": [(name, action.short_description) for name, action in
                               ((a.__name__, a) for a in self.actions) if name != "export_csv"]}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})


@admin.register(Thresholds)
class ThresholdsAdmin(admin.ModelAdmin):
    list_display = ("guild", "channel", "review_at", "hide_at")
    list_select_related = ("guild", "channel")
    search_fields = ("guild__name", "channel__name")
    readonly_fields = ("guild", "channel", "review_at", "hide_at")

    def has_add_permission(self, request):
        return False  # guild managers set them through the service (MANAGE_GUILD)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Warning)
class WarningAdmin(admin.ModelAdmin):
    list_display = ("created_at", "guild", "user", "moderator", "reason")
    list_select_related = ("guild", "user", "moderator")
    search_fields = ("user__username", "guild__name", "reason")
    readonly_fields = ("guild", "user", "moderator", "reason", "flag", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AutomodRule)
class AutomodRuleAdmin(admin.ModelAdmin):
    """Read-only: guild managers write rules through the API, where patterns are checked for safety."""

    list_display = ("name", "guild", "action", "enabled", "created_at")
    list_filter = ("action", "enabled")
    search_fields = ("name", "guild__name", "reason")
    list_select_related = ("guild",)
    readonly_fields = ("guild", "name", "action", "reason", "keywords", "patterns", "exempt_roles",
                       "exempt_channels", "enabled", "created_by", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _report_action(sanction: str | None, description):
    return each_action(f"act_{sanction}" if sanction else "act_remove", description=description,
                       related=("message__channel",), done=_("%(n)s report(s) acted on."),
                       act=lambda user, report: report_services.act(actor=user, report=report, sanction=sanction))


dismiss_reports = each_action("dismiss_reports", description=_("Dismiss: no rule broken"),
                              related=("message__channel",), done=_("%(n)s report(s) dismissed."),
                              act=lambda user, report: report_services.dismiss(actor=user, report=report))


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Members' reports. Acting on one removes the item (a message through the toxicity queue's
    decision) and optionally sanctions its author; every decision goes through a service that checks
    the moderator's rights in the guild, writes the audit log and tells the reporter."""

    list_display = ("id", "state", "kind", "category", "guild", "reporter", "reported_user", "item", "created_at")
    list_filter = ("state", "kind", "category", "created_at")
    search_fields = ("content", "details", "reporter__username", "reported_user__username", "guild__name")
    list_select_related = ("guild", "reporter", "reported_user")
    ordering = ("-id",)
    date_hierarchy = "created_at"
    actions = [dismiss_reports, _report_action(None, _("Act: remove the item")),
               _report_action("warn", _("Act: remove and warn the author")),
               _report_action("timeout_1h", _("Act: remove and time the author out for 1 hour")),
               _report_action("timeout_1d", _("Act: remove and time the author out for 1 day")),
               _report_action("kick", _("Act: remove and kick the author")),
               _report_action("ban", _("Act: remove and ban the author"))]
    fields = ("state", "kind", "category", "details", "item", "content", "guild", "reporter", "reported_user",
              "message", "track", "comment", "outcome", "created_at", "decided_at", "decided_by")
    readonly_fields = fields

    @admin.display(description=_("reported item"))
    def item(self, obj):
        return f"{obj.get_kind_display()} {obj.target.rsplit(':', 1)[-1]}: {obj.content[:120]}"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # As the flag queue: the list opens on what waits for a decision.
        if request.method == "GET" and not request.GET:
            return HttpResponseRedirect(f"{request.path}?state__exact={Report.State.OPEN}")
        return super().changelist_view(request, extra_context)


def _say_if_fallback(modeladmin, request) -> None:
    """Moderators are told when scores come from the fallback scorer, not the toxicity model."""
    from django.conf import settings

    from .toxicity.scorer import fallback_reason, reported_fallback

    if settings.MODERATION_SCORER.endswith("toxicity.scorer.ToxicityScorer"):
        reason = fallback_reason() or reported_fallback()
        if reason:
            modeladmin.message_user(request, gettext("Scores come from alt-profanity-check, not the toxicity "
                                                     "model: %(reason)s.") % {"reason": reason}, messages.WARNING)


@admin.register(ToxicityModel)
class ToxicityModelAdmin(admin.ModelAdmin):
    """Read-only: versions are trained and promoted by manage.py train_toxicity and the beat job."""

    list_display = ("version", "promoted", "trained_at", "label_count", "auc_en", "auc_fr", "hard_fpr", "note")
    readonly_fields = ("version", "artifact", "promoted", "promoted_at", "trained_at", "label_count", "metrics", "note")

    @admin.display(description=_("AUC en"))
    def auc_en(self, obj):
        return obj.metrics.get("auc_en")

    @admin.display(description=_("AUC fr"))
    def auc_fr(self, obj):
        return obj.metrics.get("auc_fr")

    @admin.display(description=_("hard-negative FPR"))
    def hard_fpr(self, obj):
        return obj.metrics.get("hard_negative_fpr")

    def changelist_view(self, request, extra_context=None):
        _say_if_fallback(self, request)
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
