"""The live channel page, in two real browsers: typing, sending, replies, reactions, edits,
deletes, pins, unread badges, history and the composer's errors, all without a reload."""
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from playwright.sync_api import expect

from apps.chat import services as chat
from apps.chat.models import Message, ReadState
from apps.guilds import services as guild_services
from apps.guilds.models import Role
from apps.guilds.permissions import Permission
from tests.factories import PASSWORD, UserFactory, add_member, make_guild

pytestmark = [pytest.mark.browser]


def in_worker_thread(fn):
    """Run `fn` in another thread and return its result. Playwright's sync API keeps an event loop
    running in the test's thread, where the event publisher's async_to_sync refuses to run (the
    write would commit but no browser would hear of it); a worker thread has no loop."""
    def run():
        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def lab(transactional_db):
    """Ada owns "Synth Lab" (#general, #random); Bo is a plain member."""
    def build():
        ada = UserFactory(username="ada", display_name="Ada")
        bo = UserFactory(username="bo", display_name="Bo")
        guild = make_guild(ada, name="Synth Lab")
        add_member(guild, bo)
        general = guild.channels.get(name="general")
        random = guild_services.create_channel(actor=ada, guild=guild, name="random", category=general.category)
        return {"ada": ada, "bo": bo, "guild": guild, "general": general, "random": random}

    return in_worker_thread(build)


def post(user, channel, content):
    """A message sent through the service, as another client would; the browsers hear of it live."""
    return in_worker_thread(lambda: chat.send_message(author=user, channel_id=channel.id, content=content))


def channel_url(base, channel):
    return f"{base}/guilds/{channel.guild_id}/channels/{channel.id}"


def open_channel(page, base, user, channel):
    """Log in through the login page and land on the channel, with the gateway connected.
    Returns the list the page's uncaught script errors are collected in."""
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/accounts/login?next=/guilds/{channel.guild_id}/channels/{channel.id}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#channel-title")).to_contain_text(channel.name)
    expect(page.locator("#chat")).to_have_attribute("data-gateway", "open")
    return errors


def message(page, text):
    """The sent message (not an optimistic copy) whose own words, not a quoted reply, contain `text`."""
    return page.locator("#message-list .msg[data-id]").filter(has=page.locator(".msg-content", has_text=text))


