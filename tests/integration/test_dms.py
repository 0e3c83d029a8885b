"""Direct messages as users meet them, through the services and the REST API: opening DMs, group
DMs and their limits, who may reach whom, blocks, and that a DM's messages stay between its people."""
import pytest
from django.db import IntegrityError, transaction

from apps.accounts.models import Block
from apps.chat import services as chat
from apps.chat.markdown import SPOILER_MASK
from apps.chat.models import Message, Reaction
from apps.core.errors import Forbidden, NotFound, ValidationFailed
from apps.dms import selectors, services
from apps.guilds.models import Channel, DirectPair, DMRecipient
from tests.factories import UserFactory, add_member, make_guild

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(guild):
    """Five members of one guild: ada, bo, cy, dee, eve."""
    return {name: add_member(guild, UserFactory(username=name)).user for name in ("ada", "bo", "cy", "dee", "eve")}


def send(user, channel, content="hello", **kw):
    return chat.send_message(author=user, channel_id=channel.id, content=content, **kw)


def group_of(owner, *others, name=""):
    return services.create_group_dm(owner=owner, recipient_ids=[u.id for u in others], name=name)


# --- opening a 1:1 DM ---

def test_open_is_idempotent_and_symmetric(people):
    ada, bo = people["ada"], people["bo"]
    dm, created = services.open_dm(user=ada, recipient_id=bo.id)
    assert created and dm.type == "dm" and dm.guild_id is None
    assert set(DMRecipient.objects.filter(channel=dm).values_list("user_id", flat=True)) == {ada.id, bo.id}
    again, created = services.open_dm(user=ada, recipient_id=bo.id)
    assert (again, created) == (dm, False)
    assert services.open_dm(user=bo, recipient_id=ada.id) == (dm, False)
    assert Channel.objects.filter(type="dm").count() == 1


def test_messages_reactions_pins_and_history_work_on_a_dm(people):
    ada, bo = people["ada"], people["bo"]
    dm, _ = services.open_dm(user=ada, recipient_id=bo.id)
    first = send(ada, dm, "hi @everyone")
    assert first.mention_everyone is False  # no @everyone in a DM
    reply = send(bo, dm, "hey", reply_to_id=first.id)
    assert reply.reply_to == first
    assert chat.add_reaction(actor=bo, message=first, emoji="👍")
    chat.pin_message(actor=bo, message=first)  # recipients pin, as in Discord
    first.refresh_from_db()
    assert first.pinned_at is not None
    with pytest.raises(Forbidden):
        chat.delete_message(actor=bo, message=first)  # but nobody deletes the other's messages
    chat.ack_message(user=ada, channel_id=dm.id, message_id=reply.id)
    [entry] = selectors.dm_list(bo)
    assert (entry["unread"], entry["last_message"]["id"]) == (1, reply.id)  # ada's, not bo's own
    assert selectors.dm_list(ada)[0]["unread"] == 0


def test_a_dm_preview_shows_names_and_no_markdown_and_hides_spoilers(people):
    ada, bo = people["ada"], people["bo"]
    dm, _ = services.open_dm(user=ada, recipient_id=bo.id)
    send(ada, dm, "@bo **ending**: ||the butler did it||")
    [entry] = selectors.dm_list(bo)
    assert entry["last_message"]["content"] == f"@{bo.shown_name} ending: {SPOILER_MASK}"


def test_mentions_in_a_dm_ping_its_recipients_only(people):
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    group = group_of(ada, bo)
    msg = send(ada, group, "@bo look, and @cy is not here")
    assert msg.content == f"<@{bo.id}> look, and @cy is not here"
    assert list(msg.mentions.values_list("id", flat=True)) == [bo.id]
    assert f"@{bo.shown_name}" in msg.content_html and "@cy" in msg.content_html
    assert selectors.dm_list(bo)[0]["mentions"] == 1
    assert not Message.objects.filter(mentions=cy).exists()


def test_slowmode_does_not_apply(people):
    ada, bo = people["ada"], people["bo"]
    dm, _ = services.open_dm(user=ada, recipient_id=bo.id)
    for i in range(5):
        send(ada, dm, f"message {i}")
    assert Message.objects.filter(channel=dm).count() == 5
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.filter(pk=dm.pk).update(slowmode_seconds=30)


