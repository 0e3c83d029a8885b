from django import forms
from django.utils.translation import gettext_lazy as _


class SignUpForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=64, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)
    password2 = forms.CharField(label=_("Password (again)"), widget=forms.PasswordInput, max_length=128)

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
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