def wait_until(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_two_members_chat_live(live_url, new_page, lab):
    ada, bo = new_page(), new_page()
    errors = open_channel(ada, live_url, lab["ada"], lab["general"])
    bo_errors = open_channel(bo, live_url, lab["bo"], lab["general"])

    # Ada types: Bo sees her typing; when she sends, the line clears and the message appears.
    ada.locator("#composer-input").press_sequentially("Hello Bo, **welcome**")
    expect(bo.locator("#typing-line")).to_have_text("Ada is typing…")
    ada.locator("#composer-input").press("Enter")
    expect(ada.locator("#composer-input")).to_have_value("")
    hello_bo = message(bo, "Hello Bo")
    expect(hello_bo).to_be_visible()
    expect(hello_bo.locator("strong")).to_have_text("welcome")  # rendered markdown
    expect(hello_bo.locator(".msg-author")).to_have_text("Ada")
    expect(bo.locator("#typing-line")).to_have_text("")
    expect(message(ada, "Hello Bo")).to_have_count(1)  # the optimistic copy was replaced, not doubled
    expect(ada.locator("#message-list .msg.pending")).to_have_count(0)

    # Bo replies; Ada sees the reply with the quoted message.
    hello_bo.hover()
    hello_bo.locator(".act-reply").click()
    expect(bo.locator("#composer-reply .composer-reply-text")).to_have_text("Replying to Ada")
    bo.locator("#composer-input").fill("Hi Ada! Glad to be here")
    bo.locator("#composer-input").press("Enter")
    reply = message(ada, "Glad to be here")
    expect(reply.locator(".msg-author")).to_have_text("Bo")
    expect(reply.locator(".msg-reply")).to_contain_text("@Ada")
    expect(reply.locator(".msg-reply-text")).to_have_text("Hello Bo, welcome")  # the quote: no markdown signs
    expect(bo.locator("#composer-reply")).to_be_hidden()

    # Ada reacts with 👍 from the picker; Bo sees one, then joins it with a click.
    mine = message(ada, "Hello Bo")
    mine.hover()
    mine.locator(".act-react").click()
    ada.locator('#emoji-picker .emoji-choice[data-emoji="👍"]').click()
    thumbs_for_bo = hello_bo.locator('.reaction[data-emoji="👍"]')
    expect(thumbs_for_bo.locator(".reaction-count")).to_have_text("1")
    expect(thumbs_for_bo).not_to_contain_class("me")
    thumbs_for_bo.click()
    expect(thumbs_for_bo.locator(".reaction-count")).to_have_text("2")
    expect(thumbs_for_bo).to_contain_class("me")
    expect(thumbs_for_bo).to_have_attribute("aria-pressed", "true")
    expect(mine.locator('.reaction[data-emoji="👍"]').locator(".reaction-count")).to_have_text("2")

    # Ada edits her message inline; Bo sees the new words and "(edited)", reactions kept.
    mine.hover()
    mine.locator(".act-edit").click()
    editor = mine.locator(".msg-editor-input")
    expect(editor).to_have_value("Hello Bo, **welcome**")
    editor.fill("Hello Bo, welcome to the lab")
    editor.press("Enter")
    expect(hello_bo.locator(".msg-content")).to_contain_text("welcome to the lab")
    expect(hello_bo.locator(".msg-edited")).to_have_text("(edited)")
    expect(thumbs_for_bo.locator(".reaction-count")).to_have_text("2")
    # Escape leaves the editor without saving.
    mine.hover()
    mine.locator(".act-edit").click()
    mine.locator(".msg-editor-input").fill("never saved")
    mine.locator(".msg-editor-input").press("Escape")
    expect(mine.locator(".msg-editor")).to_have_count(0)
    expect(mine.locator(".msg-content")).to_contain_text("welcome to the lab")

    # Ada pins it; Bo opens the pins panel from the header and finds it there.
    mine.hover()
    mine.locator(".act-pin").click()
    expect(hello_bo.locator(".msg-pin-flag")).to_be_visible()
    bo.click("#pins-toggle")
    expect(bo.locator("#pins-list .pin-item")).to_have_count(1)
    expect(bo.locator("#pins-list")).to_contain_text("welcome to the lab")
    expect(bo.locator("#pins-list .pin-unpin")).to_have_count(0)  # Bo cannot manage messages
    bo.click("#pins-panel .pins-close")
    expect(bo.locator("#pins-panel")).to_be_hidden()

    # Bo may only edit and delete his own messages.
    expect(hello_bo.locator(".act-edit")).to_have_count(0)
    expect(hello_bo.locator(".act-delete")).to_have_count(0)
    expect(message(bo, "Glad to be here").locator(".act-delete")).to_have_count(1)

    # Ada posts by mistake and deletes it: it disappears for Bo.
    ada.locator("#composer-input").fill("oops, wrong channel")
    ada.locator("#composer-input").press("Enter")
    expect(message(bo, "oops, wrong channel")).to_be_visible()
    oops = message(ada, "oops, wrong channel")
    oops.hover()
    oops.locator(".act-delete").click()  # the confirm dialog is accepted by the fixture
    expect(message(bo, "oops, wrong channel")).to_have_count(0)
    expect(message(ada, "oops, wrong channel")).to_have_count(0)
    assert not Message.objects.filter(content="oops, wrong channel").exists()

    # Messages in #random (sent from this process, through Redis) light up its link for Bo.
    random_link = bo.locator(f".channel-link[data-channel-id='{lab['random'].id}']")
    expect(random_link.locator(".badge-unread")).to_be_hidden()
    post(lab["ada"], lab["random"], "news in random")
    expect(random_link.locator(".badge-unread")).to_be_visible()
    expect(random_link.locator(".badge-mention")).to_be_hidden()
    post(lab["ada"], lab["random"], "@bo have a look")
    expect(random_link.locator(".badge-mention")).to_have_text("1")
    expect(message(bo, "news in random")).to_have_count(0)  # not in the open channel
    bo.screenshot(path="test-results/chat.png")

    # Opening #random clears the badges and marks it read, so they stay gone after coming back.
    random_link.click()
    expect(bo.locator("#channel-title")).to_contain_text("random")
    expect(message(bo, "have a look")).to_be_visible()
    expect(message(bo, "have a look")).to_contain_class("mentioned")
    expect(bo.locator(".channel-link.active .badge-unread")).to_be_hidden()
    expect(bo.locator(".channel-link.active .badge-mention")).to_be_hidden()
    newest = Message.objects.filter(channel=lab["random"]).latest("id").id
    wait_until(lambda: ReadState.objects.filter(user=lab["bo"], channel=lab["random"], last_read_id=newest).exists())
    bo.click(f".channel-link[data-channel-id='{lab['general'].id}']")
    expect(bo.locator("#chat")).to_have_attribute("data-gateway", "open")
    expect(random_link.locator(".badge-unread")).to_be_hidden()
    expect(random_link.locator(".badge-mention")).to_be_hidden()
    assert errors == [] and bo_errors == []


def test_history_scrolls_back_and_composer_errors_keep_the_text(live_url, new_page, lab):
    general = lab["general"]

    def seed():
        for i in range(1, 76):
            chat.send_message(author=lab["ada"], channel_id=general.id, content=f"history message {i:02d}")

    in_worker_thread(seed)
    bo = new_page()
    errors = open_channel(bo, live_url, lab["bo"], general)

    # The newest page shows; older messages arrive as Bo scrolls up, until the channel's start.
    expect(message(bo, "history message 75")).to_be_in_viewport()
    expect(message(bo, "history message 26")).to_be_visible()
    expect(message(bo, "history message 01")).to_have_count(0)
    expect(bo.locator("#history-start")).to_be_hidden()
    scroller = bo.locator("#messages")
    scroller.evaluate("el => { el.scrollTop = 0; }")
    expect(message(bo, "history message 01")).to_have_count(1)
    scroller.evaluate("el => { el.scrollTop = 0; }")
    expect(message(bo, "history message 01")).to_be_in_viewport()
    expect(bo.locator("#history-start")).to_contain_text("Welcome to #general!")
    expect(bo.locator("#message-list .msg")).to_have_count(75)
    ids = [int(x) for x in bo.locator("#message-list .msg").evaluate_all("els => els.map(e => e.dataset.id)")]
    assert ids == sorted(ids)

    # Empty and too-long messages are refused with a clear error; the typed text stays.
    composer = bo.locator("#composer-input")
    composer.fill("   ")
    composer.press("Enter")
    expect(bo.locator("#composer-error")).to_have_text("A message cannot be empty.")
    too_long = "x" * 4001
    composer.fill(too_long)
    expect(bo.locator("#composer-error")).to_be_hidden()  # typing clears the old error
    composer.press("Enter")
    expect(bo.locator("#composer-error")).to_have_text("A message is at most 4000 characters.")
    expect(composer).to_have_value(too_long)
    expect(bo.locator("#message-list .msg.pending")).to_have_count(0)
    assert not Message.objects.filter(author=lab["bo"]).exists()

    # Slow mode: the second message is refused with the server's words, and kept.
    in_worker_thread(lambda: guild_services.update_channel(actor=lab["ada"], channel=general, slowmode_seconds=60))
    composer.fill("first!")
    composer.press("Enter")
    expect(message(bo, "first!")).to_be_visible()
    composer.fill("second, too soon")
    composer.press("Enter")
    expect(bo.locator("#composer-error")).to_contain_text("Slow mode is on")
    expect(composer).to_have_value("second, too soon")
    expect(message(bo, "second, too soon")).to_have_count(0)

    # Without SEND_MESSAGES in a channel there is no composer, only a notice.
    everyone = Role.objects.get(guild=lab["guild"], is_default=True)
    in_worker_thread(lambda: guild_services.set_overwrite(actor=lab["ada"], channel=lab["random"], role=everyone,
                                                          allow=0, deny=int(Permission.SEND_MESSAGES)))
    bo.goto(channel_url(live_url, lab["random"]))
    expect(bo.locator("#composer-locked")).to_have_text("You do not have permission to send messages in this channel.")
    expect(bo.locator("#composer-input")).to_have_count(0)
    assert errors == []


def test_a_dropped_connection_catches_up_on_what_it_missed(live_url, new_page, lab):
    bo = new_page()
    network = {"down": False, "sockets": []}

    def gateway(ws):
        if network["down"]:
            ws.close(code=4000, reason="network down")
            return
        ws.connect_to_server()
        network["sockets"].append(ws)

    # The page's gateway socket goes through Playwright, so the test can cut it.
    bo.route_web_socket(re.compile(r"/ws/gateway/$"), gateway)
    errors = open_channel(bo, live_url, lab["bo"], lab["general"])
    post(lab["ada"], lab["general"], "before")
    expect(message(bo, "before")).to_be_visible()

    network["down"] = True
    network["sockets"][-1].close(code=4000, reason="network down")
    expect(bo.locator("#chat-status")).to_have_text("Connection lost. Reconnecting…")
    post(lab["ada"], lab["general"], "said while Bo was away")
    time.sleep(1)  # the event is published and lost while Bo is offline
    expect(message(bo, "said while Bo was away")).to_have_count(0)

    network["down"] = False
    expect(bo.locator("#chat")).to_have_attribute("data-gateway", "open", timeout=20_000)
    expect(bo.locator("#chat-status")).to_be_hidden()
    expect(message(bo, "said while Bo was away")).to_be_visible()
    expect(message(bo, "before")).to_have_count(1)
    assert len(network["sockets"]) == 2
    # Live events flow again on the new socket.
    post(lab["ada"], lab["general"], "after")
    expect(message(bo, "after")).to_be_visible()

    # A send the server stored but whose answer was lost (a 502 from a proxy) is sent again with the
    # same nonce, and shows once: the retry gets the stored message back instead of making a copy.
    sends = []

    def lossy(route):
        sends.append(route.request.post_data_json)
        if len(sends) == 1:
            route.fetch()  # reaches the server, which stores the message
            route.fulfill(status=502, body="Bad Gateway")
        else:
            route.continue_()

    bo.route(re.compile(r"/api/channels/\d+/messages$"), lossy)
    bo.locator("#composer-input").fill("said once")
    with bo.expect_response(lambda r: r.request.method == "POST" and r.status == 200) as retried:
        bo.locator("#composer-input").press("Enter")
    assert len(sends) == 2 and retried.value.json()["content"] == "said once"  # the retry's answer
    expect(bo.locator("#message-list .msg.pending")).to_have_count(0)
    expect(bo.locator("#composer-error")).to_be_hidden()
    assert sends[0]["nonce"] and sends[1] == sends[0]
    assert Message.objects.filter(content="said once").count() == 1
    expect(message(bo, "said once")).to_have_count(1)
    assert errors == []
