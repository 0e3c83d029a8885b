from rest_framework import serializers

from apps.core.fields import IdField, StrictCharField

from . import events
from .models import AutomodRule, Report


class AutomodRuleIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    kind = serializers.ChoiceField(choices=AutomodRule.Kind.choices, required=False, default="keyword")
    action = serializers.ChoiceField(choices=AutomodRule.Action.choices)
    reason = StrictCharField(max_length=255, required=False, default="", allow_blank=True)
    limit = serializers.IntegerField(required=False, allow_null=True, default=None,
                                     help_text="mention_spam: most mentions; rate: most messages per window.")
    duplicate_limit = serializers.IntegerField(required=False, allow_null=True, default=None,
                                               help_text="rate: most identical messages per window.")
    window_seconds = serializers.IntegerField(required=False, allow_null=True, default=None)
    allowed_domains = serializers.ListField(child=StrictCharField(max_length=255), required=False,
                                            default=list, help_text="links, invites: hosts let through.")
    min_account_age_minutes = serializers.IntegerField(required=False, allow_null=True, default=None)
    min_member_age_minutes = serializers.IntegerField(required=False, allow_null=True, default=None)
    timeout_seconds = serializers.IntegerField(required=False, default=0,
                                               help_text="block: also time the author out (MODERATE_MEMBERS).")
    alert_channel_id = IdField(required=False, allow_null=True, default=None,
                                                help_text="block: also post an alert in this text channel.")
    keywords = serializers.ListField(child=StrictCharField(max_length=60), required=False, default=list)
    patterns = serializers.ListField(child=StrictCharField(max_length=200), required=False, default=list,
                                     help_text="Regular expressions; unsafe ones (nested quantifiers...) are refused.")
    exempt_role_ids = serializers.ListField(child=IdField(), required=False, default=list)
    exempt_channel_ids = serializers.ListField(child=IdField(), required=False, default=list)


class AutomodRuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()
    kind = StrictCharField()
    action = StrictCharField()
    reason = StrictCharField()
    keywords = serializers.ListField(child=StrictCharField())
    patterns = serializers.ListField(child=StrictCharField())
    limit = serializers.IntegerField(allow_null=True)
    duplicate_limit = serializers.IntegerField(allow_null=True)
    window_seconds = serializers.IntegerField(allow_null=True)
    allowed_domains = serializers.ListField(child=StrictCharField())
    min_account_age_minutes = serializers.IntegerField(allow_null=True)
    min_member_age_minutes = serializers.IntegerField(allow_null=True)
    timeout_seconds = serializers.IntegerField()
    alert_channel_id = serializers.IntegerField(allow_null=True)
    exempt_role_ids = serializers.SerializerMethodField()
    exempt_channel_ids = serializers.SerializerMethodField()
    enabled = serializers.BooleanField()

    def get_exempt_role_ids(self, rule) -> list[int]:
        return [r.id for r in rule.exempt_roles.all()]

    def get_exempt_channel_ids(self, rule) -> list[int]:
        return [c.id for c in rule.exempt_channels.all()]


class ThresholdsIn(serializers.Serializer):
    review_at = serializers.FloatField(min_value=0, max_value=1)
    hide_at = serializers.FloatField(min_value=0, max_value=1)
    channel_id = IdField(required=False, allow_null=True, default=None,
                                          help_text="Set one channel's override instead of the guild's thresholds.")


class ThresholdsOut(serializers.Serializer):
    review_at = serializers.FloatField()
    hide_at = serializers.FloatField()
    channel_id = serializers.IntegerField(allow_null=True)


class WarningIn(serializers.Serializer):
    reason = StrictCharField(max_length=512)


class WarningOut(serializers.Serializer):
    id = serializers.IntegerField()
    guild_id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    reason = StrictCharField()
    created_at = serializers.DateTimeField()


class ReportOut(serializers.Serializer):
    """Documentation of the report shape (built by payloads.report_payload)."""

    id = serializers.IntegerField()
    guild_id = serializers.IntegerField()
    type = StrictCharField()
    reason = StrictCharField()
    details = StrictCharField()
    state = serializers.ChoiceField(choices=Report.State.choices)
    outcome = StrictCharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


# --- events: what each moderation event's `d` is (built by payloads.py; see EVENT_SHAPES) --------

class MemberWarningEventOut(serializers.Serializer):
    """MEMBER_WARNING, to the warned member's connections."""

    id = serializers.IntegerField()
    guild_id = serializers.IntegerField()
    guild_name = StrictCharField()
    reason = StrictCharField()
    created_at = serializers.DateTimeField()


class WarningAckEventOut(serializers.Serializer):
    """MEMBER_WARNING_ACK: the member read the warning; their other tabs drop its notice."""

    id = serializers.IntegerField()
    guild_id = serializers.IntegerField()


# The gateway events of moderation, each with the serializer that documents its `d` (in /api/schema/
# under x-gateway-events; tests/integration/test_payloads.py checks real events against them).
EVENT_SHAPES = {
    events.MEMBER_WARNING: MemberWarningEventOut,
    events.MEMBER_WARNING_ACK: WarningAckEventOut,
    events.REPORT_UPDATE: ReportOut,
}
