from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("<id:attachment_id>/thumbnail.webp", views.attachment_thumbnail, name="attachment_thumbnail"),
    path("<id:attachment_id>/<str:filename>", views.attachment_file, name="attachment_file"),
]