def test_the_database_keeps_dm_channels_honest(guild, people):
    ada, bo = people["ada"], people["bo"]
    dm, _ = services.open_dm(user=ada, recipient_id=bo.id)
    for bad in (lambda: Channel.objects.create(guild=None, type="text", name="orphan"),
                lambda: Channel.objects.create(guild=guild, type="dm", name=""),
                lambda: Channel.objects.create(guild=None, type="dm", name="", owner=ada),
                lambda: DirectPair.objects.create(channel=Channel.objects.create(guild=None, type="dm", name=""),
                                                  user_low=min(ada, bo, key=lambda u: u.id),
                                                  user_high=max(ada, bo, key=lambda u: u.id)),
                lambda: DMRecipient.objects.create(channel=dm, user=ada)):
        with pytest.raises(IntegrityError), transaction.atomic():
            bad()


def test_open_over_the_api_is_201_then_200(people, api_as):
    ada, bo = people["ada"], people["bo"]
    first = api_as(ada).post("/api/users/@me/channels", {"recipient_id": bo.id}, format="json")
    assert first.status_code == 201
    body = first.json()
    assert (body["type"], body["guild_id"], body["owner_id"], body["unread"]) == ("dm", None, None, 0)
    assert {r["username"] for r in body["recipients"]} == {"ada", "bo"}
    again = api_as(bo).post("/api/users/@me/channels", {"recipient_id": ada.id}, format="json")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])


@pytest.mark.parametrize("bad", [0, -3, "7", None, True])
def test_open_with_a_bad_id_is_refused(people, bad):
    with pytest.raises(ValidationFailed) as exc:
        services.open_dm(user=people["ada"], recipient_id=bad)
    assert "recipient_id" in exc.value.fields
    assert not Channel.objects.filter(guild=None).exists()


def test_open_refuses_self_unknown_and_strangers(people):
    ada = people["ada"]
    with pytest.raises(ValidationFailed) as exc:
        services.open_dm(user=ada, recipient_id=ada.id)
    assert exc.value.fields == {"recipient_id": ["You cannot message yourself."]}
    with pytest.raises(NotFound) as exc:
        services.open_dm(user=ada, recipient_id=999_999)
    assert exc.value.code == "unknown_user"
    stranger = make_guild(name="Elsewhere").owner
    with pytest.raises(Forbidden) as exc:
        services.open_dm(user=ada, recipient_id=stranger.id)
    assert exc.value.code == "no_shared_guild"
    assert exc.value.message == "You can only message people you share a guild with."
    assert not Channel.objects.filter(guild=None).exists() and not DMRecipient.objects.exists()


# --- who can see a DM ---

def test_non_recipients_get_404_on_everything(people, api_as):
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    dm, _ = services.open_dm(user=ada, recipient_id=bo.id)
    msg = send(ada, dm, "between us")
    api = api_as(cy)
    for method, path, body in [
        ("get", f"/api/channels/{dm.id}/messages", None),
        ("post", f"/api/channels/{dm.id}/messages", {"content": "let me in"}),
        ("get", f"/api/channels/{dm.id}/messages/{msg.id}", None),
        ("put", f"/api/channels/{dm.id}/messages/{msg.id}/reactions/👍/@me", None),
        ("get", f"/api/channels/{dm.id}/pins", None),
        ("put", f"/api/channels/{dm.id}/pins/{msg.id}", None),
        ("post", f"/api/channels/{dm.id}/ack", {"message_id": msg.id}),
        ("post", f"/api/channels/{dm.id}/typing", None),
        ("get", f"/api/channels/{dm.id}", None),
        ("patch", f"/api/channels/{dm.id}", {"name": "mine"}),
    ]:
        res = getattr(api, method)(path, body, format="json")
        assert res.status_code == 404, (method, path, res.content)
        assert res.json()["error"]["code"] == "not_found"
    assert Message.objects.filter(channel=dm).count() == 1 and not Reaction.objects.exists()
    # The recipients use the same endpoints.
    res = api_as(bo).get(f"/api/channels/{dm.id}/messages")
    assert [m["content"] for m in res.json()] == ["between us"]


def test_dm_channels_cannot_be_edited_like_guild_channels(people, api_as):
    ada, bo = people["ada"], people["bo"]
    dm, _ = services.open_dm(user=ada, recipient_id=bo.id)
    api = api_as(ada)
    assert api.patch(f"/api/channels/{dm.id}", {"topic": "x"}, format="json").status_code == 404
    assert api.delete(f"/api/channels/{dm.id}").status_code == 404
    assert Channel.objects.filter(pk=dm.pk).exists()
    perms = api.get(f"/api/channels/{dm.id}/permissions").json()
    assert set(perms["names"]) == {"VIEW_CHANNEL", "SEND_MESSAGES", "READ_MESSAGE_HISTORY", "ADD_REACTIONS",
                                   "ATTACH_FILES", "EMBED_LINKS"}


