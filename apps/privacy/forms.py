from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DeletionRequest


class DeletionForm(forms.Form):
    password = forms.CharField(label=_("Your password"), widget=forms.PasswordInput, max_length=128)
    otp = forms.CharField(label=_("Two-factor code"), max_length=32, required=False,
                          widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))
    messages = forms.ChoiceField(label=_("Your messages"), choices=DeletionRequest.Messages.choices,
                                 initial=DeletionRequest.Messages.ANONYMISE, widget=forms.RadioSelect)

    def __init__(self, *args, two_factor: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not two_factor:
            del self.fields["otp"]
