"""The guilds REST API as a client sees it: guilds, my permissions, Explore, channels and categories."""
import pytest

from apps.guilds.models import PermissionOverwrite, Role
from apps.guilds.permissions import ALL, DEFAULT_EVERYONE, Permission, names
from tests.factories import UserFactory, add_member, add_member_with, make_guild

pytestmark = pytest.mark.django_db
P = Permission


def error(response):
    return response.json()["error"]


def channel_names(api, guild_id):
    response = api.get(f"/api/guilds/{guild_id}/channels")
    assert response.status_code == 200
    return [c["name"] for c in response.json()]


# --- guilds ---

def test_list_shows_only_my_guilds(api_as, owner, guild):
    make_guild(UserFactory(), name="Someone Else's")
    mine_too = make_guild(owner, name="Second")
    response = api_as(owner).get("/api/guilds")
    assert response.status_code == 200
    assert [g["id"] for g in response.json()["results"]] == [guild.id, mine_too.id]


def test_create_guild_makes_me_owner_with_default_channels(api_as, user):
    api = api_as(user)
    response = api.post("/api/guilds", {"name": "Night Owls", "description": "Late listeners"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["description"], body["owner_id"], body["discoverable"]) == (
        "Night Owls", "Late listeners", user.id, False)
    assert api.get(f"/api/guilds/{body['id']}").json()["name"] == "Night Owls"
    assert channel_names(api, body["id"]) == ["general", "General"]
    assert [g["id"] for g in api.get("/api/guilds").json()["results"]] == [body["id"]]


def test_get_guild(api_as, owner, guild):
    body = api_as(owner).get(f"/api/guilds/{guild.id}").json()
    assert {k: body[k] for k in ("id", "name", "owner_id")} == {"id": guild.id, "name": "Test Guild",
                                                                "owner_id": owner.id}


def test_patch_guild_needs_manage_guild_and_is_visible_afterwards(api_as, guild, owner):
    member = add_member(guild)
    response = api_as(member.user).patch(f"/api/guilds/{guild.id}", {"name": "Hijacked"}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_GUILD"

    manager = add_member_with(guild, P.MANAGE_GUILD)
    api = api_as(manager.user)
    response = api.patch(f"/api/guilds/{guild.id}", {"name": "Renamed", "discoverable": True}, format="json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["discoverable"]) == ("Renamed", True)
    body = api_as(owner).get(f"/api/guilds/{guild.id}").json()
    assert (body["name"], body["discoverable"], body["description"]) == ("Renamed", True, "")


def test_only_the_owner_deletes_a_guild(api_as, guild, owner):
    admin = add_member_with(guild, P.ADMINISTRATOR)
    response = api_as(admin.user).delete(f"/api/guilds/{guild.id}")
    assert response.status_code == 403
    assert error(response)["code"] == "not_owner"
    assert api_as(admin.user).get(f"/api/guilds/{guild.id}").status_code == 200

    api = api_as(owner)
    assert api.delete(f"/api/guilds/{guild.id}").status_code == 204
    assert api.get(f"/api/guilds/{guild.id}").status_code == 404
    assert api.get("/api/guilds").json()["results"] == []


def test_transfer_ownership(api_as, guild, owner):
    heir = add_member(guild)
    response = api_as(heir.user).post(f"/api/guilds/{guild.id}/transfer", {"owner_id": heir.user_id}, format="json")
    assert response.status_code == 403
    assert error(response)["code"] == "not_owner"

    api = api_as(owner)
    stranger = UserFactory()
    response = api.post(f"/api/guilds/{guild.id}/transfer", {"owner_id": stranger.id}, format="json")
    assert response.status_code == 404
    response = api.post(f"/api/guilds/{guild.id}/transfer", {"owner_id": heir.user_id}, format="json")
    assert response.status_code == 200
    assert response.json()["owner_id"] == heir.user_id
    assert api.get(f"/api/guilds/{guild.id}").json()["owner_id"] == heir.user_id
    # The former owner is now an ordinary member: no longer all permissions, and free to leave.
    assert "MANAGE_GUILD" not in api.get(f"/api/guilds/{guild.id}/permissions").json()["names"]
    assert api.delete(f"/api/guilds/{guild.id}/members/@me").status_code == 204


def test_my_permissions(api_as, guild, owner):
    body = api_as(owner).get(f"/api/guilds/{guild.id}/permissions").json()
    assert body == {"permissions": str(int(ALL)), "names": names(ALL)}

    member = add_member(guild)
    body = api_as(member.user).get(f"/api/guilds/{guild.id}/permissions").json()
    assert body == {"permissions": str(int(DEFAULT_EVERYONE)), "names": names(DEFAULT_EVERYONE)}
    assert "VIEW_CHANNEL" in body["names"] and "MANAGE_CHANNELS" not in body["names"]


def test_my_permissions_grow_with_a_role(api_as, guild):
    member = add_member_with(guild, P.KICK_MEMBERS)
    body = api_as(member.user).get(f"/api/guilds/{guild.id}/permissions").json()
    assert int(body["permissions"]) == int(DEFAULT_EVERYONE | P.KICK_MEMBERS)
    assert "KICK_MEMBERS" in body["names"]


# --- Explore ---

def test_explore_is_open_to_anonymous_visitors_and_lists_only_discoverable_guilds(api, owner):
    listed = make_guild(owner, name="Jazz Club", discoverable=True)
    make_guild(owner, name="Secret Jazz", discoverable=False)
    other = make_guild(owner, name="Rock Cellar", discoverable=True)
    response = api.get("/api/explore")
    assert response.status_code == 200
    assert [g["id"] for g in response.json()["results"]] == [other.id, listed.id]
    response = api.get("/api/explore", {"q": "jazz"})
    assert [g["name"] for g in response.json()["results"]] == ["Jazz Club"]


# --- channels ---

def test_channel_hidden_from_everyone_is_absent_for_a_member_but_present_for_the_owner(api_as, guild, owner):
    secret = guild.channels.create(name="staff-only", position=5)
    everyone = Role.objects.get(guild=guild, is_default=True)
    PermissionOverwrite.objects.create(channel=secret, role=everyone, deny=int(P.VIEW_CHANNEL))
    member = add_member(guild)

    assert "staff-only" not in channel_names(api_as(member.user), guild.id)
    assert api_as(member.user).get(f"/api/channels/{secret.id}").status_code == 404
    assert channel_names(api_as(owner), guild.id) == ["general", "General", "staff-only"]
    assert api_as(owner).get(f"/api/channels/{secret.id}").status_code == 200


def test_create_channel(api_as, guild, owner):
    api = api_as(owner)
    category = guild.categories.get(name="Text channels")
    response = api.post(f"/api/guilds/{guild.id}/channels",
                        {"name": "Off Topic", "topic": "Anything goes", "category_id": category.id,
                         "slowmode_seconds": 30}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["type"], body["topic"], body["category_id"], body["slowmode_seconds"]) == (
        "off-topic", "text", "Anything goes", category.id, 30)
    assert api.get(f"/api/channels/{body['id']}").json() == body
    assert channel_names(api, guild.id)[-1] == "off-topic"

    response = api.post(f"/api/guilds/{guild.id}/channels", {"name": "Chill Room", "type": "voice", "user_limit": 5},
                        format="json")
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["user_limit"]) == ("Chill Room", 5)


def test_create_channel_needs_manage_channels(api_as, guild):
    member = add_member(guild)
    response = api_as(member.user).post(f"/api/guilds/{guild.id}/channels", {"name": "mine"}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_CHANNELS"
    assert "mine" not in channel_names(api_as(member.user), guild.id)


def test_create_channel_in_a_category_of_another_guild_is_refused(api_as, guild, owner):
    other = make_guild(owner, name="Other")
    response = api_as(owner).post(f"/api/guilds/{guild.id}/channels",
                                  {"name": "x", "category_id": other.categories.first().id}, format="json")
    assert response.status_code == 400
    assert "category_id" in error(response)["fields"]


def test_patch_channel(api_as, guild, owner):
    api = api_as(owner)
    general = guild.channels.get(name="general")
    response = api.patch(f"/api/channels/{general.id}", {"topic": "Say hi", "nsfw": True, "category_id": None},
                         format="json")
    assert response.status_code == 200
    body = api.get(f"/api/channels/{general.id}").json()
    assert (body["topic"], body["nsfw"], body["category_id"], body["name"]) == ("Say hi", True, None, "general")

    member = add_member(guild)
    response = api_as(member.user).patch(f"/api/channels/{general.id}", {"topic": "mine"}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_CHANNELS"
    assert api_as(member.user).get(f"/api/channels/{general.id}").json()["topic"] == "Say hi"


def test_channel_overwrite_can_take_manage_channels_away(api_as, guild):
    manager = add_member_with(guild, P.MANAGE_CHANNELS)
    general = guild.channels.get(name="general")
    PermissionOverwrite.objects.create(channel=general, role=manager.roles.get(), deny=int(P.MANAGE_CHANNELS))
    response = api_as(manager.user).patch(f"/api/channels/{general.id}", {"topic": "x"}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_CHANNELS"


def test_delete_channel(api_as, guild, owner):
    general = guild.channels.get(name="general")
    member = add_member(guild)
    response = api_as(member.user).delete(f"/api/channels/{general.id}")
    assert response.status_code == 403

    api = api_as(owner)
    assert api.delete(f"/api/channels/{general.id}").status_code == 204
    assert api.get(f"/api/channels/{general.id}").status_code == 404
    assert channel_names(api, guild.id) == ["General"]


def test_reorder_channels(api_as, guild, owner):
    api = api_as(owner)
    text = guild.channels.get(name="general")
    voice = guild.channels.get(name="General")
    new = api.post(f"/api/guilds/{guild.id}/channels", {"name": "music"}, format="json").json()
    order = [{"id": new["id"], "category_id": None}, {"id": voice.id, "category_id": voice.category_id},
             {"id": text.id, "category_id": voice.category_id}]
    response = api.patch(f"/api/guilds/{guild.id}/channels", order, format="json")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == ["music", "General", "general"]
    listed = api.get(f"/api/guilds/{guild.id}/channels").json()
    assert [(c["name"], c["category_id"]) for c in listed] == [
        ("music", None), ("General", voice.category_id), ("general", voice.category_id)]


def test_reorder_answer_does_not_reveal_channels_the_manager_cannot_see(api_as, guild):
    secret = guild.channels.create(name="staff-only", position=5)
    PermissionOverwrite.objects.create(channel=secret, role=Role.objects.get(guild=guild, is_default=True),
                                       deny=int(P.VIEW_CHANNEL))
    manager = add_member_with(guild, P.MANAGE_CHANNELS)
    api = api_as(manager.user)
    visible = api.get(f"/api/guilds/{guild.id}/channels").json()
    order = [{"id": c["id"], "category_id": c["category_id"]} for c in reversed(visible)]
    response = api.patch(f"/api/guilds/{guild.id}/channels", order, format="json")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == ["General", "general"]


def test_reorder_channels_refuses_duplicates_and_needs_permission(api_as, guild, owner):
    general = guild.channels.get(name="general")
    twice = [{"id": general.id}, {"id": general.id}]
    response = api_as(owner).patch(f"/api/guilds/{guild.id}/channels", twice, format="json")
    assert response.status_code == 400
    assert "order" in error(response)["fields"]

    member = add_member(guild)
    response = api_as(member.user).patch(f"/api/guilds/{guild.id}/channels", [{"id": general.id}], format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_CHANNELS"


# --- categories ---

def test_categories_list_create_delete(api_as, guild, owner):
    api = api_as(owner)
    response = api.get(f"/api/guilds/{guild.id}/categories")
    assert [c["name"] for c in response.json()] == ["Text channels", "Voice channels"]

    response = api.post(f"/api/guilds/{guild.id}/categories", {"name": "Games"}, format="json")
    assert response.status_code == 201
    games = response.json()
    assert (games["name"], games["guild_id"]) == ("Games", guild.id)
    chess = api.post(f"/api/guilds/{guild.id}/channels", {"name": "chess", "category_id": games["id"]},
                     format="json").json()
    assert [c["name"] for c in api.get(f"/api/guilds/{guild.id}/categories").json()] == [
        "Text channels", "Voice channels", "Games"]

    assert api.delete(f"/api/categories/{games['id']}").status_code == 204
    assert "Games" not in [c["name"] for c in api.get(f"/api/guilds/{guild.id}/categories").json()]
    # Its channels stay, uncategorised.
    assert api.get(f"/api/channels/{chess['id']}").json()["category_id"] is None


def test_categories_need_manage_channels_and_membership(api_as, guild, owner):
    member = add_member(guild)
    api = api_as(member.user)
    response = api.post(f"/api/guilds/{guild.id}/categories", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_CHANNELS"
    category = guild.categories.first()
    assert api.delete(f"/api/categories/{category.id}").status_code == 403

    outsider = api_as(UserFactory())
    assert outsider.get(f"/api/guilds/{guild.id}/categories").status_code == 404
    assert outsider.delete(f"/api/categories/{category.id}").status_code == 404
    assert category.id in [c["id"] for c in api_as(owner).get(f"/api/guilds/{guild.id}/categories").json()]


@pytest.mark.parametrize("guild_id", [2**63, 10**20])
def test_a_guild_id_past_what_a_database_holds_is_unknown_not_an_error(api_as, owner, guild, client,
                                                                       django_assert_num_queries, guild_id):
    from apps.guilds.selectors import member_of

    # SQLite (`make run`) refuses such a number in a query (OverflowError, a 500): it is never sent.
    with django_assert_num_queries(0):
        assert member_of(owner, guild_id) is None
    response = api_as(owner).get(f"/api/guilds/{guild_id}")
    assert response.status_code == 404 and error(response)["code"] == "not_found"
    client.force_login(owner)
    assert client.get(f"/guilds/{guild_id}/channels/1").status_code == 404
    assert client.get(f"/guilds/{guild_id}").status_code == 404
