from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("accounts/data", views.data, name="data"),
    path("accounts/data/export", views.export_request, name="export_request"),
    path("accounts/data/exports/<str:token>", views.export_download, name="export_download"),
    path("accounts/data/delete", views.delete_account, name="delete_account"),
]
