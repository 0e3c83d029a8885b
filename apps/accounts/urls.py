from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("signup", views.signup, name="signup"),
    path("login", views.login_view, name="login"),
    path("login/verify", views.login_verify, name="login_verify"),
    path("logout", views.logout_view, name="logout"),
    path("password", views.password_change, name="password_change"),
    path("profile", views.profile, name="profile"),
    path("2fa", views.two_factor, name="two_factor"),
    path("2fa/enrol", views.two_factor_enrol, name="two_factor_enrol"),
    path("2fa/manage", views.two_factor_manage, name="two_factor_manage"),
]
