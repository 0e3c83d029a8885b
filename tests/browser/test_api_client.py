"""The browsers' one HTTP client (static/js/api.js), as a reader of a channel meets it: a server that
asks to wait (503 with Retry-After) is waited for and the page then shows what it asked for, while a
write that carries no idempotency nonce is sent once, whatever the answer."""
import json
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat import lab, message, open_channel, post  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser]

UNAVAILABLE = json.dumps({"error": {"code": "service_unavailable", "fields": {},
                                    "message": "Something SmaRTC needs is not answering. Try again in a moment."}})


def test_the_history_waits_out_a_503_with_retry_after(live_url, new_page, lab):  # noqa: F811
    post(lab["ada"], lab["general"], "worth the wait")
    page = new_page()
    asked = []

    def busy_once(route):
        asked.append(time.monotonic())
        if len(asked) == 1:
            route.fulfill(status=503, headers={"Retry-After": "2"}, content_type="application/json", body=UNAVAILABLE)
        else:
            route.continue_()

    page.route(re.compile(r"/api/channels/\d+/messages\?limit=50$"), busy_once)
    errors = open_channel(page, live_url, lab["bo"], lab["general"])
    expect(message(page, "worth the wait")).to_be_visible()
    assert len(asked) == 2 and asked[1] - asked[0] >= 1.9  # it waited as long as it was asked to
    expect(page.locator("#chat-toast")).to_be_hidden()
    assert errors == []


def test_a_reaction_the_server_did_not_take_is_sent_once_and_taken_back(live_url, new_page, lab):  # noqa: F811
    post(lab["ada"], lab["general"], "react to me")
    page = new_page()
    errors = open_channel(page, live_url, lab["bo"], lab["general"])
    sent = []

    def lost(route):
        sent.append(route.request.method)
        route.fulfill(status=502, body="Bad Gateway")

    page.route(re.compile(r"/reactions/[^/]+/@me$"), lost)
    target = message(page, "react to me")
    target.hover()
    target.locator(".act-react").click()
    page.locator('#emoji-picker .emoji-choice[data-emoji="👍"]').click()
    expect(page.locator("#chat-toast")).to_have_text("Something went wrong. Try again.")
    expect(target.locator(".reaction")).to_have_count(0)
    page.wait_for_timeout(1500)  # a retry would have gone out after 0.5 s
    assert sent == ["PUT"]
    assert errors == []
