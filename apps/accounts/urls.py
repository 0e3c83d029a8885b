from django.urls import path

from . import security_views as security
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
    path("email", security.email_settings, name="email"),
    path("email/verify/<str:token>", security.email_verify, name="email_verify"),
    path("password/reset", security.password_reset, name="password_reset"),
    path("password/reset/sent", security.password_reset_sent, name="password_reset_sent"),
    path("reset/<uidb64>/<token>/", security.PasswordResetConfirm.as_view(), name="password_reset_confirm"),
    path("reset/done", security.password_reset_done, name="password_reset_done"),
    path("sessions", security.sessions, name="sessions"),
    path("sessions/<id:session_id>/end", security.session_end, name="session_end"),
    path("sessions/end-others", security.sessions_end_others, name="sessions_end_others"),
    path("tokens", security.tokens, name="tokens"),
    path("tokens/<id:token_id>/revoke", security.token_revoke, name="token_revoke"),
]
