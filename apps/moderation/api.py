"""Automod rules through the API (MANAGE_GUILD): list, create, delete."""
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import NO_CONTENT, validated
from apps.core.errors import NotFound
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_guild

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
