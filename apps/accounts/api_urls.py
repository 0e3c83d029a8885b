from django.urls import path

from . import api

urlpatterns = [
    path("auth/token", api.TokenView.as_view()),
    path("users/@me", api.MeView.as_view()),
    path("users/@me/tokens", api.ApiTokenListView.as_view()),
    path("users/@me/tokens/<id:token_id>", api.ApiTokenView.as_view()),
    path("users/@me/blocks", api.BlockListView.as_view()),
    path("users/@me/blocks/<id:user_id>", api.BlockView.as_view()),
]
