from django.urls import path

from . import views

app_name = "dms"
urlpatterns = [
    path("channels/@me", views.home, name="home"),
    path("channels/@me/open", views.open_dm, name="open"),
    path("channels/@me/group", views.create_group, name="create_group"),
    path("channels/@me/blocks/<id:user_id>/delete", views.unblock, name="unblock"),
    path("channels/@me/<id:channel_id>", views.channel, name="channel"),
    path("channels/@me/<id:channel_id>/block", views.block, name="block"),
    path("channels/@me/<id:channel_id>/group", views.group_action, name="group_action"),
]
