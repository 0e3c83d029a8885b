"""Threads as members meet them, through the services and the REST API."""
from datetime import timedelta

import pytest

from apps.chat import services as chat
from apps.chat import thread_services as threads
from apps.chat.models import Message, Thread, ThreadMember
from apps.core.errors import Conflict, Forbidden, MissingPermission, NotFound, ValidationFailed
from apps.guilds import sanctions
from apps.guilds import services as guild_services
from apps.guilds.models import Channel, Role
from apps.guilds.permissions import Permission as P
from apps.guilds.selectors import visible_channels
from tests.factories import UserFactory, add_member, add_member_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def general(guild):
    return guild.channels.get(name="general")


@pytest.fixture
def starter(owner, general):
    return chat.send_message(author=owner, channel_id=general.id, content="Who wants to plan the meetup?")


def everyone(guild):
    return Role.objects.get(guild=guild, is_default=True)


def deny_everyone(owner, channel, bits):
    guild_services.set_overwrite(actor=owner, channel=channel, role=everyone(channel.guild), allow=0, deny=int(bits))


def start(user, message, name="Meetup"):
    return threads.create_thread(actor=user, channel_id=message.channel_id, message_id=message.id, name=name)


def post(user, thread, content="me!"):
    return chat.send_message(author=user, channel_id=thread.pk, content=content)


# --- creating ---

def test_create_thread_from_a_message(guild, owner, general, starter):
    thread = start(owner, starter, "  Meetup   planning ")
    ch = Channel.objects.get(pk=thread.pk)
    assert (ch.type, ch.parent_id, ch.name, ch.guild_id) == ("thread", general.id, "Meetup planning", guild.id)
    assert thread.starter_message_id == starter.id and thread.creator_id == owner.id
    assert list(ThreadMember.objects.filter(thread=thread).values_list("user_id", flat=True)) == [owner.id]
    # The thread is no channel of the sidebar or the guild's channel list.
    assert thread.pk not in [c.id for c, _ in visible_channels(guild.members.get(user=owner))]


@pytest.mark.parametrize(("name", "field"), [("", "name"), ("   ", "name"), ("x" * 101, "name")])
def test_bad_names_are_refused_and_nothing_is_created(owner, starter, name, field):
    with pytest.raises(ValidationFailed) as exc:
        start(owner, starter, name)
    assert field in exc.value.fields
    assert not Thread.objects.exists() and not Channel.objects.filter(type="thread").exists()


def test_message_of_another_channel_second_thread_and_nesting_are_refused(guild, owner, general, starter):
    other = guild_services.create_channel(actor=owner, guild=guild, name="other")
    with pytest.raises(NotFound) as exc:
        threads.create_thread(actor=owner, channel_id=other.id, message_id=starter.id, name="x")
    assert exc.value.code == "unknown_message"
    thread = start(owner, starter)
    with pytest.raises(Conflict) as exc:
        start(owner, starter, "again")
    assert exc.value.code == "thread_exists"
    inner = post(owner, thread, "inside")
    with pytest.raises(ValidationFailed) as exc:
        start(owner, inner, "nested")
    assert exc.value.code == "thread_nesting"
    voice = Channel.objects.get(guild=guild, type="voice")
    with pytest.raises(ValidationFailed) as exc:
        threads.create_thread(actor=owner, channel_id=voice.id, message_id=starter.id, name="x")
    assert exc.value.code == "invalid_channel_type"
    assert Thread.objects.count() == 1


def test_create_needs_create_threads(guild, owner, general, starter):
    m = add_member(guild)
    deny_everyone(owner, general, P.CREATE_THREADS)
    with pytest.raises(MissingPermission) as exc:
        start(m.user, starter)
    assert exc.value.permission == "CREATE_THREADS"
    assert not Thread.objects.exists()


# --- posting ---

def test_posting_counts_joins_and_thread_history_is_its_own(guild, owner, general, starter):
    m = add_member(guild)
    thread = start(owner, starter)
    post(m.user, thread, "count me in")
    post(owner, thread, "great")
    thread.refresh_from_db()
    assert thread.message_count == 2
    assert set(ThreadMember.objects.filter(thread=thread).values_list("user_id", flat=True)) == {owner.id, m.user_id}
    assert list(Message.objects.filter(channel_id=thread.pk).values_list("content", flat=True)) == [
        "count me in", "great"]
    assert list(Message.objects.filter(channel=general).values_list("id", flat=True)) == [starter.id]