# --- blocks ---

def test_a_block_refuses_open_and_send_both_ways(people, api_as):
    ada, bo = people["ada"], people["bo"]
    dm, _ = services.open_dm(user=ada, recipient_id=bo.id)
    old = send(bo, dm, "before the block")
    assert api_as(ada).post(f"/api/users/@me/blocks/{bo.id}").status_code == 204
    for sender, other in ((ada, bo), (bo, ada)):
        api = api_as(sender)
        res = api.post(f"/api/channels/{dm.id}/messages", {"content": "hello?"}, format="json")
        assert res.status_code == 403
        assert res.json()["error"] == {"code": "cannot_message_user", "fields": {},
                                       "message": "You cannot send messages to this user."}
        res = api.post("/api/users/@me/channels", {"recipient_id": other.id}, format="json")
        assert (res.status_code, res.json()["error"]["code"]) == (403, "cannot_message_user")
        # What was said stays readable.
        assert [m["content"] for m in api.get(f"/api/channels/{dm.id}/messages").json()] == ["before the block"]
    with pytest.raises(Forbidden):
        chat.add_reaction(actor=ada, message=old, emoji="👍")
    with pytest.raises(Forbidden):
        chat.start_typing(user=bo, channel_id=dm.id)
    assert Message.objects.filter(channel=dm).count() == 1

    assert api_as(ada).get("/api/users/@me/blocks").json() == [
        {"id": bo.id, "username": "bo", "display_name": "Bo"}]
    assert api_as(ada).delete(f"/api/users/@me/blocks/{bo.id}").status_code == 204
    send(bo, dm, "after the unblock")
    assert api_as(ada).delete(f"/api/users/@me/blocks/{bo.id}").status_code == 404


def test_a_block_before_any_dm_refuses_opening(people):
    ada, bo = people["ada"], people["bo"]
    Block.objects.create(blocker=bo, blocked=ada)
    with pytest.raises(Forbidden):
        services.open_dm(user=ada, recipient_id=bo.id)
    with pytest.raises(Forbidden):
        services.open_dm(user=bo, recipient_id=ada.id)
    assert not Channel.objects.filter(guild=None).exists()


def test_blocking_yourself_or_nobody_is_refused(people, api_as):
    api = api_as(people["ada"])
    assert api.post(f"/api/users/@me/blocks/{people['ada'].id}").status_code == 400
    assert api.post("/api/users/@me/blocks/999999").status_code == 404
    assert not Block.objects.exists()


def test_a_blocked_user_cannot_be_added_to_a_group(people):
    ada, bo, cy, dee = people["ada"], people["bo"], people["cy"], people["dee"]
    group = group_of(ada, bo)
    Block.objects.create(blocker=ada, blocked=cy)  # ada's block keeps cy out of ada's groups
    with pytest.raises(Forbidden) as exc:
        services.add_recipient(actor=ada, channel_id=group.id, user_id=cy.id)
    assert exc.value.code == "cannot_add_user"
    Block.objects.create(blocker=bo, blocked=dee)  # a member's block too
    with pytest.raises(Forbidden):
        services.add_recipient(actor=ada, channel_id=group.id, user_id=dee.id)
    with pytest.raises(Forbidden):
        group_of(ada, cy, people["eve"])
    assert set(selectors.recipient_ids(group)) == {ada.id, bo.id}
    assert Channel.objects.filter(type="group_dm").count() == 1


# --- group DMs ---

