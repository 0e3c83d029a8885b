from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel
from .permissions import CHANNEL_OVERWRITABLE, Permission


class GuildForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, min_length=2)
    description = forms.CharField(label=_("Description"), max_length=1000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    discoverable = forms.BooleanField(label=_("List this guild on Explore"), required=False)


class GuildSettingsForm(GuildForm):
    icon = forms.FileField(label=_("Icon"), required=False)
    mfa_required = forms.BooleanField(
        label=_("Moderators need two-factor authentication"), required=False,
        help_text=_("Kicking, banning, timing out, deleting others' messages and managing roles "
                    "and channels then need an authenticator app. Only the owner, with two-factor "
                    "authentication on, can change this."))


class ChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    type = forms.ChoiceField(label=_("Type"), choices=Channel.GUILD_TYPE_CHOICES)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    topic = forms.CharField(label=_("Topic"), max_length=1024, required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("(none)"))] + [(c.id, c.name) for c in categories]


class ChannelEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    topic = forms.CharField(label=_("Topic"), max_length=1024, required=False)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    slowmode_seconds = forms.IntegerField(label=_("Slow mode (seconds)"), min_value=0, max_value=21600)
    nsfw = forms.BooleanField(label=_("Age-restricted"), required=False)
    user_limit = forms.IntegerField(label=_("User limit (voice, 0 = none)"), min_value=0, max_value=99)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("(none)"))] + [(c.id, c.name) for c in categories]


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Category name"), max_length=100)


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    color = forms.CharField(label=_("Colour"), max_length=7, required=False,
                            widget=forms.TextInput(attrs={"type": "color"}))
    hoist = forms.BooleanField(label=_("Show members separately"), required=False)
    mentionable = forms.BooleanField(label=_("Anyone can @mention this role"), required=False)
    permissions = forms.MultipleChoiceField(label=_("Permissions"), required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            choices=[(p.name, p.name.replace("_", " ").title()) for p in Permission])


class OverwriteForm(forms.Form):
    """One select per overwritable permission: inherit, allow or deny."""

    target = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for p in Permission:
            if p & CHANNEL_OVERWRITABLE:
                self.fields[p.name] = forms.ChoiceField(
                    label=p.name.replace("_", " ").title(), required=False,
                    choices=[("", "/"), ("allow", _("Allow")), ("deny", _("Deny"))])

    def bits(self) -> tuple[int, int]:
        allow = deny = 0
        for p in Permission:
            choice = self.cleaned_data.get(p.name)
            if choice == "allow":
                allow |= p
            elif choice == "deny":
                deny |= p
        return allow, deny


class InviteForm(forms.Form):
    max_age_seconds = forms.TypedChoiceField(
        label=_("Expire after"), coerce=int,
        choices=[(1800, _("30 minutes")), (3600, _("1 hour")), (86400, _("1 day")), (604800, _("7 days")),
                 (0, _("Never"))], initial=86400)
    max_uses = forms.TypedChoiceField(label=_("Max uses"), coerce=int,
                                      choices=[(0, _("No limit")), (1, "1"), (5, "5"), (10, "10"), (100, "100")])


class BanForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=512, required=False)
    delete_message_days = forms.IntegerField(label=_("Delete messages of the last N days"), min_value=0,
                                             max_value=7, initial=0)
