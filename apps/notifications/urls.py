from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("sw.js", views.service_worker, name="service_worker"),
    path("activity", views.activity_page, name="activity"),
]
