"""What a web page says about itself: Open Graph, Twitter card and oEmbed metadata, read from the
page apps.core.fetch brings (never fetched any other way), as a link preview in the embed shape."""
from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from urllib.parse import urljoin

from django.conf import settings
from django.core.cache import cache

from apps.core import fetch

TITLE_MAX = 256
DESCRIPTION_MAX = 350
SITE_MAX = 256


class _Meta(HTMLParser):
    """<meta> properties, <title> and the oEmbed <link> of a page's head (the body is not needed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self.oembed = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").strip().lower()
            if key and "content" in a and key not in self.meta:
                self.meta[key] = a["content"].strip()
        elif tag == "title":
            self._in_title = True
        elif tag == "link" and a.get("type", "").lower() == "application/json+oembed" and not self.oembed:
            self.oembed = a.get("href", "")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title and len(self.title) < TITLE_MAX * 2:
            self.title += data


def _short(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def parse(url: str, page: fetch.Fetched, *, resolver=None) -> dict | None:
    """The preview of a fetched HTML page, or None if it says nothing worth showing."""
    parser = _Meta()
    parser.feed(page.body.decode("utf-8", "replace"))
    parser.close()
    m = parser.meta
    title = m.get("og:title") or m.get("twitter:title") or parser.title
    description = m.get("og:description") or m.get("twitter:description") or m.get("description", "")
    site = m.get("og:site_name", "")
    image = m.get("og:image:secure_url") or m.get("og:image") or m.get("twitter:image") or m.get("twitter:image:src")
    video = (m.get("og:type", "").startswith("video") or "og:video" in m or "og:video:url" in m
             or m.get("twitter:card") == "player")
    if parser.oembed and not (title and image):
        extra = _oembed(urljoin(page.url, parser.oembed), resolver=resolver)
        title = title or extra.get("title", "")
        site = site or extra.get("provider_name", "")
        image = image or extra.get("thumbnail_url", "")
        video = video or extra.get("type") == "video"
    if not (title or description):
        return None
    preview: dict = {"type": "video" if video else "link", "url": url}
    if title:
        preview["title"] = _short(title, TITLE_MAX)
    if description:
        preview["description"] = _short(description, DESCRIPTION_MAX)
    if site:
        preview["provider"] = {"name": _short(site, SITE_MAX)}
    if image:
        absolute = urljoin(page.url, image)
        if absolute.startswith(("http://", "https://")):
            preview["thumbnail"] = {"url": absolute}
    return preview


def _oembed(url: str, *, resolver=None) -> dict:
    try:
        answer = fetch.fetch(url, accept=("application/json", "text/json", "application/json+oembed"),
                             resolver=resolver)
        data = json.loads(answer.body)
    except (fetch.FetchRefused, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def preview(url: str, *, resolver=None) -> dict | None:
    """The preview of `url` (cached per URL in the Django cache, failures too, for less long)."""
    key = f"unfurl:{hashlib.sha256(url.encode()).hexdigest()}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    try:
        found = parse(url, fetch.fetch(url, truncate=True, resolver=resolver), resolver=resolver)
    except fetch.FetchRefused:
        found = None
    cache.set(key, found or {}, timeout=settings.LINK_PREVIEW_CACHE_SECONDS if found else 300)
    return found
