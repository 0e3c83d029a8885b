"""Moderation settings through the API (MANAGE_GUILD): toxicity thresholds, automod rules."""
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import NO_CONTENT, validated
from apps.core.errors import NotFound
from apps.guilds.models import Channel
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_guild, members_of

from . import selectors, services
from . import serializers as s


class AutomodRulesView(APIView):
    @extend_schema(responses=s.AutomodRuleOut(many=True), summary="The guild's automod rules (MANAGE_GUILD)")
    def get(self, request, guild_id):
        access = access_guild(request.user, guild_id)
        access.require(Permission.MANAGE_GUILD)
        return Response(s.AutomodRuleOut(selectors.automod_rules(guild_id), many=True).data)

    @extend_schema(request=s.AutomodRuleIn, responses={201: s.AutomodRuleOut},
                   summary="Add an automod rule: block or flag messages by keyword or pattern (MANAGE_GUILD)")
    def post(self, request, guild_id):
        access = access_guild(request.user, guild_id)
        rule = services.create_automod_rule(actor=request.user, guild=access.guild,
                                            **validated(s.AutomodRuleIn, request.data))
        return Response(s.AutomodRuleOut(rule).data, status=status.HTTP_201_CREATED)


class AutomodRuleDetailView(APIView):
    @extend_schema(responses=NO_CONTENT, summary="Delete an automod rule (MANAGE_GUILD)")
    def delete(self, request, guild_id, rule_id):
        access_guild(request.user, guild_id)
        rule = next((r for r in selectors.automod_rules(guild_id) if r.id == rule_id), None)
        if rule is None:
            raise NotFound(gettext("Unknown automod rule."), code="unknown_rule")
        services.delete_automod_rule(actor=request.user, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThresholdsView(APIView):
    @extend_schema(request=s.ThresholdsIn, responses=s.ThresholdsOut,
                   summary="Set the guild's toxicity thresholds, or one channel's override (MANAGE_GUILD)")
    def put(self, request, guild_id):
        access = access_guild(request.user, guild_id)
        d = validated(s.ThresholdsIn, request.data)
        channel = None
        if d["channel_id"] is not None:
            channel = Channel.objects.filter(pk=d["channel_id"], guild=access.guild).first()
            if channel is None:
                raise NotFound(gettext("Unknown channel."), code="unknown_channel")
        row = services.set_thresholds(actor=request.user, guild=access.guild, channel=channel,
                                      review_at=d["review_at"], hide_at=d["hide_at"])
        return Response(s.ThresholdsOut(row).data)


class MemberWarningsView(APIView):
    @extend_schema(request=s.WarningIn, responses={201: s.WarningOut},
                   summary="Warn a member: recorded, audited and told on their open sockets (MODERATE_MEMBERS)")
    def post(self, request, guild_id, user_id):
        access = access_guild(request.user, guild_id)
        member = members_of(access.guild).filter(user_id=user_id).first()
        if member is None:
            raise NotFound(gettext("Unknown member."), code="unknown_member")
        warning = services.warn_member(actor=request.user, member=member, **validated(s.WarningIn, request.data))
        return Response(s.WarningOut(warning).data, status=status.HTTP_201_CREATED)
