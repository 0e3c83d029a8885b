"""Search, the mentions inbox and desktop notifications, in real browsers: Bo searches, jumps to an
old message of another channel, and gets a desktop notification when Ada mentions him while his
tab is hidden."""
import re

import pytest
from playwright.sync_api import expect

from apps.chat import services as chat
from tests.browser.test_chat import in_worker_thread, lab, open_channel, post, wait_until  # noqa: F401

pytestmark = [pytest.mark.browser]

# Chromium cannot hide a headless tab, nor show a desktop notification the test can read: the page
# is told it is hidden when window.__hidden is set, and each Notification built is recorded.
FAKE_HIDDEN_TAB_AND_RECORDED_NOTIFICATIONS = """
window.__hidden = false;
window.__notes = [];
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true, get() { return window.__hidden ? "hidden" : "visible"; } });
Object.defineProperty(Document.prototype, "hidden", { configurable: true, get() { return window.__hidden; } });
const RealNotification = window.Notification;
function RecordedNotification(title, options) {
  const entry = { title, body: options && options.body, tag: options && options.tag, note: null };
  window.__notes.push(entry);
  entry.note = new RealNotification(title, options);
  return entry.note;
}
Object.defineProperty(RecordedNotification, "permission", { get: () => RealNotification.permission });
RecordedNotification.requestPermission = () => RealNotification.requestPermission();
window.Notification = RecordedNotification;
"""


def test_search_jumps_to_an_old_message_and_a_hidden_tab_notifies_mentions(live_url, new_page, lab):  # noqa: F811
    ada, bo = lab["ada"], lab["bo"]

    def history():
        old = chat.send_message(author=ada, channel_id=lab["random"].id,
                                content="The quarterly <b>roadmap</b> draft is in the wiki")
        for i in range(70):  # pushes the old message out of the first history page
            chat.send_message(author=ada, channel_id=lab["random"].id, content=f"filler {i}")
        return old

    old = in_worker_thread(history)
    page = new_page()
    page.context.grant_permissions(["notifications"], origin=live_url)
    page.add_init_script(FAKE_HIDDEN_TAB_AND_RECORDED_NOTIFICATIONS)
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

    # Bo turns desktop notifications on with the bell; the choice survives a reload.
    bell = page.locator("#notify-toggle")
    expect(bell).to_have_attribute("aria-pressed", "false")
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("localStorage.getItem('smartc.notifications')") == "on"

    # While the tab is visible, a mention shows in the page only.
    post(ada, lab["general"], "@bo are you there?")
    badge = page.locator(f".channel-link[data-channel-id='{lab['general'].id}'] .badge-mention")
    expect(badge).to_have_text("1")
    assert page.evaluate("window.__notes.length") == 0

    # Tab hidden: no notification for an ordinary message, one for a mention, with who, where and what.
    page.evaluate("window.__hidden = true")
    post(ada, lab["general"], "just chatting")
    mention = post(ada, lab["general"], "@bo the **release** is ready")
    wait_until(lambda: page.evaluate("window.__notes.length") >= 1)
    notes = page.evaluate("window.__notes.map(n => ({title: n.title, body: n.body, tag: n.tag}))")
    assert notes == [{"title": "Ada in #general", "body": "@Bo the release is ready", "tag": f"msg-{mention.id}"}]

    # @everyone pings him too; his own messages never do, even when they mention him.
    in_worker_thread(lambda: chat.send_message(author=bo, channel_id=lab["general"].id, content="@bo note to self"))
    post(ada, lab["general"], "@everyone standup in 5")
    wait_until(lambda: page.evaluate("window.__notes.length") >= 2)
    assert page.evaluate("window.__notes.map(n => n.body)") == ["@Bo the release is ready", "@everyone standup in 5"]

    # Clicking the notification brings Bo to the message in #general.
    page.evaluate("window.__hidden = false")
    page.evaluate("setTimeout(() => window.__notes[0].note.onclick(), 0)")
    expect(page).to_have_url(re.compile(rf"/channels/{lab['general'].id}\?around={mention.id}$"))
    expect(page.locator(f"#msg-{mention.id}")).to_be_in_viewport()

    # The @ button lists his mentions, newest first, without his own message.
    page.click("#mentions-toggle")
    items = page.locator("#search-results .search-result")
    expect(items).to_have_count(3)
    expect(items.nth(0).locator(".search-snippet")).to_have_text("@everyone standup in 5")
    expect(items.nth(1).locator(".search-snippet")).to_have_text("@Bo the release is ready")
    expect(items.nth(2).locator(".search-snippet")).to_have_text("@Bo are you there?")
    assert errors == []
