from django import forms
from django.utils.translation import gettext_lazy as _

from apps.guilds.permissions import Permission

# What the authorize page offers a bot, in Discord's order (the bits are Discord's).
BOT_PERMISSIONS = [
    (Permission.VIEW_CHANNEL, _("View channels")),
    (Permission.SEND_MESSAGES, _("Send messages")),
    (Permission.READ_MESSAGE_HISTORY, _("Read message history")),
    (Permission.ADD_REACTIONS, _("Add reactions")),
    (Permission.EMBED_LINKS, _("Embed links")),
    (Permission.ATTACH_FILES, _("Attach files")),
    (Permission.MENTION_EVERYONE, _("Mention @everyone and @here")),
    (Permission.SEND_MESSAGES_IN_THREADS, _("Send messages in threads")),
    (Permission.CREATE_THREADS, _("Create threads")),
    (Permission.MANAGE_MESSAGES, _("Manage messages")),
    (Permission.MANAGE_CHANNELS, _("Manage channels")),
    (Permission.KICK_MEMBERS, _("Kick members")),
    (Permission.BAN_MEMBERS, _("Ban members")),
    (Permission.MODERATE_MEMBERS, _("Time out members")),
]


class ApplicationForm(forms.Form):
    name = forms.CharField(label=_("Name"), min_length=2, max_length=32)
    description = forms.CharField(label=_("Description"), max_length=400, required=False)


class IntentsForm(forms.Form):
    members = forms.BooleanField(label=_("Server members intent"), required=False)
    presence = forms.BooleanField(label=_("Presence intent"), required=False)
    message_content = forms.BooleanField(label=_("Message content intent"), required=False)


class AuthorizeForm(forms.Form):
    guild = forms.TypedChoiceField(label=_("Add to guild"), coerce=int)
    permissions = forms.TypedMultipleChoiceField(label=_("Permissions"), coerce=int, required=False,
                                                 widget=forms.CheckboxSelectMultiple,
                                                 choices=[(int(bit), label) for bit, label in BOT_PERMISSIONS])

    def __init__(self, *args, guilds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guild"].choices = [(g.id, g.name) for g in guilds]

    def bits(self) -> int:
        out = 0
        for bit in self.cleaned_data["permissions"]:
            out |= bit
        return out


def initial_permissions(raw) -> list[int]:
    """The boxes ticked from the link's `permissions` bitfield (unknown bits are ignored)."""
    try:
        value = int(raw or 0)
    except ValueError:
        value = 0
    return [int(bit) for bit, _label in BOT_PERMISSIONS if value & bit]