def test_group_limits_and_bad_lists(guild, people, api_as):
    ada = people["ada"]
    more = [add_member(guild).user for _ in range(6)]
    nine = [*[people[n] for n in ("bo", "cy", "dee", "eve")], *more[:5]]
    api = api_as(ada)
    for ids, message in [
        ([u.id for u in [*nine, more[5]]], "A group has at most 10 people, you included."),
        ([people["bo"].id, people["bo"].id], "List each person only once."),
        ([people["bo"].id, ada.id], "You are in the group already: list the others."),
        ([people["bo"].id, 999_999], "Unknown user: 999999."),
        ([], "List the people to add."),
    ]:
        res = api.post("/api/users/@me/channels", {"recipient_ids": ids}, format="json")
        assert res.status_code == 400, res.content
        assert res.json()["error"]["fields"]["recipient_ids"] == [message]
    res = api.post("/api/users/@me/channels", {"recipient_ids": [people["bo"].id], "name": "x" * 101}, format="json")
    assert res.status_code == 400
    res = api.post("/api/users/@me/channels", {"recipient_id": people["bo"].id,
                                               "recipient_ids": [people["bo"].id]}, format="json")
    assert res.status_code == 400
    assert not Channel.objects.filter(guild=None).exists() and not DMRecipient.objects.exists()

    res = api.post("/api/users/@me/channels", {"recipient_ids": [u.id for u in nine], "name": " Band "},
                   format="json")
    assert res.status_code == 201
    body = res.json()
    assert (body["type"], body["name"], body["owner_id"], len(body["recipients"])) == ("group_dm", "Band", ada.id, 10)
    assert (body["unread"], body["last_message"]) == (0, None)
    res = api.put(f"/api/channels/{body['id']}/recipients/{more[5].id}")
    assert (res.status_code, res.json()["error"]["code"]) == (409, "group_full")


def test_only_the_owner_adds_and_removes_and_anyone_leaves(people, api_as):
    ada, bo, cy, dee = people["ada"], people["bo"], people["cy"], people["dee"]
    group = group_of(ada, bo, cy, name="Trio")
    res = api_as(bo).put(f"/api/channels/{group.id}/recipients/{dee.id}")
    assert (res.status_code, res.json()["error"]["code"]) == (403, "not_owner")
    assert api_as(bo).delete(f"/api/channels/{group.id}/recipients/{cy.id}").status_code == 403
    assert api_as(ada).put(f"/api/channels/{group.id}/recipients/{dee.id}").status_code == 204
    assert api_as(ada).put(f"/api/channels/{group.id}/recipients/{dee.id}").status_code == 204  # no change
    assert api_as(dee).get(f"/api/channels/{group.id}/messages").status_code == 200
    assert api_as(ada).delete(f"/api/channels/{group.id}/recipients/{dee.id}").status_code == 204
    assert api_as(dee).get(f"/api/channels/{group.id}/messages").status_code == 404

    # cy leaves; the owner leaves and the group passes to the longest-standing member.
    assert api_as(cy).delete(f"/api/channels/{group.id}/recipients/{cy.id}").status_code == 204
    assert api_as(cy).post(f"/api/channels/{group.id}/messages", {"content": "hi"}, format="json").status_code == 404
    services.remove_recipient(actor=ada, channel_id=group.id, user_id=ada.id)
    group.refresh_from_db()
    assert group.owner == bo and selectors.recipient_ids(group) == [bo.id]
    # The last one out deletes it.
    services.remove_recipient(actor=bo, channel_id=group.id, user_id=bo.id)
    assert not Channel.objects.filter(pk=group.pk).exists()


def test_a_1to1_dm_cannot_take_people_or_be_left(people):
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    dm, _ = services.open_dm(user=ada, recipient_id=bo.id)
    for call in (lambda: services.add_recipient(actor=ada, channel_id=dm.id, user_id=cy.id),
                 lambda: services.remove_recipient(actor=ada, channel_id=dm.id, user_id=ada.id),
                 lambda: services.rename_group_dm(actor=ada, channel_id=dm.id, name="x")):
        with pytest.raises(ValidationFailed) as exc:
            call()
        assert exc.value.code == "not_group_dm"
    assert DirectPair.objects.get(channel=dm).user_low_id == min(ada.id, bo.id)


def test_rename_and_list_ordered_by_activity_with_unread(people, api_as):
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    group = group_of(ada, bo, cy)
    dm, _ = services.open_dm(user=ada, recipient_id=bo.id)
    send(bo, group, "group news")
    send(bo, group, "more group news")
    api = api_as(ada)
    listed = api.get("/api/users/@me/channels").json()
    assert [c["id"] for c in listed] == [group.id, dm.id]
    assert (listed[0]["unread"], listed[0]["last_message"]["content"]) == (2, "more group news")
    assert listed[0]["last_message"]["author"] == {"id": bo.id, "display_name": "Bo"}
    send(bo, dm, "psst")
    listed = api.get("/api/users/@me/channels").json()
    assert [(c["id"], c["unread"]) for c in listed] == [(dm.id, 1), (group.id, 2)]
    assert sorted(r["id"] for r in listed[0]["recipients"]) == sorted([ada.id, bo.id])

    res = api_as(cy).patch(f"/api/users/@me/channels/{group.id}", {"name": "  Weekend  "}, format="json")
    assert (res.status_code, res.json()["name"]) == (200, "Weekend")
    assert api_as(people["dee"]).patch(f"/api/users/@me/channels/{group.id}", {"name": "x"},
                                       format="json").status_code == 404
    assert api_as(people["dee"]).get("/api/users/@me/channels").json() == []


