"""Account API: tokens for scripts and bots, and the signed-in user."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.clientaddr import client_address
from apps.core.fields import StrictCharField

from . import payloads, selectors, services, token_services
from .models import ApiToken


class TokenIn(serializers.Serializer):
    username = StrictCharField(max_length=254, help_text="Username, or the account's verified email address.")
    password = StrictCharField(max_length=128, style={"input_type": "password"})
    otp = StrictCharField(max_length=32, required=False, allow_blank=True, default="",
                          help_text="Authenticator or recovery code; required when 2FA is on.")


class TokenOut(serializers.Serializer):
    token = StrictCharField()


class MeOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = StrictCharField()
    display_name = StrictCharField()
    email = serializers.EmailField()
    bio = StrictCharField()
    two_factor = serializers.BooleanField()


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=TokenIn, responses={201: TokenOut}, summary="Exchange credentials for an API token",
                   description="A new token with every scope (read, write, gateway), valid API_TOKEN_LOGIN_DAYS "
                   "days (default 30). Named, scoped tokens: /api/users/@me/tokens.")
    def post(self, request):
        ser = TokenIn(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        user = services.authenticate(request, username=data["username"], password=data["password"], otp=data["otp"],
                                     client=services.LoginClient(ip=client_address(request)))
        return Response(payloads.token(services.issue_token(user)), status=status.HTTP_201_CREATED)


class MeView(APIView):
    @extend_schema(responses=MeOut, summary="The signed-in user")
    def get(self, request):
        u = request.user
        return Response(payloads.me(u, two_factor=services.has_two_factor(u)))


class BlockedUserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = StrictCharField()
    display_name = StrictCharField()


class BlockListView(APIView):
    @extend_schema(responses=BlockedUserOut(many=True), summary="The users you blocked")
    def get(self, request):
        return Response([payloads.blocked_user(u) for u in selectors.blocked_users(request.user)])


class BlockView(APIView):
    @extend_schema(request=None, responses={204: None},
                   summary="Block a user: no 1:1 DM with them, and they cannot join your group DMs")
    def post(self, request, user_id):
        services.block_user(user=request.user, target_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={204: None}, summary="Unblock a user")
    def delete(self, request, user_id):
        services.unblock_user(user=request.user, target_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- API tokens ---------------------------------------------------------------------------------

class ApiTokenIn(serializers.Serializer):
    name = StrictCharField(max_length=64)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiToken.Scope.choices), min_length=1,
                                   max_length=3)
    expires_in_days = serializers.IntegerField(min_value=1, help_text="1 to API_TOKEN_MAX_DAYS (default 365).")


class ApiTokenOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()
    prefix = StrictCharField(help_text="The secret's first characters, to tell tokens apart.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiToken.Scope.choices))
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expired = serializers.BooleanField()


class ApiTokenCreatedOut(ApiTokenOut):
    secret = StrictCharField(help_text="Shown in this answer only: only a hash of it is stored.")


class ApiTokenListView(APIView):
    pagination_class = None

    @extend_schema(responses=ApiTokenOut(many=True), summary="Your API tokens (revoked ones are gone)")
    def get(self, request):
        return Response([payloads.api_token(t) for t in selectors.api_tokens(request.user)])

    @extend_schema(request=ApiTokenIn, responses={201: ApiTokenCreatedOut},
                   summary="Create an API token; its secret is in this answer only",
                   description="A request made with a token may only create tokens with scopes it has itself "
                   "(403 `missing_scope`).")
    def post(self, request):
        ser = ApiTokenIn(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        if isinstance(request.auth, ApiToken):
            for scope in data["scopes"]:
                token_services.require_scope(request.auth, scope)
        token, secret = token_services.create_token(request.user, name=data["name"], scopes=data["scopes"],
                                                    expires_in_days=data["expires_in_days"])
        return Response(payloads.api_token(token, secret=secret), status=status.HTTP_201_CREATED)


class ApiTokenView(APIView):
    @extend_schema(responses={204: None}, summary="Revoke an API token: refused from now on, its sockets close")
    def delete(self, request, token_id):
        token_services.revoke_token(request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
