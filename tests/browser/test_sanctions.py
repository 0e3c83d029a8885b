"""Sanctions in a real browser: a timeout says until when, in the reader's own time zone, whether it
was there when the page opened or came while it was open; a warning reaches its member live or on
their next page; the moderator's members page fits a laptop screen and lifts a timeout in one click."""
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from apps.guilds import sanctions
from apps.guilds.models import Member
from apps.moderation.services import warn_member
from tests.browser.test_chat import in_worker_thread, lab, open_channel  # noqa: F401 - lab: Ada owns, Bo a member
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser]

PARIS = ZoneInfo("Europe/Paris")


def time_out(world, minutes):
    """Bo timed out by Ada; the moment it ends, as a reader in Paris reads it on an English page."""
    def run():
        member = Member.objects.get(guild=world["guild"], user=world["bo"])
        sanctions.timeout_member(actor=world["ada"], member=member, duration=timedelta(minutes=minutes))
        member.refresh_from_db()
        return member.timed_out_until

    return in_worker_thread(run).astimezone(PARIS).strftime("%I:%M %p")


@pytest.fixture
def paris_page(browser):
    context = browser.new_context(locale="en-US", timezone_id="Europe/Paris")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_a_timed_out_member_reads_until_when_in_their_own_time(live_url, paris_page, lab):  # noqa: F811
    errors = open_channel(paris_page, live_url, lab["bo"], lab["general"])

    # Timed out while the page is open: the refusal says until when.
    shown = time_out(lab, 20)
    paris_page.locator("#composer-input").fill("let me talk")
    paris_page.locator("#composer-input").press("Enter")
    expect(paris_page.locator("#composer-error")).to_have_text(
        re.compile(rf"^You are timed out until (.+, )?{shown}\.$"))

    # Opened while timed out: the composer's place says it, not a missing permission.
    paris_page.reload()
    locked = paris_page.locator("#composer-locked")
    expect(locked).to_have_text(re.compile(rf"^You are timed out until (.+, )?{shown}\.$"))
    expect(paris_page.locator("#composer-input")).to_have_count(0)
    assert errors == []


def test_the_members_page_fits_at_1366_px_and_lifts_a_timeout_in_one_click(live_url, browser, lab):  # noqa: F811
    context = browser.new_context(locale="en-US", timezone_id="Europe/Paris", viewport={"width": 1366, "height": 768})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    shown = time_out(lab, 45)
    page.goto(f"{live_url}/accounts/login?next=/guilds/{lab['guild'].id}/settings/members")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    # Every action of Bo's row, the Ban button last, lies inside the card: nothing cut off or hidden.
    card = page.locator("section.card", has=page.locator("h1", has_text="Members"))
    row = card.locator(f'tr[data-user-id="{lab["bo"].id}"]')
    ban = row.get_by_role("button", name="Ban")
    expect(ban).to_be_visible()
    box, ban_box = card.bounding_box(), ban.bounding_box()
    assert box["x"] <= ban_box["x"] and ban_box["x"] + ban_box["width"] <= box["x"] + box["width"], (box, ban_box)
    assert page.evaluate("() => document.querySelector('main.content').scrollWidth") <= page.evaluate(
        "() => document.querySelector('main.content').clientWidth")
    page.screenshot(path="test-results/members-1366.png")

    # The moderator sees when Bo's timeout ends and lifts it with one click.
    expect(row.locator(".member-timeout")).to_have_text(re.compile(rf"Timed out until (.+, )?{shown}"))
    row.get_by_role("button", name="Lift timeout").click()
    expect(page.locator(".flash")).to_contain_text("Timeout lifted.")
    expect(row.locator(".member-timeout")).to_have_count(0)
    expect(row.get_by_role("button", name="Lift timeout")).to_have_count(0)
    assert in_worker_thread(lambda: Member.objects.get(guild=lab["guild"], user=lab["bo"]).timed_out_until) is None
    assert errors == []
    context.close()


def warn_bo(world, reason):
    return in_worker_thread(lambda: warn_member(
        actor=world["ada"], member=Member.objects.get(guild=world["guild"], user=world["bo"]), reason=reason))


def test_a_warned_member_is_told_live_and_on_the_next_page_until_they_read_it(live_url, new_page, lab):  # noqa: F811
    warn_bo(lab, "Written while you were away.")
    bo = new_page()
    errors = open_channel(bo, live_url, lab["bo"], lab["general"])
    notices = bo.locator("#warning-notices .warning-notice")
    expect(notices).to_have_count(1)
    expect(notices.first).to_contain_text("A moderator of Synth Lab warned you")
    expect(notices.first.locator(".warning-reason")).to_have_text("Written while you were away.")
    notices.first.get_by_role("button", name="Got it").click()
    expect(notices).to_have_count(0)
    expect(bo.locator("#chat")).to_have_attribute("data-gateway", "open")  # read without leaving the page

    # Warned while the page is open: told at once, and still told after a reload until read.
    warn_bo(lab, "Keep it civil.")
    expect(notices).to_have_count(1)
    expect(notices.first.locator(".warning-reason")).to_have_text("Keep it civil.")
    bo.reload()
    expect(notices).to_have_count(1)
    notices.first.get_by_role("button", name="Got it").click()
    expect(notices).to_have_count(0)
    bo.reload()
    expect(bo.locator("#chat")).to_have_attribute("data-gateway", "open")
    expect(notices).to_have_count(0)
    assert errors == []
