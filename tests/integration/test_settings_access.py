"""Guild settings pages and their API as members see them: each page needs a permission it
administers, and nothing about a channel a member cannot view (its name, topic, threads or
overwrites) reaches them, whatever else they may manage."""
import pytest
from django.test import Client

from apps.chat.models import Message
from apps.guilds import services
from apps.guilds.models import Channel, PermissionOverwrite, Role
from apps.guilds.permissions import Permission as P
from tests.factories import PASSWORD, UserFactory, add_member, add_member_with, make_role

pytestmark = pytest.mark.django_db

SECRET_NAME, SECRET_TOPIC, THREAD_NAME = "war-room", "the merger closes friday", "merger-thread"
SECRET_WORDS = (SECRET_NAME, SECRET_TOPIC, THREAD_NAME, "Staff")


@pytest.fixture
def secret(guild, owner):
    """A text channel only the Staff role views, with a thread and an overwrite table."""
    staff = make_role(guild, name="Staff")
    channel = services.create_channel(actor=owner, guild=guild, name=SECRET_NAME, topic=SECRET_TOPIC)
    everyone = Role.objects.get(guild=guild, is_default=True)
    services.set_overwrite(actor=owner, channel=channel, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    services.set_overwrite(actor=owner, channel=channel, role=staff, allow=int(P.VIEW_CHANNEL), deny=0)
    thread = Channel.objects.create(guild=guild, parent=channel, type=Channel.Type.THREAD, name=THREAD_NAME)
    return channel, thread


def page_as(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def assert_hides_secret(response):
    html = response.content.decode()
    for word in SECRET_WORDS:
        assert word not in html, f"{word!r} shown in {response.request['PATH_INFO']} ({response.status_code})"


def settings_urls(guild, secret):
    channel, thread = secret
    base = f"/guilds/{guild.id}/settings"
    return [f"{base}/channels", f"{base}/channels/{channel.id}", f"{base}/channels/{thread.id}", f"{base}/roles",
            f"{base}/roles/{Role.objects.get(guild=guild, is_default=True).id}", f"{base}/members",
            f"{base}/audit-log", f"{base}/moderation"]


def test_a_plain_member_opens_no_settings_page_and_learns_nothing_of_hidden_channels(guild, secret):
    member = add_member(guild, UserFactory(username="plain"))
    # @everyone may no longer create invites: the invites page is not theirs either.
    everyone = Role.objects.get(guild=guild, is_default=True)
    everyone.permissions &= ~int(P.CREATE_INVITE)
    everyone.save()
    client = page_as(member.user)
    general = guild.channels.get(name="general")
    for url in [*settings_urls(guild, secret), f"/guilds/{guild.id}/settings/invites",
                f"/guilds/{guild.id}/settings/channels/{general.id}"]:
        r = client.get(url)
        assert r.status_code in (403, 404), (url, r.status_code)
        assert_hides_secret(r)
    r = client.get(f"/guilds/{guild.id}/settings/channels")
    assert r.status_code == 403 and "MANAGE_CHANNELS" in r.content.decode()
    assert client.get(f"/guilds/{guild.id}/settings/channels/{secret[0].id}").status_code == 404
    overview = client.get(f"/guilds/{guild.id}/settings")  # the leave button lives there
    assert overview.status_code == 200
    assert_hides_secret(overview)
    for tab in ("/settings/channels", "/settings/roles", "/settings/members", "/settings/invites"):
        assert f"/guilds/{guild.id}{tab}" not in overview.content.decode()


def test_a_channel_manager_who_cannot_view_a_channel_never_sees_it(guild, owner, secret):
    manager = add_member_with(guild, P.MANAGE_CHANNELS, P.MANAGE_ROLES, user=UserFactory(username="mgr"))
    channel, thread = secret
    client = page_as(manager.user)
    listing = client.get(f"/guilds/{guild.id}/settings/channels")
    assert listing.status_code == 200 and "general" in listing.content.decode()
    assert_hides_secret(listing)
    for target in (channel, thread):
        r = client.get(f"/guilds/{guild.id}/settings/channels/{target.id}")
        assert r.status_code == 404
        assert_hides_secret(r)
        for action in ("delete", "overwrites/delete"):
            r = client.post(f"/guilds/{guild.id}/settings/channels/{target.id}/{action}", {"target": "role:1"})
            assert r.status_code == 404
    assert Channel.objects.filter(pk=channel.pk).exists()
    # Moving a visible channel works among the visible ones.
    general = guild.channels.get(name="general")
    assert client.post(f"/guilds/{guild.id}/settings/channels/{general.id}/move",
                       {"direction": "down"}).status_code == 302
    edit = client.get(f"/guilds/{guild.id}/settings/channels/{general.id}")
    assert edit.status_code == 200 and 'id="overwrite-form"' in edit.content.decode()


def test_the_channel_page_shows_each_section_to_who_administers_it(guild, secret):
    general = guild.channels.get(name="general")
    roles_only = add_member_with(guild, P.MANAGE_ROLES, user=UserFactory(username="perms"))
    page = page_as(roles_only.user).get(f"/guilds/{guild.id}/settings/channels/{general.id}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="overwrite-form"' in html and "Delete channel" not in html
    assert page_as(roles_only.user).get(f"/guilds/{guild.id}/settings/channels").status_code == 403


def test_each_settings_page_needs_what_it_administers(guild):
    base = f"/guilds/{guild.id}/settings"
    cases = [(P.MANAGE_CHANNELS, "/channels"), (P.MANAGE_ROLES, "/roles"), (P.MANAGE_ROLES, "/members"),
             (P.KICK_MEMBERS, "/members"),
             (P.BAN_MEMBERS, "/members"), (P.MODERATE_MEMBERS, "/members"), (P.VIEW_AUDIT_LOG, "/audit-log"),
             (P.MANAGE_GUILD, "/moderation"), (P.MANAGE_GUILD, "/invites")]
    for perm, tab in cases:
        member = add_member_with(guild, perm)
        client = page_as(member.user)
        assert client.get(base + tab).status_code == 200, (perm, tab)
        assert f'href="{base}{tab}"' in client.get(base).content.decode(), (perm, tab)
        others = {t for _, t in cases} - {t for p, t in cases if p == perm} - {"/invites"}
        for other in others:
            assert client.get(base + other).status_code == 403, (perm, other)


def test_the_api_answers_like_the_pages(api_as, guild, owner, secret):
    channel, thread = secret
    manager = add_member_with(guild, P.MANAGE_CHANNELS, P.MANAGE_ROLES, P.MANAGE_GUILD)
    api = api_as(manager.user)
    for target in (channel, thread):
        r = api.get(f"/api/channels/{target.id}/overwrites")
        assert r.status_code == 404 and SECRET_NAME not in r.content.decode()
    visible = [c["id"] for c in api.get(f"/api/guilds/{guild.id}/channels").json()]
    r = api.patch(f"/api/guilds/{guild.id}/channels", [{"id": i} for i in [channel.id, *visible]], format="json")
    assert r.status_code == 400 and "order" in r.json()["error"]["fields"]
    r = api.post(f"/api/guilds/{guild.id}/automod/rules",
                 {"name": "x", "action": "flag", "keywords": ["x"], "exempt_channel_ids": [channel.id]}, format="json")
    assert r.status_code == 400
    r = api.put(f"/api/guilds/{guild.id}/moderation/thresholds",
                {"review_at": 0.5, "hide_at": 0.9, "channel_id": channel.id}, format="json")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_channel"
    # The overwrites of a channel they view need MANAGE_CHANNELS or MANAGE_ROLES there.
    general = guild.channels.get(name="general")
    assert api.get(f"/api/channels/{general.id}/overwrites").status_code == 200
    r = api_as(add_member(guild).user).get(f"/api/channels/{general.id}/overwrites")
    assert r.status_code == 403 and r.json()["error"]["permission"] == "MANAGE_CHANNELS"
    assert api_as(owner).get(f"/api/channels/{channel.id}/overwrites").json()


def test_the_audit_log_leaves_out_what_concerns_a_channel_the_reader_cannot_view(api_as, guild, owner, secret):
    channel, _ = secret
    services.update_channel(actor=owner, channel=channel, topic=f"{SECRET_TOPIC}, again")
    message = Message.objects.create(channel=channel, author=owner, content="the numbers")
    services.record_audit(guild, owner, "message_remove", target=message,
                          reason=f"Message removed by moderation: “{SECRET_TOPIC}”")
    services.create_channel(actor=owner, guild=guild, name="open-chat")
    auditor = add_member_with(guild, P.VIEW_AUDIT_LOG, user=UserFactory(username="auditor"))
    page = page_as(auditor.user).get(f"/guilds/{guild.id}/settings/audit-log")
    assert page.status_code == 200 and "open-chat" in page.content.decode()
    assert_hides_secret(page)
    for url in (f"/api/guilds/{guild.id}/audit-log", f"/api/guilds/{guild.id}/audit-log/export?format=csv"):
        r = api_as(auditor.user).get(url)
        assert r.status_code == 200 and "open-chat" in r.content.decode()
        assert SECRET_NAME not in r.content.decode() and SECRET_TOPIC not in r.content.decode()
    # Whoever views the channel reads it all.
    everything = api_as(owner).get(f"/api/guilds/{guild.id}/audit-log/export?format=json").content.decode()
    assert SECRET_NAME in everything and SECRET_TOPIC in everything
    staff = add_member_with(guild, P.VIEW_AUDIT_LOG, user=UserFactory(username="insider"))
    staff.roles.add(Role.objects.get(guild=guild, name="Staff"))
    assert SECRET_TOPIC in api_as(staff.user).get(f"/api/guilds/{guild.id}/audit-log").content.decode()
    assert PermissionOverwrite.objects.filter(channel=channel).count() == 2


def test_the_roles_page_moves_a_role_one_place_and_stops_at_the_ends(guild, owner):
    low, high = make_role(guild, name="Low"), make_role(guild, name="High")
    services.reorder_roles(actor=owner, guild=guild, order=[high.id, low.id])
    client = page_as(owner)

    def names():
        return [r.name for r in Role.objects.filter(guild=guild, is_default=False).order_by("-position", "id")]

    top = names()
    assert top.index("High") < top.index("Low")
    url = f"/guilds/{guild.id}/settings/roles/{low.id}/move"
    assert client.post(url, {"direction": "up"}).status_code == 302
    moved = names()
    assert moved.index("Low") == top.index("High") and moved.index("High") == top.index("Low")
    for _ in range(len(moved) + 1):  # past the top, nothing changes any more
        client.post(url, {"direction": "up"})
    assert names()[0] == "Low" and sorted(names()) == sorted(top)
    assert client.post(f"/guilds/{guild.id}/settings/roles/999999/move", {"direction": "up"}).status_code == 404
