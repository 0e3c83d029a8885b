"""The markdown subset messages support, rendered server-side and then sanitised with nh3.

Supported: ```code blocks```, `inline code`, **bold**, *italic*, __underline__, ~~strike~~,
||spoilers||, > quotes, bare http(s) links, mentions (<@id>, <@&id>, @everyone, @here) and channel
links (<#id>).
Text is HTML-escaped first, so markup can only come from these rules; nh3 is the safety net.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {"a", "b", "strong", "em", "u", "s", "code", "pre", "blockquote", "span", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "class", "data-channel-id"},
                      "span": {"class", "data-user-id", "data-role-id"}, "code": {"class"}}

# The newline after the opening fence (and a language name before it) and the one before the closing
# fence are the fence's, not the code's: kept, they show as empty lines inside the block.
_CODE_BLOCK = re.compile(r"```(?:[a-zA-Z0-9_+-]{1,20}(?=\n))?\n?(.+?)\n?```", re.S)
# A line break right after a block (a quote, a code block) would add an empty line under it.
_BREAK_AFTER_BLOCK = re.compile(r"(</blockquote>|</pre>)<br>")
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*", re.S), r"<strong>\1</strong>"),
    (re.compile(r"__(.+?)__", re.S), r"<u>\1</u>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", re.S), r"<em>\1</em>"),
    (re.compile(r"~~(.+?)~~", re.S), r"<s>\1</s>"),
    (re.compile(r"\|\|(.+?)\|\|", re.S), r'<span class="spoiler">\1</span>'),
]
_LINK = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_USER_MENTION = re.compile(r"&lt;@(\d{1,20})&gt;")
_ROLE_MENTION = re.compile(r"&lt;@&amp;(\d{1,20})&gt;")
_CHANNEL_MENTION = re.compile(r"&lt;#(\d{1,20})&gt;")
_PLACEHOLDER = "\x00{}\x00"


def render(text: str, *, users: dict[int, str] | None = None, roles: dict[int, str] | None = None,
           channels: dict[int, tuple[str, str]] | None = None) -> str:
    """HTML for a message. `users`/`roles` map mentioned ids to the names to show, `channels` the
    linked channels' ids to (name, url); a channel not in it shows as #unknown, with no link."""
    users, roles, channels = users or {}, roles or {}, channels or {}
    stash: list[str] = []

    def keep(fragment: str) -> str:
        stash.append(fragment)
        return _PLACEHOLDER.format(len(stash) - 1)

    out = html.escape(text, quote=True)
    out = _CODE_BLOCK.sub(lambda m: keep(f"<pre><code>{m.group(1)}</code></pre>"), out)
    out = _INLINE_CODE.sub(lambda m: keep(f"<code>{m.group(1)}</code>"), out)
    out = _LINK.sub(lambda m: keep(f'<a href="{m.group(0)}">{m.group(0)}</a>'), out)
    def mention(kind: str, ident: str, name: str) -> str:
        return keep(f'<span class="mention" data-{kind}-id="{ident}">@{html.escape(name)}</span>')

    out = _USER_MENTION.sub(lambda m: mention("user", m.group(1), users.get(int(m.group(1)), "unknown")), out)
    out = _ROLE_MENTION.sub(lambda m: mention("role", m.group(1), roles.get(int(m.group(1)), "deleted-role")), out)
    out = _CHANNEL_MENTION.sub(lambda m: keep(_channel_link(int(m.group(1)), channels.get(int(m.group(1))))), out)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    lines = []
    for line in out.split("\n"):
        if line.startswith("&gt; "):
            line = f"<blockquote>{line[5:]}</blockquote>"
        lines.append(line)
    out = "<br>".join(lines).replace("</blockquote><br><blockquote>", "<br>")
    for i, fragment in enumerate(stash):
        out = out.replace(_PLACEHOLDER.format(i), fragment)
    out = _BREAK_AFTER_BLOCK.sub(r"\1", out)
    return nh3.clean(out, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel="noopener noreferrer nofollow",
                     url_schemes={"http", "https"})


def _channel_link(ident: int, channel: tuple[str, str] | None) -> str:
    if channel is None:
        return '<span class="mention channel-mention">#unknown</span>'
    name, url = channel
    return (f'<a class="mention channel-mention" data-channel-id="{ident}" href="{html.escape(url)}">'
            f"#{html.escape(name)}</a>")


# What a quote shows in place of a spoiler: hidden, and the same length whatever it hides.
SPOILER_MASK = "\u2588" * 5


class _QuoteText(HTMLParser):
    """The text of rendered message HTML, spoilers masked, line breaks as spaces."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.spoiler_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append(" ")
        elif self.spoiler_depth and tag == "span":
            self.spoiler_depth += 1
        elif tag == "span" and "spoiler" in (dict(attrs).get("class") or "").split():
            self.spoiler_depth = 1
            self.parts.append(SPOILER_MASK)
        elif tag in ("blockquote", "pre"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if self.spoiler_depth and tag == "span":
            self.spoiler_depth -= 1
        elif tag in ("blockquote", "pre"):
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.spoiler_depth:
            self.parts.append(data)


def quote(html_text: str, *, limit: int = 200) -> str:
    """A rendered message (its content_html) as one line of plain text, for reply quotes and DM
    previews: mentions by name, no markdown signs, spoilers masked."""
    parser = _QuoteText()
    parser.feed(html_text)
    parser.close()
    return " ".join("".join(parser.parts).split())[:limit]


def mentioned_ids(text: str) -> tuple[set[int], set[int], bool, bool]:
    """(user ids, role ids, @everyone, @here) written in a message."""
    users = {int(x) for x in re.findall(r"<@(\d{1,20})>", text)}
    roles = {int(x) for x in re.findall(r"<@&(\d{1,20})>", text)}
    return users, roles, "@everyone" in text, "@here" in text


def mentioned_channel_ids(text: str) -> set[int]:
    """The channels a message links to with <#id>."""
    return {int(x) for x in re.findall(r"<#(\d{1,20})>", text)}


# <https://…> shows the link without its preview (as in Discord).
_SUPPRESSED_LINK = re.compile(r"<https?://[^\s<>]+>")


def links(text: str, *, limit: int = 3) -> list[str]:
    """The first `limit` distinct http(s) links of a message that may get a preview: not in code,
    not written as <url>."""
    text = _INLINE_CODE.sub(" ", _CODE_BLOCK.sub(" ", text))
    text = _SUPPRESSED_LINK.sub(" ", text)
    found: list[str] = []
    for match in _LINK.finditer(text):
        if match.group(0) not in found:
            found.append(match.group(0))
            if len(found) == limit:
                break
    return found


def has_link(text: str) -> bool:
    return bool(links(text, limit=1))
