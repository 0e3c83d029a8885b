"""Embeds in real browsers: Ada makes a webhook on the channel's settings page and a CI job posts a
rich embed through it; Bo sees it with the WEBHOOK tag, its colour bar and its image (the copy a
real Celery worker made); Ada links a page, and its preview appears live for Bo until Ada removes it."""
import re

import pytest
from playwright.sync_api import expect

from tests import servers
from tests.browser.test_chat import lab, message, open_channel, post  # noqa: F401 (lab: fixture)
from tests.pages import og_page, png_bytes, serving

pytestmark = [pytest.mark.browser]

ROUTES = {"/og": ("page", og_page("Night Drive", description="A synthwave mix")),
          "/cover.png": ("image", png_bytes()), "/logo.png": ("image", png_bytes((64, 64), (10, 10, 200)))}


def test_a_webhook_embed_and_a_link_preview_render_live(live_url, new_page, lab):  # noqa: F811
    ada, bo = new_page(), new_page()
    errors = open_channel(ada, live_url, lab["ada"], lab["general"])
    bo_errors = open_channel(bo, live_url, lab["bo"], lab["general"])
    general = lab["general"]

    # Ada makes the webhook on the channel's settings page; its URL is shown once.
    settings_page = new_page()
    open_channel(settings_page, live_url, lab["ada"], general)
    settings_page.goto(f"{live_url}/guilds/{general.guild_id}/settings/channels/{general.id}")
    settings_page.fill("#webhook-name", "CI")
    settings_page.click("#webhook-form button[type=submit]")
    url_field = settings_page.locator("#webhook-secret-url")
    expect(settings_page.locator("#webhook-list .webhook-name")).to_have_value("CI")
    hook_url = url_field.input_value()
    assert "/api/webhooks/" in hook_url

    with serving(ROUTES) as pages, servers.celery_worker(queues="media",
                                                         env={"LINK_PREVIEW_ALLOW_HOSTS": "127.0.0.1"}):
        body = {"content": "Deployed", "username": "Deploy bot", "avatar_url": f"{pages.base}/logo.png",
                "embeds": [{"title": "Build #12", "url": "https://ci.example/12", "color": 0x2ECC71,
                            "description": "**green** <script>alert(1)</script>",
                            "fields": [{"name": "Tests", "value": "812 passed", "inline": True}],
                            "image": {"url": f"{pages.base}/cover.png"}, "footer": {"text": "main"}}]}
        r = bo.request.post(hook_url, data=body)
        assert r.status == 204, r.text()
        sent = message(bo, "Deployed")
        expect(sent.locator(".msg-author")).to_have_text("Deploy bot")
        expect(sent.locator(".msg-bot-tag")).to_have_text("WEBHOOK")
        embed = sent.locator(".embed-rich")
        expect(embed.locator(".embed-title")).to_have_text("Build #12")
        expect(embed.locator(".embed-description strong")).to_have_text("green")
        expect(embed.locator(".embed-description")).to_contain_text("<script>alert(1)</script>")
        expect(embed.locator(".embed-field-name")).to_have_text("Tests")
        expect(embed.locator(".embed-footer")).to_have_text("main")
        # Retried: the embed is drawn again when the worker's image copy arrives (MESSAGE_UPDATE), and a
        # style read from the node it replaced is empty.
        expect(embed).to_have_css("border-left-color", "rgb(46, 204, 113)")
        expect(embed.locator("img.embed-image")).to_be_visible(timeout=30_000)  # the worker's copy
        assert embed.locator("img.embed-image").evaluate("i => i.naturalWidth") == 400
        expect(sent.locator("img.avatar")).to_have_attribute("src", re.compile(r"^/embed-media/[0-9a-f]{64}\.webp$"))

        post(lab["ada"], general, f"Listen: {pages.base}/og")
        linked = message(bo, "Listen:")
        preview = linked.locator(".embed-link")
        expect(preview.locator(".embed-title")).to_have_text("Night Drive", timeout=30_000)
        expect(preview.locator(".embed-provider")).to_have_text("Test Pages")
        expect(preview.locator("img.embed-thumbnail")).to_be_visible()
        expect(linked.locator(".embed-suppress")).to_have_count(0)  # only its author (or a moderator) may

        mine = message(ada, "Listen:")
        mine.locator(".embed-suppress").click()
        expect(mine.locator(".embed-link")).to_have_count(0)
        expect(preview).to_have_count(0)
    assert errors == [] and bo_errors == []
