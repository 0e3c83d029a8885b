r"""Automod rules as text: keyword lists and regular expressions, compiled safely.

Python's `re` backtracks, so a pattern such as `(a+)+$` takes exponential time on a crafted message.
A rule is therefore checked when it is saved: each pattern is short (PATTERN_MAX_LENGTH), compiles,
and has no quantified group that itself contains a quantifier or an alternation (exponential
backtracking), at most one unbounded quantifier (`\s+\s+x` is already cubic in the message's length:
use `{1,64}`), no backreference and no lookaround; messages are bounded by MESSAGE_MAX_LENGTH.
Keywords match whole words, case-insensitively; patterns match case-insensitively."""
from __future__ import annotations

import re
from functools import lru_cache

try:  # Python 3.11+
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants
    import sre_parse

from django.utils.translation import gettext

from apps.core.errors import ValidationFailed

PATTERN_MAX_LENGTH = 200
PATTERNS_MAX = 20
KEYWORDS_MAX = 200
KEYWORD_MAX_LENGTH = 60

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)
if _POSSESSIVE is not None:
    _REPEATS.add(_POSSESSIVE)
_REFUSED = {sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS, sre_constants.ASSERT,
            sre_constants.ASSERT_NOT}


class UnsafePattern(ValidationFailed):
    code = "unsafe_pattern"


def _walk(items, *, in_repeat: bool, unbounded: list) -> None:
    for op, av in items:
        if op in _REFUSED:
            raise UnsafePattern(gettext("Backreferences and lookarounds are not allowed in automod patterns."))
        if op in _REPEATS:
            low, high, sub = av
            repeats_many = high is sre_constants.MAXREPEAT or high > 1
            if in_repeat and repeats_many:
                raise UnsafePattern(gettext("Nested quantifiers such as (a+)+ can take forever to match; "
                                            "rewrite the pattern without a repeated group that repeats inside."))
            if high is sre_constants.MAXREPEAT:
                unbounded.append(op)
                if len(unbounded) > 1:
                    raise UnsafePattern(gettext("A pattern may have one unbounded quantifier (*, + or {n,}); "
                                                "bound the others, e.g. {1,64}."))
            _walk(sub, in_repeat=in_repeat or repeats_many, unbounded=unbounded)
        elif op is sre_constants.SUBPATTERN:
            _walk(av[-1], in_repeat=in_repeat, unbounded=unbounded)
        elif op is sre_constants.BRANCH:
            if in_repeat and len(av[1]) > 1:
                raise UnsafePattern(gettext("Alternatives inside a repeated group, such as (a|aa)+, can take "
                                            "forever to match; list the words as keywords instead."))
            for branch in av[1]:
                _walk(branch, in_repeat=in_repeat, unbounded=unbounded)
        elif op is getattr(sre_constants, "ATOMIC_GROUP", None):
            _walk(av, in_repeat=in_repeat, unbounded=unbounded)


def check_pattern(pattern: str) -> str:
    """The pattern, if it is safe to run on every message; UnsafePattern (code unsafe_pattern) if not."""
    if not isinstance(pattern, str) or not 0 < len(pattern) <= PATTERN_MAX_LENGTH:
        raise UnsafePattern(gettext("A pattern has 1 to %(n)s characters.") % {"n": PATTERN_MAX_LENGTH})
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
    except re.error as exc:
        raise UnsafePattern(gettext("Not a valid regular expression: %(error)s.") % {"error": exc}) from exc
    _walk(parsed, in_repeat=False, unbounded=[])
    return pattern


def clean_rule(*, keywords, patterns) -> tuple[list[str], list[str]]:
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ValidationFailed.field("keywords", gettext("Keywords are a list of words."))
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ValidationFailed.field("patterns", gettext("Patterns are a list of regular expressions."))
    keywords = sorted({k.strip().lower() for k in keywords if k.strip()})
    if len(keywords) > KEYWORDS_MAX or any(len(k) > KEYWORD_MAX_LENGTH for k in keywords):
        raise ValidationFailed.field("keywords", gettext("At most %(n)s keywords of %(m)s characters each.")
                                     % {"n": KEYWORDS_MAX, "m": KEYWORD_MAX_LENGTH})
    if len(patterns) > PATTERNS_MAX:
        raise ValidationFailed.field("patterns", gettext("At most %(n)s patterns.") % {"n": PATTERNS_MAX})
    for p in patterns:
        try:
            check_pattern(p)
        except UnsafePattern as exc:
            raise UnsafePattern(f"{p}: {exc.message}", fields={"patterns": [f"{p}: {exc.message}"]}) from exc
    if not keywords and not patterns:
        raise ValidationFailed.field("keywords", gettext("A rule needs at least one keyword or pattern."))
    return keywords, patterns


