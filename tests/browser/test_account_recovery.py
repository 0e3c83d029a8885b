"""A member who forgot their password gets back in through the mail, in a real browser; the sessions
page signs another browser out, and that browser's live chat socket closes."""
import re

import pytest
from playwright.sync_api import expect

from apps.accounts.models import User
from tests import servers
from tests.factories import PASSWORD, UserFactory, make_guild
from tests.mail import link_in, smtp_server

pytestmark = [pytest.mark.browser]
NEW_PASSWORD = "back-in-through-the-mail-7"


@pytest.fixture
def mailbox(live_url):
    with smtp_server() as box, servers.celery_worker(queues="default", env={"EMAIL_URL": box.url}):
        yield box


def verified_user(username):
    user = UserFactory(username=username, email=f"{username}@example.com")
    User.objects.filter(pk=user.pk).update(email_verified=True)
    return user


def log_in(page, base, login, password, next_path="/"):
    page.goto(f"{base}/accounts/login?next={next_path}")
    page.fill("#id_username", login)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_forgot_password_mail_new_password_log_in(live_url, new_page, mailbox):
    verified_user("rosa")
    page = new_page()
    page.goto(f"{live_url}/accounts/login")
    page.click("#forgot-password")
    page.fill("#id_email", "rosa@example.com")
    page.click("button[type=submit]")
    expect(page.locator("#reset-sent")).to_contain_text("If an account has this verified address")

    link = link_in(mailbox.wait_for("rosa@example.com"))
    assert link.startswith(live_url)
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/set-password/$"))
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#reset-done")).to_be_visible()

    log_in(page, live_url, "rosa", PASSWORD)
    expect(page.locator(".errors")).to_contain_text("Wrong username, email or password.")
    log_in(page, live_url, "rosa@example.com", NEW_PASSWORD)
    expect(page.locator("h1")).to_contain_text("Hello")


def test_the_sessions_page_signs_another_browser_out(live_url, new_page):
    user = verified_user("sam")
    guild = make_guild(user, name="Quiet Place")
    general = guild.channels.get(name="general")
    laptop, phone = new_page(), new_page()
    log_in(phone, live_url, "sam", PASSWORD, f"/guilds/{guild.id}/channels/{general.id}")
    expect(phone.locator("#chat")).to_have_attribute("data-gateway", "open")
    log_in(laptop, live_url, "sam", PASSWORD, "/accounts/sessions")

    rows = laptop.locator(".session-row")
    expect(rows).to_have_count(2)
    expect(laptop.locator(".session-row", has_text="this session")).to_have_count(1)
    laptop.locator(".session-row", has_not_text="this session").get_by_role("button", name="Sign out").click()
    expect(laptop.locator(".flash-success")).to_contain_text("That session is signed out.")
    expect(rows).to_have_count(1)

    # The phone's chat socket closed at once, and its next page asks it to log in.
    expect(phone.locator("#chat")).to_have_attribute("data-gateway", "closed")
    phone.reload()
    expect(phone).to_have_url(re.compile(r"/accounts/login"))