def test_sending_in_a_thread_needs_send_messages_in_threads_not_send_messages(guild, owner, general, starter):
    m = add_member(guild)
    thread = start(owner, starter)
    deny_everyone(owner, general, P.SEND_MESSAGES)
    post(m.user, thread, "still fine without SEND_MESSAGES in the parent")
    deny_everyone(owner, general, P.SEND_MESSAGES_IN_THREADS)
    with pytest.raises(MissingPermission) as exc:
        post(m.user, thread, "refused")
    assert exc.value.permission == "SEND_MESSAGES_IN_THREADS"
    with pytest.raises(MissingPermission):
        chat.start_typing(user=m.user, channel_id=thread.pk)
    assert Message.objects.filter(channel_id=thread.pk).count() == 1


def test_member_who_cannot_view_the_parent_cannot_see_the_thread(guild, owner, general, starter, api_as):
    m = add_member(guild)
    thread = start(owner, starter)
    post(owner, thread, "secret plans")
    deny_everyone(owner, general, P.VIEW_CHANNEL)
    api = api_as(m.user)
    for url in (f"/api/threads/{thread.pk}", f"/api/channels/{thread.pk}/messages", f"/api/threads/{thread.pk}/members",
                f"/api/channels/{general.id}/threads"):
        res = api.get(url)
        assert res.status_code == 404, url
    assert api.post(f"/api/channels/{thread.pk}/messages", {"content": "hi"}, format="json").status_code == 404
    assert api.put(f"/api/threads/{thread.pk}/members/@me").status_code == 404
    assert Message.objects.filter(channel_id=thread.pk).count() == 1


def test_timed_out_member_can_read_but_not_post_join_or_rename(guild, owner, general, starter):
    m = add_member(guild)
    thread = threads.create_thread(actor=m.user, channel_id=general.id, message_id=starter.id, name="mine")
    sanctions.timeout_member(actor=owner, member=m, duration=timedelta(minutes=5))
    with pytest.raises(MissingPermission):
        post(m.user, thread)
    with pytest.raises(MissingPermission):
        threads.update_thread(actor=m.user, thread_id=thread.pk, name="renamed")
    access, _ = threads.access_thread(m.user, thread.pk)
    assert access.permissions & P.READ_MESSAGE_HISTORY


# --- archive, lock, rename ---

def test_archived_thread_unarchives_when_someone_posts(guild, owner, starter):
    m = add_member(guild)
    thread = start(m.user, starter)
    threads.update_thread(actor=m.user, thread_id=thread.pk, archived=True)  # the creator may archive theirs
    thread.refresh_from_db()
    assert thread.archived and thread.archived_at
    post(owner, thread, "reviving")
    thread.refresh_from_db()
    assert not thread.archived and thread.archived_at is None and thread.message_count == 1


def test_locked_thread_takes_posts_only_from_manage_threads(guild, owner, starter):
    creator = add_member(guild)
    mod = add_member_with(guild, P.MANAGE_THREADS)
    thread = start(creator.user, starter)
    with pytest.raises(MissingPermission) as exc:
        threads.update_thread(actor=creator.user, thread_id=thread.pk, locked=True)
    assert exc.value.permission == "MANAGE_THREADS"
    threads.update_thread(actor=mod.user, thread_id=thread.pk, locked=True, archived=True)
    with pytest.raises(Forbidden) as exc:
        post(creator.user, thread)
    assert exc.value.code == "thread_locked"
    with pytest.raises(Forbidden):
        threads.update_thread(actor=creator.user, thread_id=thread.pk, archived=False)
    post(mod.user, thread, "moderator note")
    thread.refresh_from_db()
    assert thread.locked and not thread.archived and thread.message_count == 1


def test_renaming_others_threads_needs_manage_threads(guild, owner, starter):
    creator, other = add_member(guild), add_member(guild)
    thread = start(creator.user, starter)
    with pytest.raises(MissingPermission):
        threads.update_thread(actor=other.user, thread_id=thread.pk, name="hijacked")
    with pytest.raises(MissingPermission):
        threads.update_thread(actor=other.user, thread_id=thread.pk, archived=True)
    threads.update_thread(actor=creator.user, thread_id=thread.pk, name="Better name")
    threads.update_thread(actor=owner, thread_id=thread.pk, name="Owner's name")
    assert Channel.objects.get(pk=thread.pk).name == "Owner's name"


