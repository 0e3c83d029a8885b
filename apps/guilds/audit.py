"""The audit log as a person reads it on the settings page: each entry's target by name ("alice",
"#general", "Moderators role") and its changes as labelled values with names, not ids or Python
reprs. The entries themselves keep the raw data (the API and the CSV/JSON export show that).
Everything an entry names is looked up in a few queries per page, whatever its length."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from apps.core.errors import shown_time

from . import selectors
from .models import AuditLogEntry, Category, Channel, Guild, Invite, Member, Role
from .permissions import Permission


@dataclass
class AuditRow:
    entry: AuditLogEntry
    target: str
    changes: list[tuple[str, str]] = field(default_factory=list)


# Targets recorded by apps above this one, named by one of their fields (looked up by name, not imported).
_NAMED_ELSEWHERE = {"track": ("tracks", "Track", "title"), "automodrule": ("moderation", "AutomodRule", "name"),
                    "webhook": ("chat", "Webhook", "name")}
_TARGET_KINDS = {kind: pgettext_lazy("audit log target", label) for kind, label in (
    ("member", "Member"), ("ban", "Ban"), ("channel", "Channel"), ("role", "Role"), ("category", "Category"),
    ("guild", "Guild"), ("invite", "Invite"), ("message", "Message"), ("track", "Track"),
    ("trackcomment", "Track comment"), ("report", "Report"), ("automodrule", "Automod rule"), ("flag", "Flag"),
    ("webhook", "Webhook"),
)}
_USER_KEYS = {"user_id": gettext_lazy("Member"), "author_id": gettext_lazy("Author"),
              "owner_id": gettext_lazy("New owner")}
_NUMBERED_KEYS = {"warning_id": gettext_lazy("Warning"), "flag_id": gettext_lazy("Flag")}
_PERMISSION_KEYS = {"permissions": gettext_lazy("Permissions"), "allow": gettext_lazy("Allowed"),
                    "deny": gettext_lazy("Denied")}
_LABELS = {
    "name": gettext_lazy("Name"), "type": gettext_lazy("Type"), "topic": gettext_lazy("Topic"),
    "nsfw": gettext_lazy("Age-restricted"), "slowmode_seconds": gettext_lazy("Slow mode (seconds)"),
    "user_limit": gettext_lazy("User limit"), "category": gettext_lazy("Category"),
    "description": gettext_lazy("Description"), "discoverable": gettext_lazy("Discoverable"),
    "mfa_required": gettext_lazy("Moderators need two-factor authentication"),
    "icon": gettext_lazy("Icon"), "code": gettext_lazy("Code"), "invite": gettext_lazy("Invite"),
    "color": gettext_lazy("Colour"), "hoist": gettext_lazy("Shown apart"), "mentionable": gettext_lazy("Mentionable"),
    "role_id": gettext_lazy("Role"), "until": gettext_lazy("Until"), "order": gettext_lazy("Order"),
    "target_id": gettext_lazy("For"), "delete_message_days": gettext_lazy("Days of messages deleted"),
    "deleted_messages": gettext_lazy("Messages deleted"), "score": gettext_lazy("Score"),
    "scorer": gettext_lazy("Scorer"), "review_at": gettext_lazy("Review at"), "hide_at": gettext_lazy("Hide at"),
    "sanction": gettext_lazy("Sanction"), "kind": gettext_lazy("Kind"), "target": gettext_lazy("Reported"),
    "action": gettext_lazy("Action"), "timeout_seconds": gettext_lazy("Timeout (seconds)"),
    "alert_channel_id": gettext_lazy("Alert channel"), "track_id": gettext_lazy("Track"),
}


# Who or what an entry is about reads first (PostgreSQL keeps a JSON object's keys in its own order).
_FIRST = ("user_id", "author_id", "owner_id", "target_id", "role_id", "warning_id", "flag_id", "name", "allow", "deny")


class _Names:
    """Every user, role, channel and category a page of entries names, fetched once."""

    def __init__(self, guild: Guild, entries: list[AuditLogEntry], viewer: Member | None):
        self.guild = guild
        # A channel the viewer cannot see is not named (a reorder lists every channel, say).
        self.hidden = selectors.hidden_channel_ids(viewer) if viewer is not None else set()
        wanted: dict[str, set[int]] = defaultdict(set)
        for e in entries:
            _collect(e, wanted)
        member_users = dict(Member.objects.filter(pk__in=wanted["member"]).values_list("pk", "user_id"))
        self.member_user = member_users
        user_ids = wanted["user"] | set(member_users.values())
        self.users = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
        self.roles = {r.pk: r for r in Role.objects.filter(pk__in=wanted["role"])}
        self.channels = dict(Channel.objects.filter(pk__in=wanted["channel"]).values_list("pk", "name"))
        self.categories = dict(Category.objects.filter(pk__in=wanted["category"]).values_list("pk", "name"))
        self.invites = dict(Invite.objects.filter(pk__in=wanted["invite"]).values_list("pk", "code"))
        self.elsewhere = {}
        for kind, (app_label, model, name_field) in _NAMED_ELSEWHERE.items():
            if wanted[kind]:
                rows = apps.get_model(app_label, model).objects.filter(pk__in=wanted[kind])
                self.elsewhere[kind] = dict(rows.values_list("pk", name_field))

    def user(self, user_id) -> str:
        return self.users.get(user_id) or gettext("deleted user")

    def role(self, role_id) -> str | None:
        role = self.roles.get(role_id)
        if role is None:
            return None
        return "@everyone" if role.is_default else gettext("%(name)s role") % {"name": role.name}

    def channel(self, channel_id) -> str | None:
        if channel_id in self.hidden:
            return gettext("a channel you cannot see")
        name = self.channels.get(channel_id)
        return f"#{name}" if name is not None else None


def _ids(value) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _collect(e: AuditLogEntry, wanted: dict[str, set[int]]) -> None:
    changes = e.changes if isinstance(e.changes, dict) else {}
    if e.target_id is not None and e.target_type != "ban":  # a ban's member is in its changes (user_id)
        wanted[e.target_type].add(e.target_id)
    for key in _USER_KEYS:
        wanted["user"].update(_ids(changes.get(key)))
    wanted["role"].update(_ids(changes.get("role_id")))
    wanted["channel"].update(_ids(changes.get("alert_channel_id")))
    if e.action.startswith("channel_"):
        wanted["category"].update(_ids(changes.get("category")))
    order_kind = {"channel_reorder": "channel", "role_reorder": "role"}.get(e.action)
    if order_kind:
        wanted[order_kind].update(_ids(changes.get("order")))
    if e.action.startswith("overwrite_"):
        wanted["role" if changes.get("target_type") == "role" else "user"].update(_ids(changes.get("target_id")))
    wanted["track"].update(_ids(changes.get("track_id")))


def _target(e: AuditLogEntry, names: _Names) -> str:
    changes = e.changes if isinstance(e.changes, dict) else {}
    kind, pk = e.target_type, e.target_id
    if not kind:
        return ""
    if kind in ("member", "ban"):
        user_id = changes.get("user_id") or names.member_user.get(pk)
        if user_id:
            return names.user(user_id)
    found = None
    if kind == "channel":
        found = names.channel(pk)
    elif kind == "role":
        found = names.role(pk)
    elif kind == "category" and pk in names.categories:
        found = gettext("%(name)s category") % {"name": names.categories[pk]}
    elif kind == "guild" and pk == names.guild.pk:
        found = names.guild.name
    elif kind == "invite" and pk in names.invites:
        found = gettext("Invite %(code)s") % {"code": names.invites[pk]}
    elif kind in _NAMED_ELSEWHERE and pk in names.elsewhere.get(kind, {}):
        found = f"“{names.elsewhere[kind][pk]}”"
    if found:
        return found
    # Gone since (a deleted channel or role): the name it had, when the entry kept it.
    label = _TARGET_KINDS.get(kind, kind)
    if isinstance(changes.get("name"), str):
        return f"{label} “{changes['name']}”"
    return f"{label} #{pk}" if pk is not None else str(label)


def _permission_names(value) -> str:
    try:
        bits = int(value)
    except (TypeError, ValueError):
        return str(value)
    shown = [p.name for p in Permission if bits & p]
    return ", ".join(shown) if shown else gettext("none")


def _plain(value) -> str:
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _change(e: AuditLogEntry, key: str, value, names: _Names) -> tuple[str, str]:
    label = _USER_KEYS.get(key) or _NUMBERED_KEYS.get(key) or _PERMISSION_KEYS.get(key) or _LABELS.get(key)
    label = str(label) if label else key.replace("_", " ").capitalize()
    if key in _USER_KEYS and _ids(value):
        return label, names.user(value)
    if key in _NUMBERED_KEYS and _ids(value):
        return label, f"#{value}"
    if key in _PERMISSION_KEYS:
        return label, _permission_names(value)
    if key == "role_id" and _ids(value):
        return label, names.role(value) or f"#{value}"
    if key == "alert_channel_id" and _ids(value):
        return label, names.channel(value) or f"#{value}"
    if key == "category" and e.action.startswith("channel_"):
        return label, names.categories.get(value, "—") if value else "—"
    if key == "color" and _ids(value):
        return label, f"#{value:06x}" if value else "—"
    if key == "until" and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return label, format_html('<time datetime="{}" data-local-time>{}</time>', value, shown_time(moment))
    if key == "order" and isinstance(value, list):
        find = names.channel if e.action == "channel_reorder" else names.role
        return label, ", ".join(find(v) or f"#{v}" for v in value)
    if key == "target_id" and e.action.startswith("overwrite_"):
        role = e.changes.get("target_type") == "role"
        return label, (names.role(value) or f"#{value}") if role else names.user(value)
    if key == "track_id" and _ids(value):
        return label, names.elsewhere.get("track", {}).get(value, f"#{value}")
    return label, _plain(value)


def describe(guild: Guild, entries, *, viewer: Member | None = None) -> list[AuditRow]:
    """A page of a guild's audit log, ready to read by `viewer`."""
    entries = list(entries)
    names = _Names(guild, entries, viewer)
    rows = []
    for e in entries:
        changes = e.changes if isinstance(e.changes, dict) else {}
        keys = sorted((k for k in changes if k != "target_type" or not e.action.startswith("overwrite_")),
                      key=lambda k: (_FIRST.index(k) if k in _FIRST else len(_FIRST), k))
        shown = [_change(e, k, changes[k], names) for k in keys]
        rows.append(AuditRow(entry=e, target=_target(e, names), changes=shown))
    return rows
