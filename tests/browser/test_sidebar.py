"""The channel sidebar follows the guild live: channels created, renamed and deleted, and channels
that a permission change reveals or hides, without a reload."""
import pytest
from playwright.sync_api import expect

from apps.guilds import services
from apps.guilds.models import Role
from apps.guilds.permissions import Permission
from tests.browser.test_chat import in_worker_thread, lab, open_channel  # noqa: F401 (lab is a fixture)

pytestmark = [pytest.mark.browser]


def test_sidebar_follows_channels_and_permissions_live(live_url, new_page, lab):  # noqa: F811
    ada, bo, guild, general, random = lab["ada"], lab["bo"], lab["guild"], lab["general"], lab["random"]
    page = new_page()
    errors = open_channel(page, live_url, bo, general)
    def link(name):
        return page.locator(".channel-sidebar .channel-link").filter(has=page.get_by_text(name, exact=True))

    news = in_worker_thread(lambda: services.create_channel(actor=ada, guild=guild, name="news",
                                                            category=general.category))
    expect(link("news")).to_have_count(1)
    in_worker_thread(lambda: services.update_channel(actor=ada, channel=news, name="headlines"))
    expect(link("headlines")).to_have_count(1)
    expect(link("news")).to_have_count(0)

    everyone = in_worker_thread(lambda: Role.objects.get(guild=guild, is_default=True))
    in_worker_thread(lambda: services.set_overwrite(actor=ada, channel=random, role=everyone, allow=0,
                                                    deny=int(Permission.VIEW_CHANNEL)))
    expect(link("random")).to_have_count(0)
    in_worker_thread(lambda: services.delete_channel(actor=ada, channel=news))
    expect(link("headlines")).to_have_count(0)
    expect(link("general")).to_have_count(1)

    later = in_worker_thread(lambda: services.create_channel(actor=ada, guild=guild, name="later",
                                                             category=general.category))
    link("later").click()
    expect(page.locator("#channel-title")).to_contain_text("later")
    assert page.url.endswith(f"/channels/{later.id}")
    assert errors == []
