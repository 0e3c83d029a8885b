"""Search and the mentions inbox, in real browsers: Bo searches, jumps to an old message of another
channel, and finds his mentions in the inbox (notifications: test_notifications.py)."""
import re

import pytest
from playwright.sync_api import expect

from apps.chat import services as chat
from tests.browser.test_chat import in_worker_thread, lab, open_channel, post  # noqa: F401

pytestmark = [pytest.mark.browser]

def test_search_jumps_to_an_old_message_and_lists_mentions(live_url, new_page, lab):  # noqa: F811
    ada, bo = lab["ada"], lab["bo"]

    def history():
        old = chat.send_message(author=ada, channel_id=lab["random"].id,
                                content="The quarterly <b>roadmap</b> draft is in the wiki")
        for i in range(70):  # pushes the old message out of the first history page
            chat.send_message(author=ada, channel_id=lab["random"].id, content=f"filler {i}")
        return old

    old = in_worker_thread(history)
    page = new_page()
    errors = open_channel(page, live_url, bo, lab["general"])
    expect(page.locator(f"#msg-{old.id}")).to_have_count(0)

    # Bo searches from #general; the result shows who, where, and the matched word highlighted.
    page.fill("#search-input", "roadmap")
    page.press("#search-input", "Enter")
    result = page.locator("#search-results .search-result")
    expect(result).to_have_count(1)
    expect(page.locator("#search-summary")).to_have_text("1 result")
    expect(result.locator(".msg-author")).to_have_text("Ada")
    expect(result.locator(".search-result-channel")).to_have_text("#random")
    expect(result.locator("mark")).to_have_text("roadmap")
    expect(result.locator(".search-snippet")).to_contain_text("<b>roadmap</b> draft")  # typed tags stay text
    expect(result.locator("b")).to_have_count(0)

    # A bad filter is explained, not swallowed.
    page.fill("#search-input", "from:nobody roadmap")
    page.press("#search-input", "Enter")
    expect(page.locator("#search-results .search-empty")).to_have_text("No member named nobody.")

    # Clicking the result opens #random around that old message.
    page.fill("#search-input", "roadmap in:random")
    page.press("#search-input", "Enter")
    result.click()
    expect(page).to_have_url(re.compile(rf"/channels/{lab['random'].id}\?around={old.id}$"))
    expect(page.locator("#chat")).to_have_attribute("data-gateway", "open")
    target = page.locator(f"#msg-{old.id}")
    expect(target).to_be_in_viewport()
    expect(target.locator(".msg-content")).to_contain_text("quarterly <b>roadmap</b> draft")

    # Ada mentions him, pings everyone; his own messages never count, even when they name him.
    post(ada, lab["general"], "@bo are you there?")
    badge = page.locator(f".channel-link[data-channel-id='{lab['general'].id}'] .badge-mention")
    expect(badge).to_have_text("1")
    post(ada, lab["general"], "just chatting")
    post(ada, lab["general"], "@bo the **release** is ready")
    in_worker_thread(lambda: chat.send_message(author=bo, channel_id=lab["general"].id, content="@bo note to self"))
    post(ada, lab["general"], "@everyone standup in 5")

    # The @ button lists his mentions, newest first, without his own message.
    page.click("#mentions-toggle")
    items = page.locator("#search-results .search-result")
    expect(items).to_have_count(3)
    expect(items.nth(0).locator(".search-snippet")).to_have_text("@everyone standup in 5")
    expect(items.nth(1).locator(".search-snippet")).to_have_text("@Bo the release is ready")
    expect(items.nth(2).locator(".search-snippet")).to_have_text("@Bo are you there?")
    assert errors == []