# --- pages ---

def test_pages_open_a_dm_from_the_member_list_and_show_it_only_to_recipients(guild, people, client):
    ada, bo = people["ada"], people["bo"]
    client.force_login(ada)
    page = client.get(f"/guilds/{guild.id}/channels/{guild.channels.get(name='general').id}").content.decode()
    assert f'form="dm-open-form" name="user_id" value="{bo.id}"' in page
    assert f'name="user_id" value="{ada.id}"' not in page  # no Message button on yourself
    res = client.post("/channels/@me/open", {"user_id": bo.id})
    dm = Channel.objects.get(type="dm")
    assert res.status_code == 302 and res["Location"] == f"/channels/@me/{dm.id}"
    send(bo, dm, "hi from bo")
    home = client.get("/channels/@me").content.decode()
    assert '<option value="bo">Bo</option>' in home and '<option value="ada">' not in home  # the picker
    assert 'class="dm-link unread"' in home and "hi from bo" in home and ">1</span>" in home
    page = client.get(f"/channels/@me/{dm.id}").content.decode()
    assert 'id="chat"' in page and 'data-dm="true"' in page and "Message Bo" in page
    assert 'id="dm-block"' in page

    # Blocking from the DM page locks the composer for both.
    client.post(f"/channels/@me/{dm.id}/block", {"action": "block"})
    assert Block.objects.filter(blocker=ada, blocked=bo).exists()
    page = client.get(f"/channels/@me/{dm.id}").content.decode()
    assert 'id="dm-unblock"' in page and 'id="composer"' not in page
    client.force_login(bo)
    page = client.get(f"/channels/@me/{dm.id}").content.decode()
    assert "You cannot send messages to this user." in page and 'id="composer"' not in page

    client.force_login(people["cy"])
    assert client.get(f"/channels/@me/{dm.id}").status_code == 404
    res = client.post("/channels/@me/open", {"username": "nobody-here"})
    assert res.status_code == 302 and not Channel.objects.filter(type="dm").exclude(pk=dm.pk).exists()


def test_pages_create_a_group_and_manage_it(people, client):
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    client.force_login(ada)
    res = client.post("/channels/@me/group", {"usernames": "bo, cy", "name": "Crew"})
    group = Channel.objects.get(type="group_dm")
    assert res["Location"] == f"/channels/@me/{group.id}"
    assert set(selectors.recipient_ids(group)) == {ada.id, bo.id, cy.id}
    client.post(f"/channels/@me/{group.id}/group", {"action": "remove", "user_id": cy.id})
    client.post(f"/channels/@me/{group.id}/group", {"action": "add", "username": "dee"})
    client.post(f"/channels/@me/{group.id}/group", {"action": "rename", "name": "Crew 2"})
    group.refresh_from_db()
    assert group.name == "Crew 2" and set(selectors.recipient_ids(group)) == {ada.id, bo.id, people["dee"].id}
    page = client.get(f"/channels/@me/{group.id}").content.decode()
    assert "Crew 2" in page and 'id="dm-leave"' in page
    res = client.post(f"/channels/@me/{group.id}/group", {"action": "leave"})
    assert res["Location"] == "/channels/@me"
    group.refresh_from_db()
    assert group.owner == bo


def test_groups_take_only_people_who_share_a_guild_with_the_owner(people):
    ada, bo = people["ada"], people["bo"]
    stranger = make_guild(name="Elsewhere").owner
    with pytest.raises(Forbidden) as exc:
        group_of(ada, bo, stranger)
    assert exc.value.code == "no_shared_guild"
    assert not Channel.objects.filter(guild=None).exists()
    group = group_of(ada, bo)
    with pytest.raises(Forbidden):
        services.add_recipient(actor=ada, channel_id=group.id, user_id=stranger.id)
    assert set(selectors.recipient_ids(group)) == {ada.id, bo.id}
