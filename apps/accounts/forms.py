from django import forms
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


class SignUpForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=64, required=False)
    email = forms.EmailField(label=_("Email"), max_length=254,
                             help_text=_("We send a link to confirm it; it lets you reset your password."))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)
    password2 = forms.CharField(label=_("Password (again)"), widget=forms.PasswordInput, max_length=128)

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username or email"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)


class TokenForm(forms.Form):
    token = forms.CharField(label=_("Code"), max_length=32,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput, max_length=128)
    new_password = forms.CharField(label=_("New password"), widget=forms.PasswordInput, max_length=128)


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=64, required=False)
    bio = forms.CharField(label=_("Bio"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    avatar = forms.FileField(label=_("Avatar"), required=False)


class EmailChangeForm(forms.Form):
    email = forms.CharField(label=_("New email address"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput, max_length=128)


class PasswordResetRequestForm(forms.Form):
    email = forms.CharField(label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class ApiTokenForm(forms.Form):
    EXPIRY_CHOICES = [(7, _("7 days")), (30, _("30 days")), (90, _("90 days")), (365, _("1 year"))]

    name = forms.CharField(label=_("Name"), max_length=64)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), widget=forms.CheckboxSelectMultiple, initial=["read"],
        choices=[("read", _("read: GET requests")), ("write", _("write: every other request")),
                 ("gateway", _("gateway: the WebSocket gateway"))])
    expires_in_days = forms.TypedChoiceField(label=_("Expires after"), choices=EXPIRY_CHOICES, coerce=int,
                                             initial=30)


class AdminOTPLoginForm(OTPAdminAuthenticationForm):
    """The admin's login in one step: password and a code, no device to choose. The code is
    checked against the user's one authenticator app (a recovery code against their recovery
    codes). django-otp's own form wants a device picked first and offers a challenge button that
    means nothing for TOTP."""

    otp_device = None
    otp_challenge = None
    otp_error_messages = {**OTPAdminAuthenticationForm.otp_error_messages,
                          "device_required": _("This account has no authenticator: set one up first.")}
    otp_token = forms.CharField(label=_("Code from your authenticator"), required=False, max_length=32,
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))

    def _chosen_device(self, user):
        token = (self.cleaned_data.get("otp_token") or "").strip()
        model = StaticDevice if "-" in token else TOTPDevice
        devices = list(model.objects.filter(user=user, confirmed=True)[:2])
        return devices[0] if len(devices) == 1 else None

    def _update_form(self, user):
        pass  # no device list to fill
