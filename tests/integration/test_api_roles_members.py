"""Roles, the permission bitfield on the wire, members, moderation and leaving, through the REST API."""
import pytest

from apps.guilds.permissions import DEFAULT_EVERYONE, TIMEOUT_KEEPS, Permission, names
from tests.factories import UserFactory, add_member, add_member_with, make_guild, make_role

pytestmark = pytest.mark.django_db
P = Permission


def error(response):
    return response.json()["error"]


def role_rows(api, guild_id):
    response = api.get(f"/api/guilds/{guild_id}/roles")
    assert response.status_code == 200
    return response.json()


def role_names(api, guild_id):
    return [r["name"] for r in role_rows(api, guild_id)]


def my_permissions(api, guild_id):
    response = api.get(f"/api/guilds/{guild_id}/permissions")
    assert response.status_code == 200
    return response.json()


# --- roles ---

def test_create_role_lands_just_above_everyone(api_as, guild, owner):
    api = api_as(owner)
    make_role(guild, name="Veteran")
    response = api.post(f"/api/guilds/{guild.id}/roles",
                        {"name": "Helpers", "permissions": str(int(P.KICK_MEMBERS)), "color": 0xFF8800,
                         "hoist": True}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["permissions"], body["color"], body["hoist"], body["is_default"]) == (
        "Helpers", str(int(P.KICK_MEMBERS)), 0xFF8800, True, False)
    assert role_names(api, guild.id) == ["Veteran", "Helpers", "@everyone"]


