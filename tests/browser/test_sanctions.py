"""What a sanctioned member is told, in a real browser: a timeout says until when, in the reader's
own time zone, whether it was there when the page opened or came while it was open."""
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from apps.guilds import services as guild_services
from apps.guilds.models import Member
from tests.browser.test_chat import in_worker_thread, lab, open_channel  # noqa: F401 - lab: Ada owns, Bo a member
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser]

PARIS = ZoneInfo("Europe/Paris")


def time_out(lab, minutes):  # noqa: F811
    """Bo timed out by Ada; the moment it ends, as a reader in Paris reads it on an English page."""
    def run():
        member = Member.objects.get(guild=lab["guild"], user=lab["bo"])
        guild_services.timeout_member(actor=lab["ada"], member=member, duration=timedelta(minutes=minutes))
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
