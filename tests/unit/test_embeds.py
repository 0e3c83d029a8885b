"""Rich embeds are checked against Discord's limits field by field, and what is kept is safe to show."""
import pytest

from apps.chat import embeds
from apps.core.errors import ValidationFailed


def fails(raw) -> dict:
    with pytest.raises(ValidationFailed) as exc:
        embeds.clean(raw)
    return exc.value.fields


FULL = {"title": "Build", "description": "**ok** <script>alert(1)</script>", "url": "https://ci.example/1",
        "color": 0xFF0000, "timestamp": "2026-12-06T15:00:00+00:00",
        "author": {"name": "CI", "url": "https://ci.example", "icon_url": "https://ci.example/a.png"},
        "footer": {"text": "main", "icon_url": "http://ci.example/f.png"},
        "fields": [{"name": "Tests", "value": "*812*", "inline": True}],
        "image": {"url": "https://ci.example/i.png"}, "thumbnail": {"url": "https://ci.example/t.png"}}


def test_a_full_embed_is_kept_with_its_markdown_rendered_and_escaped():
    [kept] = embeds.clean([FULL])
    assert kept["type"] == "rich" and kept["title"] == "Build" and kept["color"] == 0xFF0000
    assert kept["description_html"] == "<strong>ok</strong> &lt;script&gt;alert(1)&lt;/script&gt;"
    assert kept["fields"] == [{"name": "Tests", "value": "*812*", "value_html": "<em>812</em>", "inline": True}]
    assert embeds.image_urls([kept]) == ["https://ci.example/a.png", "http://ci.example/f.png",
                                         "https://ci.example/i.png", "https://ci.example/t.png"]


@pytest.mark.parametrize(("embed", "field"), [
    ({"title": "t" * 257}, "embeds[0].title"),
    ({"description": "d" * 4097}, "embeds[0].description"),
    ({"title": "t", "fields": [{"name": "n", "value": "v"}] * 26}, "embeds[0].fields"),
    ({"fields": [{"name": "n" * 257, "value": "v"}]}, "embeds[0].fields[0].name"),
    ({"fields": [{"name": "n", "value": "v" * 1025}]}, "embeds[0].fields[0].value"),
    ({"fields": [{"name": "n", "value": ""}]}, "embeds[0].fields[0].value"),
    ({"fields": [{"name": "n", "value": "v", "inline": "yes"}]}, "embeds[0].fields[0].inline"),
    ({"footer": {"text": "f" * 2049}}, "embeds[0].footer.text"),
    ({"author": {"name": "a" * 257}}, "embeds[0].author.name"),
    ({"title": "t", "url": "javascript:alert(1)"}, "embeds[0].url"),
    ({"title": "t", "url": "data:text/html,<script>"}, "embeds[0].url"),
    ({"title": "t", "url": "https://"}, "embeds[0].url"),
    ({"title": "t", "image": {"url": "file:///etc/passwd"}}, "embeds[0].image.url"),
    ({"title": "t", "author": {"name": "a", "icon_url": "javascript:x"}}, "embeds[0].author.icon_url"),
    ({"title": "t", "color": "red"}, "embeds[0].color"),
    ({"title": "t", "color": 0x1000000}, "embeds[0].color"),
    ({"title": "t", "timestamp": "yesterday"}, "embeds[0].timestamp"),
    ({"title": "t", "video": {"url": "https://x"}}, "embeds[0].video"),
    ({"title": "t", "type": "video"}, "embeds[0].type"),
    ({"color": 1}, "embeds[0]"),
    ("not an object", "embeds[0]"),
])
def test_bad_embeds_name_the_field_at_fault(embed, field):
    assert field in fails([embed])


def test_counts_and_total_length_are_bounded():
    assert "embeds" in fails([{"title": "t"}] * 11)
    assert "embeds" in fails({"title": "t"})
    two_big = [{"description": "d" * 4000}, {"description": "d" * 2001}]
    assert fails(two_big)["embeds"] == ["The embeds of a message have at most 6000 characters of text in all."]
    assert len(embeds.clean([{"description": "d" * 4000}, {"description": "d" * 2000}])) == 2
