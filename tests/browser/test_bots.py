"""A bot as people see it in a real browser: its live message and its entry in the member list
carry a BOT tag; a person's do not."""
import pytest
from playwright.sync_api import expect

from apps.bots import services as bots
from apps.guilds.permissions import Permission
from tests.browser.test_chat import in_worker_thread, message, open_channel, post
from tests.browser.test_dms import lab  # noqa: F401 - lab: Ada owns "Synth Lab", Bo is a member

pytestmark = [pytest.mark.browser]


def test_a_bots_message_and_member_entry_show_a_bot_tag(live_url, new_page, lab):  # noqa: F811
    def add_bot():
        app, _token = bots.create_application(owner=lab["ada"], name="Helper")
        bots.authorize_bot(actor=lab["ada"], application=app, guild_id=lab["guild"].id,
                           permissions=int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES))
        return app.bot

    bot = in_worker_thread(add_bot)
    page = new_page()
    errors = open_channel(page, live_url, lab["bo"], lab["general"])
    expect(page.locator(".member-list .member", has_text="Helper").locator(".bot-tag")).to_have_text("BOT")
    post(bot, lab["general"], "beep boop")
    expect(message(page, "beep boop").locator(".bot-tag")).to_have_text("BOT")
    post(lab["ada"], lab["general"], "a human")
    expect(message(page, "a human").locator(".bot-tag")).to_have_count(0)
    assert errors == []
