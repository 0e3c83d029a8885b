"""Forms of the guild's moderation settings page; what they accept is checked again by the services."""
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AutomodRule


def _words(value: str) -> list[str]:
    return [w.strip() for w in (value or "").replace("\n", ",").split(",") if w.strip()]


class ThresholdsForm(forms.Form):
    review_at = forms.FloatField(label=_("Queue for review from score"), min_value=0, max_value=1)
    hide_at = forms.FloatField(label=_("Also hide from score"), min_value=0, max_value=1)


class AutomodRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=AutomodRule.Kind.choices)
    action = forms.ChoiceField(label=_("Action"), choices=AutomodRule.Action.choices)
    reason = forms.CharField(label=_("Reason shown to the member"), max_length=255, required=False)
    keywords = forms.CharField(label=_("Keywords (comma-separated)"), required=False)
    patterns = forms.CharField(label=_("Patterns (one regular expression a line)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))
    limit = forms.IntegerField(label=_("Limit (mentions per message, or messages per window)"), required=False,
                               min_value=1)
    duplicate_limit = forms.IntegerField(label=_("Identical messages per window"), required=False, min_value=1)
    window_seconds = forms.IntegerField(label=_("Window (seconds)"), required=False, min_value=1)
    allowed_domains = forms.CharField(label=_("Allowed domains (comma-separated)"), required=False)
    min_account_age_minutes = forms.IntegerField(label=_("Minimum account age (minutes)"), required=False,
                                                 min_value=1)
    min_member_age_minutes = forms.IntegerField(label=_("Minimum membership age (minutes)"), required=False,
                                                min_value=1)
    timeout_seconds = forms.IntegerField(label=_("Also time the author out (seconds)"), required=False, min_value=1)
    alert_channel_id = forms.TypedChoiceField(label=_("Also alert this channel"), required=False, coerce=int,
                                              empty_value=None)
    exempt_role_ids = forms.TypedMultipleChoiceField(label=_("Exempt roles"), required=False, coerce=int)
    exempt_channel_ids = forms.TypedMultipleChoiceField(label=_("Exempt channels"), required=False, coerce=int)

    def __init__(self, *args, roles=(), channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        text = [(c.id, f"#{c.name}") for c in channels if c.type == "text"]
        self.fields["alert_channel_id"].choices = [("", "—"), *text]
        self.fields["exempt_role_ids"].choices = [(r.id, r.name) for r in roles]
        self.fields["exempt_channel_ids"].choices = [(c.id, f"#{c.name}") for c in channels]

    def service_kwargs(self) -> dict:
        d = dict(self.cleaned_data)
        d["keywords"], d["allowed_domains"] = _words(d["keywords"]), _words(d["allowed_domains"])
        d["patterns"] = [p.strip() for p in (d["patterns"] or "").splitlines() if p.strip()]
        d["timeout_seconds"] = d["timeout_seconds"] or 0
        return d