@lru_cache(maxsize=1024)
def compiled(keywords: tuple[str, ...], patterns: tuple[str, ...]) -> re.Pattern | None:
    parts = []
    if keywords:
        parts.append(r"(?<!\w)(?:" + "|".join(re.escape(k) for k in keywords) + r")(?!\w)")
    parts += [f"(?:{p})" for p in patterns]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def matches(rule, text: str) -> bool:
    pattern = compiled(tuple(rule.keywords), tuple(rule.patterns))
    return bool(pattern and pattern.search(text))


# --- mentions, links, invites ------------------------------------------------------------------
# Counted in the text as written, before names are resolved: `<@id>`, `<@&id>`, `@name`,
# `@everyone` and `@here`, each distinct one once.
_MENTION = re.compile(r"<@&?\d{1,20}>|(?<![\w<&@])@[A-Za-z0-9_.+-]{1,150}")
# A link is what a reader's client would make clickable: a scheme or a leading www.
_LINK = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"']{1,2000}", re.IGNORECASE)
# Invites also travel without a scheme ("discord.gg/abc").
_BARE_INVITE = re.compile(r"(?<![\w.])(?:discord\.gg|discord(?:app)?\.com/invite)/[\w-]{1,64}", re.IGNORECASE)
INVITE_HOSTS = ("discord.gg", "discord.io", "discord.me")
DOMAINS_MAX = 100


def mention_count(text: str) -> int:
    return len({m.lower() for m in _MENTION.findall(text)})


def _url(raw: str):
    from urllib.parse import urlsplit

    raw = raw.rstrip(".,;:!?)]}")
    try:
        return urlsplit(raw if "://" in raw[:8] else f"http://{raw}")
    except ValueError:
        return None


def link_hosts(text: str) -> list[str]:
    """The hosts of the links in a text, lower case ('' for one too mangled to parse)."""
    return [(u.hostname or "") if u else "" for u in map(_url, _LINK.findall(text))]


def invite_hosts(text: str) -> list[str]:
    """The hosts of the invite links in a text: Discord's, and any /invite/<code> link (this
    platform's own invites, on this instance or another)."""
    hosts = []
    for raw in _LINK.findall(text) + _BARE_INVITE.findall(text):
        u = _url(raw)
        if u is None:
            continue
        host = u.hostname or ""
        path = u.path.lower()
        if host.removeprefix("www.") in INVITE_HOSTS or path.startswith("/invite/"):
            hosts.append(host)
    return hosts


def allowed(host: str, domains) -> bool:
    host = host.removeprefix("www.")
    return bool(host) and any(host == d or host.endswith("." + d) for d in domains)


def clean_domains(domains) -> list[str]:
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise ValidationFailed.field("allowed_domains", gettext("Allowed domains are a list of host names."))
    cleaned = sorted({d.strip().lower().removeprefix("www.").strip(".") for d in domains if d.strip()})
    if len(cleaned) > DOMAINS_MAX or any(not re.fullmatch(r"[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63}){0,10}", d)
                                         for d in cleaned):
        raise ValidationFailed.field("allowed_domains", gettext("At most %(n)s host names such as example.com.")
                                     % {"n": DOMAINS_MAX})
    return cleaned


def breaks(rule, text: str) -> bool:
    """Whether the text breaks a rule that judges text. Rate and new-account rules judge the
    author, not the text (apps.moderation.services.check_message): False here."""
    kind = getattr(rule, "kind", "keyword") or "keyword"
    if not text:
        return False
    if kind == "keyword":
        return matches(rule, text)
    if kind == "mention_spam":
        return mention_count(text) > (rule.limit or 0)
    if kind == "links":
        return any(not allowed(h, rule.allowed_domains) for h in link_hosts(text))
    if kind == "invites":
        return any(not allowed(h, rule.allowed_domains) for h in invite_hosts(text))
    return False