def test_creating_a_role_needs_manage_roles(api_as, guild, owner):
    member = add_member(guild)
    response = api_as(member.user).post(f"/api/guilds/{guild.id}/roles", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_ROLES"
    assert role_names(api_as(owner), guild.id) == ["@everyone"]


def test_high_permission_bits_travel_as_exact_decimal_strings(api_as, guild, owner):
    bits = int(P.VIEW_CHANNEL | P.UPLOAD_TRACKS | P.MANAGE_TRACKS)
    api = api_as(owner)
    response = api.post(f"/api/guilds/{guild.id}/roles", {"name": "Curators", "permissions": str(bits)},
                        format="json")
    assert response.status_code == 201
    role = response.json()
    assert role["permissions"] == str(bits)  # a string, never a JSON number
    assert [r["permissions"] for r in role_rows(api, guild.id) if r["id"] == role["id"]] == [str(bits)]

    more = bits | int(P.START_LISTENING_PARTY)
    response = api.patch(f"/api/guilds/{guild.id}/roles/{role['id']}", {"permissions": str(more)}, format="json")
    assert response.status_code == 200
    assert response.json()["permissions"] == str(more)
    assert [r["permissions"] for r in role_rows(api, guild.id) if r["id"] == role["id"]] == [str(more)]

    curator = add_member(guild, roles=[guild.roles.get(pk=role["id"])])
    body = my_permissions(api_as(curator.user), guild.id)
    assert isinstance(body["permissions"], str)
    assert int(body["permissions"]) == int(DEFAULT_EVERYONE) | more
    assert {"UPLOAD_TRACKS", "MANAGE_TRACKS", "START_LISTENING_PARTY"} <= set(body["names"])


def test_unknown_permission_bits_are_refused(api_as, guild, owner):
    response = api_as(owner).post(f"/api/guilds/{guild.id}/roles", {"name": "Bits", "permissions": str(1 << 62)},
                                  format="json")
    assert response.status_code == 400
    assert "permissions" in error(response)["fields"]


def test_role_hierarchy_limits_a_role_manager(api_as, guild, owner):
    lower = make_role(guild, name="lower", position=1)
    manager = add_member_with(guild, P.MANAGE_ROLES, name="manager", position=2)
    higher = make_role(guild, name="higher", position=3)
    own_role = manager.roles.get()
    api = api_as(manager.user)

    for role in (higher, own_role):
        response = api.patch(f"/api/guilds/{guild.id}/roles/{role.id}", {"name": "mine now"}, format="json")
        assert response.status_code == 403
        assert error(response)["code"] == "role_hierarchy"
    response = api.delete(f"/api/guilds/{guild.id}/roles/{higher.id}")
    assert response.status_code == 403
    assert error(response)["code"] == "role_hierarchy"

    response = api.patch(f"/api/guilds/{guild.id}/roles/{lower.id}", {"name": "juniors", "color": 0x00FF00},
                         format="json")
    assert response.status_code == 200
    assert role_names(api_as(owner), guild.id) == ["higher", "manager", "juniors", "@everyone"]


def test_a_role_manager_cannot_grant_permissions_they_lack(api_as, guild, owner):
    lower = make_role(guild, name="lower", position=1)
    manager = add_member_with(guild, P.MANAGE_ROLES, position=2)
    api = api_as(manager.user)

    response = api.patch(f"/api/guilds/{guild.id}/roles/{lower.id}", {"permissions": str(int(P.BAN_MEMBERS))},
                         format="json")
    assert response.status_code == 403
    assert (error(response)["code"], error(response)["permission"]) == ("missing_permission", "BAN_MEMBERS")
    response = api.post(f"/api/guilds/{guild.id}/roles", {"name": "Admins", "permissions": str(int(P.ADMINISTRATOR))},
                        format="json")
    assert response.status_code == 403
    assert (error(response)["code"], error(response)["permission"]) == ("missing_permission", "ADMINISTRATOR")

    rows = {r["name"]: r for r in role_rows(api_as(owner), guild.id)}
    assert "Admins" not in rows
    assert rows["lower"]["permissions"] == "0"
    # What the manager holds, they may hand out.
    response = api_as(manager.user).patch(f"/api/guilds/{guild.id}/roles/{lower.id}",
                                          {"permissions": str(int(P.MANAGE_ROLES | P.VIEW_CHANNEL))}, format="json")
    assert response.status_code == 200


def test_delete_role(api_as, guild, owner):
    role = make_role(guild, name="temp")
    member = add_member(guild, roles=[role])
    api = api_as(owner)
    assert api.delete(f"/api/guilds/{guild.id}/roles/{role.id}").status_code == 204
    assert role_names(api, guild.id) == ["@everyone"]
    assert api.get(f"/api/guilds/{guild.id}/members/{member.user_id}").json()["roles"] == []
    assert api.delete(f"/api/guilds/{guild.id}/roles/{role.id}").status_code == 404


def test_everyone_role_cannot_be_deleted(api_as, guild, owner):
    everyone = guild.roles.get(is_default=True)
    response = api_as(owner).delete(f"/api/guilds/{guild.id}/roles/{everyone.id}")
    assert response.status_code == 400
    assert error(response)["code"] == "default_role"
    assert role_names(api_as(owner), guild.id) == ["@everyone"]


def test_reorder_roles(api_as, guild, owner):
    a, b, c = (make_role(guild, name=n, position=i) for i, n in [(1, "a"), (2, "b"), (3, "c")])
    api = api_as(owner)
    response = api.patch(f"/api/guilds/{guild.id}/roles", {"order": [a.id, b.id, c.id]}, format="json")
    assert response.status_code == 200
    assert [r["name"] for r in response.json()] == ["a", "b", "c", "@everyone"]
    assert role_names(api, guild.id) == ["a", "b", "c", "@everyone"]


def test_a_role_manager_cannot_reorder_roles_at_or_above_their_own(api_as, guild, owner):
    low = make_role(guild, name="low", position=1)
    manager = add_member_with(guild, P.MANAGE_ROLES, name="manager", position=2)
    high = make_role(guild, name="high", position=3)
    response = api_as(manager.user).patch(f"/api/guilds/{guild.id}/roles", {"order": [low.id, high.id]},
                                          format="json")
    assert response.status_code == 403
    assert error(response)["code"] == "role_hierarchy"
    assert role_names(api_as(owner), guild.id) == ["high", "manager", "low", "@everyone"]


# --- members ---

def test_member_list_pages_with_a_cursor_and_shows_everyone_once(api_as, guild, owner):
    for _ in range(60):
        add_member(guild)
    api = api_as(owner)
    seen, pages = [], 0
    url = f"/api/guilds/{guild.id}/members"
    while url:
        response = api.get(url)
        assert response.status_code == 200
        body = response.json()
        seen += [m["user"]["id"] for m in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 2
    assert len(seen) == len(set(seen)) == 61
    assert set(seen) == set(guild.members.values_list("user_id", flat=True))


def test_member_list_page_size_can_be_chosen(api_as, guild, owner):
    for _ in range(4):
        add_member(guild)
    api = api_as(owner)
    first = api.get(f"/api/guilds/{guild.id}/members", {"limit": 2}).json()
    assert len(first["results"]) == 2 and first["previous"] is None
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert not {m["id"] for m in first["results"]} & {m["id"] for m in second["results"]}


def test_member_search_finds_names_by_their_start_for_the_mention_autocomplete(api_as, guild, owner):
    add_member(guild, user=UserFactory(username="adalove", display_name="Countess"))
    add_member(guild, user=UserFactory(username="zed", display_name="Adam"))
    nick = add_member(guild, user=UserFactory(username="quiet", display_name="Q"))
    nick.nickname = "Admiral"
    nick.save()
    add_member(guild, user=UserFactory(username="bob", display_name="Bob ada"))  # not at the start
    UserFactory(username="adastranger")  # not a member
    api = api_as(owner)
    found = api.get(f"/api/guilds/{guild.id}/members/search", {"query": "AD"}).json()
    assert [m["user"]["username"] for m in found] == ["adalove", "quiet", "zed"]
    assert [m["user"]["username"] for m in api.get(f"/api/guilds/{guild.id}/members/search",
                                                   {"query": "ad", "limit": 1}).json()] == ["adalove"]
    assert len(api.get(f"/api/guilds/{guild.id}/members/search").json()) == 5  # no query: the first ones


def test_member_search_refuses_bad_input_and_outsiders(api_as, guild, owner):
    api = api_as(owner)
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"query": "a" * 101}):
        response = api.get(f"/api/guilds/{guild.id}/members/search", params)
        assert response.status_code == 400, params
        assert error(response)["code"] == "validation_failed"
    assert api_as(UserFactory()).get(f"/api/guilds/{guild.id}/members/search").status_code == 404


