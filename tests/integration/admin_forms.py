"""Driving the 2FA admin as a staff member does: the change form as the page renders it (every
field, hidden ones and inline management forms included), a few fields changed, then posted."""
from __future__ import annotations

from html.parser import HTMLParser

from django.test import Client


class _Form(HTMLParser):
    """The fields of the page's admin form (<form id="..._form">), with the values a browser would post."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.fields: dict[str, list[str]] = {}
        self.select: tuple[str, bool] | None = None  # (name, multiple)
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None

    def _add(self, name, value):
        self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self.inside = True
        if not self.inside or not a.get("name") and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else ""))
        elif tag == "select":
            self.select, self.options = (a["name"], "multiple" in a), []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self.textarea = a["name"]
            self._add(self.textarea, "")

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select:
            name, multiple = self.select
            chosen = [value for value, selected in self.options if selected]
            if not chosen and not multiple and self.options:
                chosen = [self.options[0][0]]
            for value in chosen:
                self._add(name, value)
            self.select = None


def form_data(page: str) -> dict[str, list[str]]:
    parser = _Form()
    parser.feed(page)
    # Textareas start with a newline the browser drops.
    return {k: [v[1:] if v.startswith("\n") else v for v in vs] for k, vs in parser.fields.items()}


def submit(client: Client, url: str, **changes) -> str:
    """Open the admin form at `url`, change the named fields (a list for several values, None to
    leave a box unticked), post it and return the page it leads to."""
    page = client.get(url)
    assert page.status_code == 200, url
    data = form_data(page.content.decode())
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    r = client.post(url, data, follow=True)
    assert r.status_code == 200, r.content.decode()[:2000]
    return r.content.decode()
