"""Rich embeds: Discord's shape and limits, checked strictly and sanitised before a message keeps them.

A sender (the API, a webhook) gives up to 10 embeds:
    {title, description, url, color, timestamp, author{name, url, icon_url}, footer{text, icon_url},
     fields[{name, value, inline}], image{url}, thumbnail{url}}
Every text is measured against Discord's limits, every URL must be http(s) with a host, any other key
is refused: a 400 names the field (`embeds[0].fields[2].value`). What is kept is plain text plus the
markdown of the description and of field values rendered through markdown.render (escaped, nh3).
Images are never shown from the sender's URL: the unfurl task copies them (message.proxied)."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from django.utils.translation import gettext

from apps.core.errors import ValidationFailed

from . import markdown

MAX_EMBEDS = 10
MAX_TOTAL = 6000
MAX_FIELDS = 25
MAX_URL = 2048
TEXT_LIMITS = {"title": 256, "description": 4096, "author.name": 256, "footer.text": 2048,
               "field.name": 256, "field.value": 1024}
# `flags` is accepted and dropped: Discord's libraries (discord.py) send it with every embed.
_KEYS = {"type", "title", "description", "url", "color", "timestamp", "author", "footer", "fields", "image",
         "thumbnail", "flags"}
_PARTS = {"author": {"name", "url", "icon_url"}, "footer": {"text", "icon_url"}, "image": {"url"},
          "thumbnail": {"url"}}
# The image URLs an embed names, the ones the unfurl task copies.
IMAGE_PATHS = (("author", "icon_url"), ("footer", "icon_url"), ("image", "url"), ("thumbnail", "url"))


def _fail(where: str, message: str) -> ValidationFailed:
    return ValidationFailed.field(where, message)


def clean_url(value, where: str) -> str:
    """An absolute http(s) URL with a host, or a 400 naming `where`."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        raise _fail(where, gettext("A link is an http or https URL of at most %(n)s characters.") % {"n": MAX_URL})
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname \
            or any(c.isspace() or ord(c) < 32 for c in value):
        raise _fail(where, gettext("Only http and https links are allowed."))
    return value


def _text(value, where: str, limit: int, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _fail(where, gettext("This must be text."))
    value = value.strip()
    if required and not value:
        raise _fail(where, gettext("This cannot be empty."))
    if len(value) > limit:
        raise _fail(where, gettext("At most %(n)s characters.") % {"n": limit})
    return value


def _object(value, where: str, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise _fail(where, gettext("This must be an object."))
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _fail(f"{where}.{unknown[0]}", gettext("Unknown embed field."))
    return value


def _clean_one(raw, where: str) -> tuple[dict, int]:
    """One embed as it is kept, and how many characters of text it counts towards MAX_TOTAL."""
    raw = _object(raw, where, _KEYS)
    if raw.get("type", "rich") != "rich":
        raise _fail(f"{where}.type", gettext("Only rich embeds can be sent."))
    if raw.get("flags") is not None and not (isinstance(raw["flags"], int) and not isinstance(raw["flags"], bool)):
        raise _fail(f"{where}.flags", gettext("Must be a whole number."))
    out: dict = {"type": "rich"}
    total = 0
    for key in ("title", "description"):
        text = _text(raw.get(key), f"{where}.{key}", TEXT_LIMITS[key])
        if text:
            out[key] = text
            total += len(text)
    if "description" in out:
        out["description_html"] = markdown.render(out["description"])
    if raw.get("url") is not None:
        out["url"] = clean_url(raw["url"], f"{where}.url")
    if raw.get("color") is not None:
        color = raw["color"]
        if not isinstance(color, int) or isinstance(color, bool) or not 0 <= color <= 0xFFFFFF:
            raise _fail(f"{where}.color", gettext("A colour is a number from 0 to 16777215 (0xFFFFFF)."))
        out["color"] = color
    if raw.get("timestamp") is not None:
        stamp = raw["timestamp"]
        try:
            out["timestamp"] = datetime.fromisoformat(stamp).isoformat()
        except (TypeError, ValueError):
            raise _fail(f"{where}.timestamp", gettext("A timestamp is an ISO 8601 date and time.")) from None
    for part, allowed in _PARTS.items():
        if raw.get(part) is None:
            continue
        value = _object(raw[part], f"{where}.{part}", allowed)
        kept = {}
        if part in ("author", "footer"):
            key = "name" if part == "author" else "text"
            kept[key] = _text(value.get(key), f"{where}.{part}.{key}", TEXT_LIMITS[f"{part}.{key}"], required=True)
            total += len(kept[key])
        for url_key in ("url", "icon_url"):
            if url_key in allowed and value.get(url_key) is not None:
                kept[url_key] = clean_url(value[url_key], f"{where}.{part}.{url_key}")
        if part in ("image", "thumbnail") and "url" not in kept:
            raise _fail(f"{where}.{part}.url", gettext("This cannot be empty."))
        out[part] = kept
    fields = raw.get("fields")
    if fields is not None:
        if not isinstance(fields, list):
            raise _fail(f"{where}.fields", gettext("Fields are a list."))
        if len(fields) > MAX_FIELDS:
            raise _fail(f"{where}.fields", gettext("An embed has at most %(n)s fields.") % {"n": MAX_FIELDS})
        out["fields"] = []
        for i, field in enumerate(fields):
            at = f"{where}.fields[{i}]"
            field = _object(field, at, {"name", "value", "inline"})
            name = _text(field.get("name"), f"{at}.name", TEXT_LIMITS["field.name"], required=True)
            value = _text(field.get("value"), f"{at}.value", TEXT_LIMITS["field.value"], required=True)
            inline = field.get("inline", False)
            if not isinstance(inline, bool):
                raise _fail(f"{at}.inline", gettext("This must be true or false."))
            out["fields"].append({"name": name, "value": value, "value_html": markdown.render(value),
                                  "inline": inline})
            total += len(name) + len(value)
    if len(out) == 1 or set(out) <= {"type", "color", "url", "timestamp"}:
        raise _fail(where, gettext("An embed needs a title, a description, fields, an author, a footer or an image."))
    return out, total


def clean(raw) -> list[dict]:
    """The embeds of a send, validated and sanitised (empty when none were given)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail("embeds", gettext("Embeds are a list."))
    if len(raw) > MAX_EMBEDS:
        raise _fail("embeds", gettext("A message has at most %(n)s embeds.") % {"n": MAX_EMBEDS})
    out, total = [], 0
    for i, embed in enumerate(raw):
        kept, size = _clean_one(embed, f"embeds[{i}]")
        out.append(kept)
        total += size
    if total > MAX_TOTAL:
        raise _fail("embeds", gettext("The embeds of a message have at most %(n)s characters of text in all.")
                    % {"n": MAX_TOTAL})
    return out


def image_urls(embeds: list[dict]) -> list[str]:
    """Every image URL the embeds name, once each, in order."""
    found: list[str] = []
    for embed in embeds:
        for part, key in IMAGE_PATHS:
            url = (embed.get(part) or {}).get(key)
            if url and url not in found:
                found.append(url)
    return found
