"""Every action a service writes to the audit log is one of AuditLogEntry.Action, with a French
label: the admin's filter and the log read it by name, in the reader's language."""
from __future__ import annotations

import ast
from pathlib import Path

from django.utils import translation

from apps.guilds.models import AuditLogEntry
from apps.moderation.models import Flag

APPS = Path(__file__).resolve().parents[2] / "apps"
# The writers and where their action argument is: record_audit(guild, actor, action, ...) and the
# apps' own helpers around it.
WRITERS = {"record_audit": 2, "_audit": 1, "_audit_message": 1}


def _strings(node) -> set[str]:
    """The string literals of an expression ("a" if x else "b"), not the pieces of an f-string."""
    if isinstance(node, ast.JoinedStr):
        return set()
    if isinstance(node, ast.Constant):
        return {node.value} if isinstance(node.value, str) else set()
    return set().union(*(_strings(child) for child in ast.iter_child_nodes(node)))


def written_actions() -> set[str]:
    found = set()
    for path in APPS.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                position = WRITERS.get(name)
                if position is not None and len(node.args) > position:
                    found |= _strings(node.args[position])
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_AUDITED" for t in node.targets):
                found |= {v.value for v in node.value.values}  # rtc's voice actions by flag
    # moderation's decisions: f"{flag.kind}_approve" and f"{flag.kind}_remove"
    return found | {f"{kind}_{verb}" for kind in Flag.Kind.values for verb in ("approve", "remove")}


def test_every_written_action_is_a_choice():
    written = written_actions()
    assert {"member_ban", "message_delete", "voice_move", "track_comment_delete", "thread_delete"} <= written
    assert written - set(AuditLogEntry.Action.values) == set()


def test_every_action_has_a_french_label():
    english = dict(AuditLogEntry.Action.choices)
    with translation.override("fr"):
        french = {value: str(label) for value, label in AuditLogEntry.Action.choices}
    untranslated = [value for value in english if french[value] == str(english[value])]
    assert untranslated == []
    assert french["message_delete"] == "Message supprimé par un modérateur"
