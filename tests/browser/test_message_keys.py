"""Messages by keyboard, in a real browser: one tab stop per message (never its buttons), the arrows
between messages, actions shown on focus and reached with Enter, and the skip links at the top of
the page."""
import pytest
from playwright.sync_api import expect

from apps.chat import services as chat
from tests.browser.test_chat import channel_url, in_worker_thread, lab, message, open_channel, post  # noqa: F401

pytestmark = [pytest.mark.browser]


def test_one_tab_stop_per_message_and_its_actions_on_focus(live_url, new_page, lab):  # noqa: F811
    first = post(lab["bo"], lab["general"], "first, see https://example.com")
    in_worker_thread(lambda: chat.add_reaction(actor=lab["bo"], message=first, emoji="👍"))
    post(lab["bo"], lab["general"], "second")
    post(lab["bo"], lab["general"], "third")
    ada = new_page()
    errors = open_channel(ada, live_url, lab["ada"], lab["general"])
    one, two, three = message(ada, "first"), message(ada, "second"), message(ada, "third")
    expect(one.locator('.reaction[data-emoji="👍"]')).to_be_visible()

    one.focus()
    expect(one.locator(".msg-actions")).to_be_visible()  # the actions show while it has the focus
    # Tab goes to the next message: not through the first one's link, reaction and buttons.
    ada.keyboard.press("Tab")
    expect(two).to_be_focused()
    ada.keyboard.press("Tab")
    expect(three).to_be_focused()
    ada.keyboard.press("Shift+Tab")
    expect(two).to_be_focused()
    # The arrows move between messages, Home and End to the ends.
    ada.keyboard.press("ArrowUp")
    expect(one).to_be_focused()
    ada.keyboard.press("ArrowDown")
    expect(two).to_be_focused()
    ada.keyboard.press("End")
    expect(three).to_be_focused()
    ada.keyboard.press("Home")
    expect(one).to_be_focused()

    # Enter goes into the message: its action bar first, then its link and its reaction.
    ada.keyboard.press("Enter")
    expect(one.locator(".act-react")).to_be_focused()
    ada.keyboard.press("ArrowRight")
    expect(one.locator(".act-reply")).to_be_focused()
    for _ in range(8):
        ada.keyboard.press("ArrowRight")
    expect(one.locator('.reaction[data-emoji="👍"]')).to_be_focused()  # the last control: it stays
    ada.keyboard.press("ArrowLeft")
    expect(one.locator(".msg-content a")).to_be_focused()
    ada.keyboard.press("Escape")
    expect(one).to_be_focused()
    # Tab from inside a message still goes on to the next message.
    ada.keyboard.press("Enter")
    ada.keyboard.press("Tab")
    expect(two).to_be_focused()

    # Reacting by keyboard: Enter on "Add reaction", a name, Enter; the focus comes back.
    ada.keyboard.press("ArrowUp")
    ada.keyboard.press("Enter")
    ada.keyboard.press("Enter")
    picker = ada.locator("#emoji-picker")
    expect(picker.locator(".emoji-search")).to_be_focused()
    ada.keyboard.type("fire")
    ada.keyboard.press("Enter")
    expect(one.locator('.reaction[data-emoji="🔥"] .reaction-count')).to_have_text("1")
    expect(picker).to_be_hidden()
    expect(one.locator(".act-react")).to_be_focused()
    # The message redrawn (a live edit) keeps the focus.
    one.focus()
    in_worker_thread(lambda: chat.edit_message(actor=lab["bo"], message=first, content="first, edited"))
    expect(one.locator(".msg-content")).to_contain_text("first, edited")
    expect(one).to_be_focused()

    # Replying by keyboard lands in the message box.
    ada.keyboard.press("Enter")
    ada.keyboard.press("ArrowRight")
    expect(one.locator(".act-reply")).to_be_focused()
    ada.keyboard.press("Enter")
    expect(ada.locator("#composer-reply")).to_be_visible()
    expect(ada.locator("#composer-input")).to_be_focused()
    assert errors == []


def test_the_skip_links_reach_the_composer_and_the_messages(live_url, new_page, lab):  # noqa: F811
    post(lab["bo"], lab["general"], "older")
    post(lab["bo"], lab["general"], "newest")
    ada = new_page()
    errors = open_channel(ada, live_url, lab["ada"], lab["general"])

    # The first Tab on the page shows the skip links, before the guild rail and the channels.
    ada.keyboard.press("Tab")
    to_messages = ada.locator(".skip-link", has_text="Skip to messages")
    expect(to_messages).to_be_focused()
    expect(to_messages).to_be_in_viewport()
    ada.keyboard.press("Tab")
    to_composer = ada.locator(".skip-link", has_text="Skip to the message box")
    expect(to_composer).to_be_focused()
    ada.keyboard.press("Enter")
    expect(ada.locator("#composer-input")).to_be_focused()

    ada.goto(channel_url(live_url, lab["general"]))
    expect(message(ada, "newest")).to_be_visible()
    ada.keyboard.press("Tab")
    ada.keyboard.press("Enter")
    expect(message(ada, "newest")).to_be_focused()
    ada.keyboard.press("ArrowUp")
    expect(message(ada, "older")).to_be_focused()
    assert errors == []