def test_get_member(api_as, guild, owner):
    member = add_member(guild, user=UserFactory(username="marta", display_name="Marta"))
    body = api_as(owner).get(f"/api/guilds/{guild.id}/members/{member.user_id}").json()
    assert body["user"] == {"id": member.user_id, "username": "marta", "display_name": "Marta"}
    assert (body["guild_id"], body["nickname"], body["roles"], body["timed_out_until"]) == (guild.id, "", [], None)
    assert api_as(owner).get(f"/api/guilds/{guild.id}/members/{UserFactory().id}").status_code == 404


def test_patch_nickname(api_as, guild, owner):
    member = add_member(guild)
    api = api_as(owner)
    response = api.patch(f"/api/guilds/{guild.id}/members/{member.user_id}", {"nickname": "Boss"}, format="json")
    assert response.status_code == 200
    assert api.get(f"/api/guilds/{guild.id}/members/{member.user_id}").json()["nickname"] == "Boss"

    other = add_member(guild)
    api = api_as(other.user)
    response = api.patch(f"/api/guilds/{guild.id}/members/{member.user_id}", {"nickname": "Loser"}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_NICKNAMES"
    # Their own nickname needs only CHANGE_NICKNAME, which @everyone has.
    response = api.patch(f"/api/guilds/{guild.id}/members/{other.user_id}", {"nickname": "Me"}, format="json")
    assert response.status_code == 200
    assert api.get(f"/api/guilds/{guild.id}/members/{member.user_id}").json()["nickname"] == "Boss"


def test_patch_roles_changes_what_the_member_may_do(api_as, guild, owner):
    kickers = make_role(guild, permissions=P.KICK_MEMBERS, name="kickers")
    djs = make_role(guild, permissions=P.MANAGE_TRACKS, name="djs")
    member = add_member(guild)
    api = api_as(owner)
    url = f"/api/guilds/{guild.id}/members/{member.user_id}"
    response = api.patch(url, {"roles": [kickers.id, djs.id]}, format="json")
    assert response.status_code == 200
    assert sorted(response.json()["roles"]) == sorted([kickers.id, djs.id])
    assert {"KICK_MEMBERS", "MANAGE_TRACKS"} <= set(my_permissions(api_as(member.user), guild.id)["names"])

    response = api_as(owner).patch(url, {"roles": [djs.id]}, format="json")
    assert response.json()["roles"] == [djs.id]
    assert api_as(owner).get(url).json()["roles"] == [djs.id]
    assert "KICK_MEMBERS" not in my_permissions(api_as(member.user), guild.id)["names"]


def test_patch_roles_refuses_a_role_of_another_guild(api_as, guild, owner):
    foreign = make_role(make_guild(owner, name="Other"), name="foreign")
    member = add_member(guild)
    response = api_as(owner).patch(f"/api/guilds/{guild.id}/members/{member.user_id}", {"roles": [foreign.id]},
                                   format="json")
    assert response.status_code == 400
    assert "roles" in error(response)["fields"]


def test_patch_roles_refuses_everyone_by_the_field_sent(api_as, guild, owner):
    everyone = guild.roles.get(is_default=True)
    member = add_member(guild)
    response = api_as(owner).patch(f"/api/guilds/{guild.id}/members/{member.user_id}", {"roles": [everyone.id]},
                                   format="json")
    assert response.status_code == 400
    assert list(error(response)["fields"]) == ["roles"]


def test_refused_member_patch_changes_nothing(api_as, guild, owner):
    """Nickname and roles go together: when the roles are refused, the nickname stays as it was."""
    role = make_role(guild, name="regulars", position=1)
    renamer = add_member_with(guild, P.MANAGE_NICKNAMES, position=2)
    member = add_member(guild)
    url = f"/api/guilds/{guild.id}/members/{member.user_id}"
    response = api_as(renamer.user).patch(url, {"nickname": "Renamed", "roles": [role.id]}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_ROLES"
    body = api_as(owner).get(url).json()
    assert (body["nickname"], body["roles"]) == ("", [])


def test_kick(api_as, guild, owner):
    moderator = add_member_with(guild, P.KICK_MEMBERS)
    member = add_member(guild)
    api = api_as(moderator.user)
    assert api.delete(f"/api/guilds/{guild.id}/members/{member.user_id}", {"reason": "spam"},
                      format="json").status_code == 204
    assert api.get(f"/api/guilds/{guild.id}/members/{member.user_id}").status_code == 404

    kicked = api_as(member.user)
    assert kicked.get(f"/api/guilds/{guild.id}").status_code == 404
    assert kicked.get("/api/guilds").json()["results"] == []


def test_kick_refusals(api_as, guild, owner):
    moderator = add_member_with(guild, P.KICK_MEMBERS)
    member = add_member(guild)
    api = api_as(member.user)
    response = api.delete(f"/api/guilds/{guild.id}/members/{moderator.user_id}")
    assert response.status_code == 403
    assert error(response)["permission"] == "KICK_MEMBERS"

    api = api_as(moderator.user)
    response = api.delete(f"/api/guilds/{guild.id}/members/{owner.id}")
    assert response.status_code == 403
    assert error(response)["code"] == "role_hierarchy"
    response = api.delete(f"/api/guilds/{guild.id}/members/{moderator.user_id}")
    assert response.status_code == 400
    assert error(response)["code"] == "self_action"
    assert api.get(f"/api/guilds/{guild.id}/members/{owner.id}").status_code == 200


def test_timeout_leaves_only_reading_rights_until_lifted(api_as, guild):
    moderator = add_member_with(guild, P.MODERATE_MEMBERS)
    member = add_member(guild)
    url = f"/api/guilds/{guild.id}/members/{member.user_id}/timeout"
    response = api_as(moderator.user).post(url, {"seconds": 600, "reason": "cool down"}, format="json")
    assert response.status_code == 200
    assert response.json()["timed_out_until"] is not None

    api = api_as(member.user)
    assert my_permissions(api, guild.id) == {"permissions": str(int(TIMEOUT_KEEPS)),
                                             "names": ["VIEW_CHANNEL", "READ_MESSAGE_HISTORY"]}
    response = api.post(f"/api/guilds/{guild.id}/invites", {}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "CREATE_INVITE"

    response = api_as(moderator.user).post(url, {"seconds": 0}, format="json")
    assert response.status_code == 200
    assert response.json()["timed_out_until"] is None
    assert my_permissions(api_as(member.user), guild.id)["names"] == names(DEFAULT_EVERYONE)


def test_timeout_refusals(api_as, guild, owner):
    moderator = add_member_with(guild, P.MODERATE_MEMBERS)
    member = add_member(guild)
    response = api_as(member.user).post(f"/api/guilds/{guild.id}/members/{moderator.user_id}/timeout",
                                        {"seconds": 60}, format="json")
    assert response.status_code == 403
    assert error(response)["permission"] == "MODERATE_MEMBERS"

    api = api_as(moderator.user)
    response = api.post(f"/api/guilds/{guild.id}/members/{owner.id}/timeout", {"seconds": 60}, format="json")
    assert response.status_code == 403
    assert error(response)["code"] == "role_hierarchy"
    response = api.post(f"/api/guilds/{guild.id}/members/{member.user_id}/timeout", {"seconds": 29 * 86400},
                        format="json")
    assert response.status_code == 400
    assert "seconds" in error(response)["fields"]
    assert api.get(f"/api/guilds/{guild.id}/members/{member.user_id}").json()["timed_out_until"] is None


# --- bans ---

def test_ban_list_and_unban(api_as, guild, owner):
    member = add_member(guild)
    api = api_as(owner)
    response = api.put(f"/api/guilds/{guild.id}/bans/{member.user_id}", {"reason": "raiding"}, format="json")
    assert response.status_code == 201
    assert (response.json()["user"]["id"], response.json()["reason"]) == (member.user_id, "raiding")
    assert api.get(f"/api/guilds/{guild.id}/members/{member.user_id}").status_code == 404
    assert api_as(member.user).get(f"/api/guilds/{guild.id}").status_code == 404

    api = api_as(owner)
    outsider = UserFactory()
    assert api.put(f"/api/guilds/{guild.id}/bans/{outsider.id}", {}, format="json").status_code == 201
    bans = api.get(f"/api/guilds/{guild.id}/bans").json()["results"]
    assert [b["user"]["id"] for b in bans] == [outsider.id, member.user_id]

    response = api.put(f"/api/guilds/{guild.id}/bans/{member.user_id}", {}, format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "already_banned"

    assert api.delete(f"/api/guilds/{guild.id}/bans/{member.user_id}").status_code == 204
    assert [b["user"]["id"] for b in api.get(f"/api/guilds/{guild.id}/bans").json()["results"]] == [outsider.id]
    assert api.delete(f"/api/guilds/{guild.id}/bans/{member.user_id}").status_code == 404


def test_bans_need_ban_members(api_as, guild, owner):
    member = add_member(guild)
    other = add_member(guild)
    api = api_as(member.user)
    for response in (api.get(f"/api/guilds/{guild.id}/bans"),
                     api.put(f"/api/guilds/{guild.id}/bans/{other.user_id}", {}, format="json")):
        assert response.status_code == 403
        assert error(response)["permission"] == "BAN_MEMBERS"
    assert api_as(owner).get(f"/api/guilds/{guild.id}/members/{other.user_id}").status_code == 200

    moderator = add_member_with(guild, P.BAN_MEMBERS)
    response = api_as(moderator.user).put(f"/api/guilds/{guild.id}/bans/{owner.id}", {}, format="json")
    assert response.status_code == 403
    assert error(response)["code"] == "role_hierarchy"


# --- leaving ---

def test_a_member_leaves(api_as, guild, owner):
    member = add_member(guild)
    api = api_as(member.user)
    assert api.delete(f"/api/guilds/{guild.id}/members/@me").status_code == 204
    assert api.get(f"/api/guilds/{guild.id}").status_code == 404
    assert api_as(owner).get(f"/api/guilds/{guild.id}/members/{member.user_id}").status_code == 404


def test_the_owner_cannot_leave(api_as, guild, owner):
    api = api_as(owner)
    response = api.delete(f"/api/guilds/{guild.id}/members/@me")
    assert response.status_code == 409
    assert error(response)["code"] == "owner_cannot_leave"
    assert api.get(f"/api/guilds/{guild.id}").status_code == 200

