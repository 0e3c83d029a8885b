"""What a quote of a message shows in a real browser (the quote above a reply, a DM's preview in
the DM list): mentions by name, no markdown signs, and a spoiler never in plain sight."""
import pytest
from playwright.sync_api import expect

from apps.chat import services as chat
from apps.chat.markdown import SPOILER_MASK
from apps.dms import services as dms
from tests.browser.test_chat import in_worker_thread, message, open_channel, post
from tests.browser.test_dms import lab, log_in  # noqa: F401 - lab: Ada owns "Synth Lab", Bo is a member

pytestmark = [pytest.mark.browser]


def test_a_reply_quotes_names_and_hides_spoilers(live_url, new_page, lab):  # noqa: F811
    ada, bo = new_page(), new_page()
    original = post(lab["ada"], lab["general"], "@bo **look**: ||the butler did it||")
    ada_errors = open_channel(ada, live_url, lab["ada"], lab["general"])
    bo_errors = open_channel(bo, live_url, lab["bo"], lab["general"])
    expected = f"@Bo look: {SPOILER_MASK}"

    # Bo replies; while the server has not answered, the optimistic copy quotes it already.
    held = []
    bo.route("**/api/channels/*/messages", lambda route: held.append(route)
             if route.request.method == "POST" else route.continue_())
    first = message(bo, "look")
    first.hover()
    first.locator(".act-reply").click()
    bo.locator("#composer-input").fill("no way")
    bo.locator("#composer-input").press("Enter")
    pending = bo.locator("#message-list .msg.pending .msg-reply-text")
    expect(pending).to_have_text(expected)
    held[0].continue_()

    for page in (ada, bo):
        quote = message(page, "no way").locator(".msg-reply-text")
        expect(quote).to_have_text(expected)
        expect(message(page, "no way").locator(".msg-reply")).not_to_contain_text("butler")

    # Ada edits the quoted message: both quotes follow, spoiler still hidden.
    in_worker_thread(lambda: chat.edit_message(actor=lab["ada"], message=original,
                                               content="**new** plan ||a twist|| for @bo"))
    for page in (ada, bo):
        expect(message(page, "no way").locator(".msg-reply-text")).to_have_text(f"new plan {SPOILER_MASK} for @Bo")
    assert ada_errors == [] and bo_errors == []


def test_a_dm_preview_quotes_names_and_hides_spoilers(live_url, new_page, lab):  # noqa: F811
    bo = new_page()
    dm = in_worker_thread(lambda: dms.open_dm(user=lab["ada"], recipient_id=lab["bo"].id)[0])
    errors = log_in(bo, live_url, lab["bo"], "/channels/@me")
    expect(bo.locator(f'#dm-list .dm-link[data-channel-id="{dm.id}"]')).to_be_visible()

    post(lab["ada"], dm, "hey @bo, **the end**: ||the butler did it||")
    preview = bo.locator(f'#dm-list .dm-link[data-channel-id="{dm.id}"] .dm-preview')
    expect(preview).to_have_text(f"hey @Bo, the end: {SPOILER_MASK}")  # told live
    bo.reload()
    expect(preview).to_have_text(f"hey @Bo, the end: {SPOILER_MASK}")  # as the server renders the list
    assert errors == []
