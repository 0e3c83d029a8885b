"""Presence in the member list, in two real browsers: who is online, a chosen status, and going
offline when the last tab closes."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_chat import lab, open_channel  # noqa: F401 (lab is a fixture)

pytestmark = [pytest.mark.browser]


def member(page, user):
    return page.locator(f'.member-list .member[data-user-id="{user.id}"]')


def test_member_list_shows_presence_live(live_url, new_page, lab):  # noqa: F811
    ada, bo, general = lab["ada"], lab["bo"], lab["general"]
    page_ada = new_page()
    open_channel(page_ada, live_url, ada, general)
    expect(member(page_ada, bo)).to_have_attribute("data-status", "offline")
    expect(member(page_ada, ada)).to_have_attribute("data-status", "online")

    page_bo = new_page()
    errors = open_channel(page_bo, live_url, bo, general)
    expect(member(page_ada, bo)).to_have_attribute("data-status", "online")
    expect(member(page_ada, bo).locator(".presence-dot")).to_have_attribute("title", "Online")

    page_bo.select_option("#presence-status", "dnd")
    expect(member(page_ada, bo)).to_have_attribute("data-status", "dnd")
    expect(member(page_bo, bo)).to_have_attribute("data-status", "dnd")

    # A second tab of Bo's keeps him present when the first one closes; the last one takes him offline.
    second = page_bo.context.new_page()
    assert second.goto(page_bo.url).ok
    expect(second.locator("#chat")).to_have_attribute("data-gateway", "open")
    page_bo.close()
    page_ada.wait_for_timeout(1500)
    expect(member(page_ada, bo)).not_to_have_attribute("data-status", "offline")
    second.close()
    expect(member(page_ada, bo)).to_have_attribute("data-status", "offline")
    assert errors == []
