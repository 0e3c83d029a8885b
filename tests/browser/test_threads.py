"""Threads in two real browsers: Ada starts a thread from a message and posts in it; Bo sees the
thread chip appear and its count go up live, opens the thread panel, reads and replies."""
import pytest
from playwright.sync_api import expect

from apps.chat.models import Message, Thread
from tests.browser.test_chat import in_worker_thread, lab, message, open_channel  # noqa: F401 (lab is a fixture)

pytestmark = [pytest.mark.browser]


def test_thread_from_a_message_live_for_two_members(live_url, new_page, lab):  # noqa: F811
    general = lab["general"]
    a, b = new_page(), new_page()
    errors = open_channel(a, live_url, lab["ada"], general) + open_channel(b, live_url, lab["bo"], general)

    a.fill("#composer-input", "Who is coming to the modular meetup?")
    a.press("#composer-input", "Enter")
    starter_a = message(a, "modular meetup")
    expect(starter_a).to_have_count(1)
    starter_b = message(b, "modular meetup")
    expect(starter_b).to_have_count(1)

    # Ada starts a thread from the message's action bar.
    starter_a.hover()
    starter_a.locator(".act-thread").click()
    expect(a.locator("#thread-panel")).to_be_visible()
    expect(a.locator("#thread-new-name")).to_have_value("Who is coming to the modular meetup?")
    a.fill("#thread-new-name", "Meetup plans")
    a.locator("#thread-new button[type=submit]").click()
    expect(a.locator("#thread-title")).to_have_text("Meetup plans")
    expect(a.locator("#thread-starter .msg-content")).to_contain_text("modular meetup")

    # Bo's channel shows the chip at once, with no messages yet.
    chip_b = starter_b.locator(".thread-chip")
    expect(chip_b.locator(".thread-chip-name")).to_have_text("Meetup plans")
    expect(chip_b.locator(".thread-chip-count")).to_have_text("0 messages")

    # Ada posts in the thread: her panel shows it, Bo's chip counts it, the channel does not.
    a.fill("#thread-input", "I am bringing the sequencer")
    a.press("#thread-input", "Enter")
    expect(a.locator("#thread-messages .msg-content")).to_have_text(["I am bringing the sequencer"])
    expect(chip_b.locator(".thread-chip-count")).to_have_text("1 message")
    a.fill("#thread-input", "and two patch cables")
    a.press("#thread-input", "Enter")
    expect(chip_b.locator(".thread-chip-count")).to_have_text("2 messages")
    expect(message(b, "sequencer")).to_have_count(0)

    # Bo opens the thread from the chip, reads it and replies; Ada sees the reply live.
    chip_b.click()
    expect(b.locator("#thread-title")).to_have_text("Meetup plans")
    expect(b.locator("#thread-messages .msg-content")).to_have_text(
        ["I am bringing the sequencer", "and two patch cables"])
    expect(b.locator("#thread-join")).to_have_text("Join")
    b.fill("#thread-input", "Count me in!")
    b.press("#thread-input", "Enter")
    expect(b.locator("#thread-messages .msg-content")).to_have_count(3)
    expect(b.locator("#thread-join")).to_have_text("Leave")  # posting joins the thread
    expect(a.locator("#thread-messages .msg-content")).to_have_text(
        ["I am bringing the sequencer", "and two patch cables", "Count me in!"])
    expect(starter_a.locator(".thread-chip-count")).to_have_text("3 messages")

    # The channel's Threads list shows it; it opens the same thread.
    b.locator(".thread-close").click()
    expect(b.locator("#thread-panel")).to_be_hidden()
    b.locator("#threads-toggle").click()
    item = b.locator("#threads-list .thread-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Meetup plans")
    expect(item).to_contain_text("3 messages")
    item.click()
    expect(b.locator("#thread-messages .msg-content")).to_have_count(3)

    # The full view is the thread as a channel page: its whole history, reactions, edits.
    b.locator("#thread-full").click()
    expect(b.locator("#channel-title")).to_contain_text("Meetup plans")
    expect(b.locator("#message-list .msg[data-id] .msg-content")).to_have_text(
        ["I am bringing the sequencer", "and two patch cables", "Count me in!"])

    def stored():
        thread = Thread.objects.select_related("channel").get()
        return (thread.channel.name, thread.message_count,
                list(Message.objects.filter(channel_id=thread.pk).values_list("content", flat=True)))

    assert in_worker_thread(stored) == ("Meetup plans", 3, ["I am bringing the sequencer", "and two patch cables",
                                                            "Count me in!"])
    assert errors == []
