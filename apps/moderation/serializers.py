from rest_framework import serializers

from .models import AutomodRule


class AutomodRuleIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    action = serializers.ChoiceField(choices=AutomodRule.Action.choices)
    reason = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    keywords = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list)
    patterns = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list,
                                     help_text="Regular expressions; unsafe ones (nested quantifiers...) are refused.")
    exempt_role_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    exempt_channel_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class AutomodRuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    action = serializers.CharField()
    reason = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    patterns = serializers.ListField(child=serializers.CharField())
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
    channel_id = serializers.IntegerField(required=False, allow_null=True, default=None,
                                          help_text="Set one channel's override instead of the guild's thresholds.")


class ThresholdsOut(serializers.Serializer):
    review_at = serializers.FloatField()
    hide_at = serializers.FloatField()
    channel_id = serializers.IntegerField(allow_null=True)
