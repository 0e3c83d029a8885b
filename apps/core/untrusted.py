"""Checks every entry point (HTTP request line, API bodies, gateway frames) applies to client input
before a service sees it, so odd input gets a 400 or an error frame instead of a 500.

- Text the database cannot store: PostgreSQL refuses NUL in text, and a lone surrogate (which JSON's
  "\\ud800" escape can produce) has no UTF-8 encoding, so psycopg cannot send it. Refused anywhere,
  keys included, rather than field by field.
- JSON nested deeper than any request needs: the decoder recurses once per level, so a deep enough
  document raises RecursionError instead of a decoding error.
"""
from __future__ import annotations

import json
import re
from collections import deque

from django.utils.translation import gettext

from apps.core.errors import ValidationFailed

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A string (escapes skipped whole) or a bracket: what the nesting scan has to look at.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')

MAX_JSON_DEPTH = 32


class TooDeep(ValueError):
    pass


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def unstorable_text_message() -> str:
    return gettext("Text cannot contain NUL characters or unpaired surrogates.")


def unstorable_text(where: str) -> ValidationFailed:
    """The 400 for unstorable text at `where`: a field error like a serializer's, so its message is
    the generic one and the field carries the reason."""
    return ValidationFailed.in_fields({where: [unstorable_text_message()]})


def first_unstorable(value, root: str = "non_field_errors") -> str | None:
    """The path ("title", "entries.0.name") of the first string in a decoded JSON value that cannot
    be stored, or None. Keys are checked as well as values; `root` names the value itself."""
    queue = deque([("", value)])
    while queue:
        where, item = queue.popleft()
        if isinstance(item, str):
            if not is_storable(item):
                return where or root
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and not is_storable(key):
                    return where or root
                queue.append((name, child))
        elif isinstance(item, (list, tuple)):
            queue.extend((f"{where}.{i}" if where else str(i), child) for i, child in enumerate(item))
    return None


def first_unstorable_field(form) -> str | None:
    """The first field of a QueryDict (a query string, a form) whose name or values cannot be stored."""
    for name, values in form.lists():
        if not is_storable(name):
            return "non_field_errors"
        if not all(is_storable(v) for v in values):
            return name
    return None


def first_unstorable_file_name(files) -> str | None:
    """The first field of uploaded files (request.FILES) one of whose file names cannot be stored."""
    for name, uploads in files.lists():
        if not all(is_storable(f.name or "") for f in uploads):
            return name
    return None


def json_depth_exceeds(text: str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True if the JSON text nests arrays and objects deeper than `max_depth`. Cheap when it cannot:
    fewer brackets than the limit need no scan."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


def loads(text: str, *, max_depth: int = MAX_JSON_DEPTH, **kwargs):
    """json.loads that refuses (TooDeep, a ValueError) nesting deeper than `max_depth`."""
    if json_depth_exceeds(text, max_depth):
        raise TooDeep(gettext("JSON may nest at most %(depth)s levels.") % {"depth": max_depth})
    return json.loads(text, **kwargs)
