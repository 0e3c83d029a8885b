from django.urls import path

from . import views

app_name = "bots"
urlpatterns = [
    path("developers/", views.developers, name="developers"),
    path("developers/<id:app_id>/token", views.reset_token, name="reset_token"),
    path("developers/<id:app_id>/intents", views.intents, name="intents"),
    path("oauth2/authorize", views.authorize, name="authorize"),
]
