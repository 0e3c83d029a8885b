"""Direct messages in two real browsers: starting a DM from the member list, the DM list's live
unread badge, a conversation both ways, and a block that stops it."""
import pytest
from playwright.sync_api import expect

from apps.guilds.models import Channel
from tests.browser.test_chat import in_worker_thread, message
from tests.factories import PASSWORD, UserFactory, add_member, make_guild

pytestmark = [pytest.mark.browser]


@pytest.fixture
def lab(transactional_db):
    """Ada owns "Synth Lab"; Bo is a member."""
    def build():
        ada = UserFactory(username="ada", display_name="Ada")
        bo = UserFactory(username="bo", display_name="Bo")
        guild = make_guild(ada, name="Synth Lab")
        add_member(guild, bo)
        return {"ada": ada, "bo": bo, "guild": guild, "general": guild.channels.get(name="general")}

    return in_worker_thread(build)


def log_in(page, base, user, next_path):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/accounts/login?next={next_path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    return errors


def test_two_users_exchange_dms_live(live_url, new_page, lab):
    ada, bo = new_page(), new_page()
    general = lab["general"]
    ada_errors = log_in(ada, live_url, lab["ada"], f"/guilds/{general.guild_id}/channels/{general.id}")
    expect(ada.locator("#chat")).to_have_attribute("data-gateway", "open")
    bo_errors = log_in(bo, live_url, lab["bo"], "/channels/@me")
    expect(bo.locator("#dm-list .dm-empty")).to_have_text("No conversations yet.")

    # Ada starts a DM from the guild's member list.
    bo_in_list = ada.locator(f'.member-list .member[data-user-id="{lab["bo"].id}"]')
    bo_in_list.hover()
    bo_in_list.locator(".member-message").click()
    expect(ada.locator("#channel-title")).to_contain_text("Bo")
    expect(ada.locator("#chat")).to_have_attribute("data-gateway", "open")
    dm = in_worker_thread(lambda: Channel.objects.get(type="dm"))
    assert ada.url.endswith(f"/channels/@me/{dm.id}")
    expect(ada.locator(f'#dm-list .dm-link.active[data-channel-id="{dm.id}"]')).to_have_count(1)

    # Bo, on the DM home, sees the new conversation appear, then its unread count grow.
    bo_link = bo.locator(f'#dm-list .dm-link[data-channel-id="{dm.id}"]')
    expect(bo_link.locator(".dm-title")).to_have_text("Ada")
    expect(bo_link.locator(".dm-unread")).to_be_hidden()
    for text in ("Hi Bo, got a minute?", "About the synth patch"):
        ada.locator("#composer-input").fill(text)
        ada.locator("#composer-input").press("Enter")
        expect(message(ada, text)).to_be_visible()
    expect(bo_link.locator(".dm-unread")).to_have_text("2")
    expect(bo_link).to_have_class("dm-link unread")
    expect(bo_link.locator(".dm-preview")).to_have_text("About the synth patch")
    expect(bo.locator("#rail-dms .rail-dm-count")).to_have_text("2")

    # Bo opens it: history is there, the badge is gone, and replies reach Ada live.
    bo_link.click()
    expect(message(bo, "Hi Bo, got a minute?")).to_be_visible()
    expect(bo.locator("#chat")).to_have_attribute("data-gateway", "open")
    expect(bo.locator(f'#dm-list .dm-link[data-channel-id="{dm.id}"] .dm-unread')).to_be_hidden()
    expect(bo.locator("#rail-dms .rail-dm-count")).to_be_hidden()
    bo.locator("#composer-input").fill("Sure, what's up?")
    bo.locator("#composer-input").press("Enter")
    reply = message(ada, "what's up")
    expect(reply.locator(".msg-author")).to_have_text("Bo")
    expect(ada.locator(f'#dm-list .dm-link[data-channel-id="{dm.id}"] .dm-unread')).to_be_hidden()  # open: read

    # Reactions and pins work in a DM; pins without any moderator role.
    first = message(bo, "Hi Bo, got a minute?")
    first.hover()
    first.locator(".act-react").click()
    bo.locator('#emoji-picker .emoji-choice[data-emoji="👍"]').click()
    expect(message(ada, "Hi Bo, got a minute?").locator('.reaction[data-emoji="👍"]')).to_contain_text("1")
    first.hover()
    first.locator(".act-pin").click()
    expect(message(ada, "Hi Bo, got a minute?")).to_have_class("msg pinned")

    # Bo blocks Ada: her next message is refused with a clear error, and nothing reaches Bo.
    bo.locator("#dm-block").click()
    expect(bo.locator("#dm-unblock")).to_be_visible()
    expect(bo.locator("#composer")).to_have_count(0)
    ada.locator("#composer-input").fill("Hello?")
    ada.locator("#composer-input").press("Enter")
    expect(ada.locator("#composer-error")).to_have_text("You cannot send messages to this user.")
    expect(ada.locator("#composer-input")).to_have_value("Hello?")  # nothing typed is lost
    expect(message(bo, "Hello?")).to_have_count(0)

    assert ada_errors == [] and bo_errors == []
