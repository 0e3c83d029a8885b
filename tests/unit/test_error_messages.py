"""Every domain error a member can meet speaks their language: its message is a gettext call,
never an English literal (the French catalogue then holds it, locale/fr)."""
from __future__ import annotations

import ast
from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "apps"
ERRORS = {"DomainError", "ValidationFailed", "NotAuthenticated", "Forbidden", "MissingPermission", "NotFound",
          "Conflict", "RateLimited", "PayloadTooLarge", "InviteUnusable", "ValidationError"}


def _name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Attribute):
        # ValidationFailed.field(name, message): the message is the second argument.
        if f.attr == "field" and isinstance(f.value, ast.Name) and f.value.id == "ValidationFailed":
            return "field"
        return f.attr
    return getattr(f, "id", None)


def untranslated(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name == "field":
            messages = node.args[1:2]
        elif name in ERRORS:
            messages = node.args[:1]
        else:
            continue
        for arg in messages:
            if isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                                                  and " " in arg.value):
                found.append((node.lineno, ast.unparse(arg)))
    return found


def test_the_check_sees_a_literal_and_an_f_string():
    source = ('raise NotFound("Unknown thing.")\n'
              'raise ValidationFailed.field("name", f"At most {n} characters.")\n'
              'raise NotFound(gettext("Unknown thing."))\n'
              'raise MissingPermission("MANAGE_ROLES")\n')  # a permission's name, not a sentence
    assert [line for line, _ in untranslated(source)] == [1, 2]


def test_every_domain_error_message_is_translated():
    found = [f"{path.relative_to(APPS.parent)}:{line}: {text}"
             for path in sorted(APPS.rglob("*.py")) if "migrations" not in path.parts
             for line, text in untranslated(path.read_text())]
    assert not found, "untranslated error messages:\n" + "\n".join(found)
