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
