"""The message markdown subset: what a reader sees, and that nothing dangerous survives."""
from html.parser import HTMLParser

import pytest

from apps.chat.markdown import SPOILER_MASK, links, mentioned_ids, quote, render


@pytest.mark.parametrize(("source", "expected"), [
    ("**bold**", "<strong>bold</strong>"),
    ("*it*", "<em>it</em>"),
    ("__under__", "<u>under</u>"),
    ("~~gone~~", "<s>gone</s>"),
    ("||secret||", '<span class="spoiler">secret</span>'),
    ("`x < y`", "<code>x &lt; y</code>"),
    ("> quoted", "<blockquote>quoted</blockquote>"),
    ("```py\nprint(1)\n```", "<pre><code>print(1)</code></pre>"),
])
def test_formatting(source, expected):
    assert render(source) == expected


def test_channel_links():
    out = render("<#5> and <#6>", channels={5: ("général", "/guilds/1/channels/5")})
    assert out == ('<a class="mention channel-mention" data-channel-id="5" href="/guilds/1/channels/5" '
                   'rel="noopener noreferrer nofollow">#général</a> and '
                   '<span class="mention channel-mention">#unknown</span>')
    assert render("`<#5>`", channels={5: ("general", "/x")}) == "<code>&lt;#5&gt;</code>"


def test_code_is_not_formatted_inside():
    assert render("`**not bold**`") == "<code>**not bold**</code>"


def test_links_are_safe_and_marked_nofollow():
    out = render("see https://example.com/a?b=1&c=2.")
    assert 'href="https://example.com/a?b=1&amp;c=2"' in out and 'rel="noopener noreferrer nofollow"' in out
    assert out.endswith("</a>.")


@pytest.mark.parametrize("attack", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "javascript:alert(1)",
    "[x](javascript:alert(1))",
    '"><svg onload=alert(1)>',
])
def test_html_never_passes_through(attack):
    tags = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(attrs)))

    Collect().feed(render(attack))
    assert all(tag in {"a", "strong", "em", "u", "s", "code", "pre", "blockquote", "span", "br"} for tag, _ in tags)
    assert not any(name.startswith("on") for _, attrs in tags for name in attrs)
    assert not any(attrs.get("href", "").startswith("javascript") for _, attrs in tags)


def test_mentions_render_names():
    out = render("hi <@5> and <@&7> and <@9>", users={5: "Bob <b>"}, roles={7: "Mods"})
    assert '<span class="mention" data-user-id="5">@Bob &lt;b&gt;</span>' in out
    assert '<span class="mention" data-role-id="7">@Mods</span>' in out
    assert "@unknown" in out


def test_mentioned_ids():
    assert mentioned_ids("<@1> <@2> <@&3> @everyone") == ({1, 2}, {3}, True, False)
    assert mentioned_ids("@here") == (set(), set(), False, True)


@pytest.mark.parametrize("source", ["```\nprint(1)\n```", "```\nprint(1)```", "```py\nprint(1)\n```"])
def test_a_code_block_starts_with_its_first_line_of_code(source):
    """The newline after the opening fence is the fence's: kept, the block shows an empty first line."""
    assert render(source) == "<pre><code>print(1)</code></pre>"


def test_a_code_block_keeps_its_inner_lines():
    assert render("```\na\n\nb\n```") == "<pre><code>a\n\nb</code></pre>"


@pytest.mark.parametrize(("source", "expected"), [
    ("> quoted\nreply", "<blockquote>quoted</blockquote>reply"),
    ("> one\n> two\nreply", "<blockquote>one<br>two</blockquote>reply"),
    ("```\ncode\n```\nafter", "<pre><code>code</code></pre>after"),
    ("before\n> quoted", "before<br><blockquote>quoted</blockquote>"),
])
def test_no_empty_line_after_a_quote_or_a_code_block(source, expected):
    """A <br> right after a block element renders as an empty line under it."""
    assert render(source) == expected


def test_a_quote_shows_names_and_text_without_markdown_signs():
    text = "hi <@3> and <@&4>: **bold** *it* __u__ ~~s~~ `code`\n> quoted\n```\nblock\n```"
    shown = quote(render(text, users={3: "alice"}, roles={4: "Mods"}))
    assert shown == "hi @alice and @Mods: bold it u s code quoted block"


def test_a_quote_hides_spoilers():
    out = quote(render("the end: ||Rosebud is the sled <@3>|| ok", users={3: "alice"}))
    assert out == f"the end: {SPOILER_MASK} ok"
    assert "Rosebud" not in out and "||" not in out and "alice" not in out


def test_a_quote_is_one_bounded_line():
    assert quote(render("a\n\nb " + "x" * 300), limit=50) == ("a b " + "x" * 300)[:50]


def test_links_that_get_a_preview_skip_code_and_angle_brackets_and_stop_at_three():
    text = ("a https://one.example/x, <https://hidden.example> `https://code.example` https://one.example/x "
            "```\nhttps://block.example\n``` https://two.example https://three.example https://four.example")
    assert links(text) == ["https://one.example/x", "https://two.example", "https://three.example"]
