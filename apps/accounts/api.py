"""Account API: tokens for scripts and bots, and the signed-in user."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.clientaddr import client_address
from apps.core.fields import StrictCharField

from . import payloads, selectors, services


class TokenIn(serializers.Serializer):
    username = StrictCharField(max_length=150)
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

    @extend_schema(request=TokenIn, responses={201: TokenOut}, summary="Exchange credentials for an API token")
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