def test_delete_thread_keeps_the_starter(guild, owner, general, starter):
    m = add_member(guild)
    thread = start(m.user, starter)
    post(m.user, thread)
    with pytest.raises(MissingPermission):
        threads.delete_thread(actor=m.user, thread_id=thread.pk)
    threads.delete_thread(actor=owner, thread_id=thread.pk)
    assert not Channel.objects.filter(pk=thread.pk).exists()
    assert Message.objects.filter(channel=general).count() == 1
    # The message is free to start a new thread.
    start(owner, starter, "Second try")


# --- REST ---

def test_rest_flow(guild, owner, general, starter, api_as):
    bob = add_member(guild, user=UserFactory(username="bob")).user
    api = api_as(owner)
    res = api.post(f"/api/channels/{general.id}/messages/{starter.id}/threads", {"name": "Meetup"}, format="json")
    assert res.status_code == 201, res.content
    t = res.json()
    assert (t["parent_id"], t["name"], t["message_count"], t["member_count"], t["archived"]) == (
        general.id, "Meetup", 0, 1, False)
    again = api.post(f"/api/channels/{general.id}/messages/{starter.id}/threads", {"name": "x"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "thread_exists"
    bad = api.post(f"/api/channels/{general.id}/messages/{starter.id}/threads", {"name": "y" * 101}, format="json")
    assert bad.status_code == 400 and "name" in bad.json()["error"]["fields"]

    api = api_as(bob)
    sent = api.post(f"/api/channels/{t['id']}/messages", {"content": "in the thread"}, format="json")
    assert sent.status_code == 201 and sent.json()["channel_id"] == t["id"]
    history = api.get(f"/api/channels/{general.id}/messages").json()
    assert history[-1]["thread"]["id"] == t["id"] and history[-1]["thread"]["message_count"] == 1
    assert [m["content"] for m in api.get(f"/api/channels/{t['id']}/messages").json()] == ["in the thread"]
    detail = api.get(f"/api/threads/{t['id']}").json()
    assert detail["me"] == {"joined": True, "can_send": True, "can_manage": False}
    members = api.get(f"/api/threads/{t['id']}/members").json()
    assert [m["username"] for m in members] == [owner.username, "bob"]
    assert api.delete(f"/api/threads/{t['id']}/members/@me").status_code == 204
    assert api.get(f"/api/threads/{t['id']}").json()["me"]["joined"] is False
    assert api.put(f"/api/threads/{t['id']}/members/@me").status_code == 204
    assert api.patch(f"/api/threads/{t['id']}", {"name": "nope"}, format="json").status_code == 403

    assert [x["id"] for x in api.get(f"/api/channels/{general.id}/threads").json()] == [t["id"]]
    api = api_as(owner)
    res = api.patch(f"/api/threads/{t['id']}", {"archived": True, "name": "Done"}, format="json")
    assert res.status_code == 200 and res.json()["archived"] and res.json()["name"] == "Done"
    assert api.get(f"/api/channels/{general.id}/threads").json() == []
    assert [x["id"] for x in api.get(f"/api/channels/{general.id}/threads?archived=true").json()] == [t["id"]]
    assert api.get("/api/threads/999999").status_code == 404
    assert api.get(f"/api/threads/{general.id}").json()["error"]["code"] == "unknown_thread"
    assert api.delete(f"/api/threads/{t['id']}").status_code == 204
    assert api.get(f"/api/channels/{general.id}/messages").json()[-1]["thread"] is None


def test_threads_are_not_edited_or_deleted_as_channels(guild, owner, starter, api_as):
    thread = start(owner, starter)
    api = api_as(owner)
    res = api.patch(f"/api/channels/{thread.pk}", {"name": "renamed"}, format="json")
    assert res.status_code == 400 and res.json()["error"]["code"] == "is_thread"
    assert api.delete(f"/api/channels/{thread.pk}").status_code == 400
    assert Channel.objects.get(pk=thread.pk).name == "Meetup"
    # A thread is no channel of the guild's list either.
    assert thread.pk not in [c["id"] for c in api.get(f"/api/guilds/{guild.id}/channels").json()]


def test_channel_page_offers_threads_only_where_they_can_start(guild, owner, general, client):
    client.force_login(owner)
    page = client.get(f"/guilds/{guild.id}/channels/{general.id}").content.decode()
    assert 'id="threads-toggle"' in page and 'data-can-create="true"' in page
    m = add_member(guild)
    deny_everyone(owner, general, P.CREATE_THREADS)
    client.force_login(m.user)
    page = client.get(f"/guilds/{guild.id}/channels/{general.id}").content.decode()
    assert 'data-can-create="false"' in page
