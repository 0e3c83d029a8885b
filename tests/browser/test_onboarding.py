"""A newcomer's first minutes, in a real browser: sign up, create a guild, add a channel, invite a
friend who signs up from the invite link and lands in the guild."""
import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from apps.guilds.models import Guild, Member

pytestmark = [pytest.mark.browser]
PASSWORD = "a-long-browser-pass-77"


def sign_up(page, base, username, next_path=""):
    page.goto(f"{base}/accounts/signup{next_path}")
    page.fill("#id_username", username)
    page.fill("#id_display_name", username.title())
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")


def test_sign_up_create_guild_channel_and_invite_a_friend(live_url, new_page):
    # Ada signs up and creates a guild from the rail's "+".
    ada = new_page()
    sign_up(ada, live_url, "ada")
    expect(ada.locator("h1")).to_contain_text("Hello, Ada")
    ada.click(".rail-item.add")
    ada.fill("#id_name", "Analog Club")
    ada.fill("#id_description", "Tape machines and synths")
    ada.click("#create-guild button[type=submit]")
    expect(ada).to_have_url(re.compile(r"/guilds/\d+/channels/\d+$"))
    expect(ada.locator("#guild-name")).to_have_text("Analog Club")
    expect(ada.locator("#channel-title")).to_contain_text("general")

    # A bad channel name gets a clear error; a good one appears in the sidebar.
    ada.click(".gear")
    # The settings' own tab (links are followed by Turbo Drive: the chat page stays until it comes).
    ada.locator(".settings-nav").get_by_role("link", name="Channels").click()
    ada.fill("#create-channel #id_name", "")
    ada.click("#create-channel button[type=submit]")
    expect(ada.locator("#create-channel .error")).to_contain_text("This field is required")
    ada.fill("#create-channel #id_name", "Patch Notes")
    ada.select_option("#create-channel #id_type", "text")
    ada.click("#create-channel button[type=submit]")
    expect(ada.locator(".flash")).to_contain_text("Channel created")
    ada.click("text=Back to the guild")
    expect(ada.locator(".channel-link", has_text="patch-notes")).to_be_visible()

    # Ada makes an invite link.
    ada.click(".gear")
    ada.locator(".settings-nav").get_by_role("link", name="Invites").click()
    ada.click("#create-invite button[type=submit]")
    link = ada.locator("#invite-link").input_value()
    assert re.search(r"/invite/[\w-]{8}$", link)

    # Bo opens the link, signs up from it, accepts and lands in the guild.
    bo = new_page()
    bo.goto(link)
    expect(bo.locator("#invite-guild")).to_have_text("Analog Club")
    bo.click("text=Sign up to join")
    bo.fill("#id_username", "bo")
    bo.fill("#id_display_name", "Bo")
    bo.fill("#id_email", "bo@example.com")
    bo.fill("#id_password", PASSWORD)
    bo.fill("#id_password2", PASSWORD)
    bo.click("button[type=submit]")
    expect(bo.locator("#invite-guild")).to_have_text("Analog Club")
    bo.click("#accept-invite")
    expect(bo.locator("#guild-name")).to_have_text("Analog Club")
    expect(bo.locator(".member-list")).to_contain_text("Ada")
    expect(bo.locator(".member-list")).to_contain_text("Bo")
    expect(bo.locator(".channel-link", has_text="patch-notes")).to_be_visible()
    bo.screenshot(path="test-results/onboarding-bo.png", full_page=True)

    guild = Guild.objects.get(name="Analog Club")
    assert Member.objects.filter(guild=guild, user__username="bo").exists()


def test_guild_settings_tell_a_member_what_permission_is_missing(live_url, new_page):
    """A member without MANAGE_ROLES sees no role editor, only which permission it takes."""
    owner = new_page()
    sign_up(owner, live_url, "olga")
    owner.goto(f"{live_url}/guilds/new")
    owner.fill("#id_name", "Olga's Place")
    owner.click("#create-guild button[type=submit]")
    guild_url = re.sub(r"/channels/\d+$", "", owner.url)
    owner.goto(f"{guild_url}/settings/invites")
    owner.click("#create-invite button[type=submit]")
    link = owner.locator("#invite-link").input_value()

    guest = new_page()
    sign_up(guest, live_url, "gus", f"?next={urlparse(link).path}")
    guest.click("#accept-invite")
    guest.goto(f"{guild_url}/settings/roles")
    expect(guest.locator("#missing-permission")).to_contain_text("MANAGE_ROLES")
    expect(guest.locator("#create-role")).to_have_count(0)
    owner.goto(f"{guild_url}/settings/roles")
    owner.fill("#create-role #id_name", "")
    owner.click("#create-role button[type=submit]")
    expect(owner.locator("#create-role .error")).to_contain_text("This field is required")
    owner.fill("#create-role #id_name", "Boss")
    owner.check("text=Kick Members")
    owner.click("#create-role button[type=submit]")
    expect(owner.locator("#role-list")).to_contain_text("Boss")
