"""Message search and the mentions inbox, as members meet them through the REST API."""
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.chat import selectors, services, thread_services
from apps.chat.models import Message
from apps.guilds import services as guild_services
from apps.guilds.models import Role
from apps.guilds.permissions import Permission as P
from tests.factories import UserFactory, add_member, make_guild, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def general(guild):
    return guild.channels.get(name="general")


@pytest.fixture
def hidden(guild, owner):
    """A channel @everyone cannot view (only the owner can)."""
    channel = guild_services.create_channel(actor=owner, guild=guild, name="staff")
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=channel, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    return channel


def send(user, channel, content):
    return services.send_message(author=user, channel_id=channel.id, content=content)


def search(api, guild, **params):
    return api.get(f"/api/guilds/{guild.id}/messages/search", params)


def ids(response):
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


# --- search ---

def test_relevance_then_recency_with_highlighted_snippets(api_as, guild, owner, general):
    once = send(owner, general, "a long message that mentions the deploy only once among many other words here")
    twice = send(owner, general, "deploy deploy")
    older_same = send(owner, general, "deploy now")
    newer_same = send(owner, general, "deploy now")
    send(owner, general, "nothing to see")
    r = search(api_as(owner), guild, q="deploy")
    assert ids(r) == [twice.id, newer_same.id, older_same.id, once.id]
    body = r.json()
    assert body["total"] == 4 and body["capped"] is False
    first = body["results"][0]
    assert first["snippet"] == "<mark>deploy</mark> <mark>deploy</mark>"
    assert first["channel"] == {"id": general.id, "name": "general", "guild_id": guild.id}
    assert first["author"]["username"] == "owner" and first["content"] == "deploy deploy"


def test_every_word_must_match_and_words_match_as_prefixes(api_as, guild, owner, general):
    both = send(owner, general, "the releases are tagged on Fridays")
    send(owner, general, "the release notes")
    api = api_as(owner)
    assert ids(search(api, guild, q="release friday")) == [both.id]
    assert len(ids(search(api, guild, q="RELEASE"))) == 2


def test_french_accents_are_found_without_them_and_the_other_way(api_as, guild, owner, general):
    msg = send(owner, general, "Rendez-vous à la fête d'été, près du théâtre")
    api = api_as(owner)
    assert ids(search(api, guild, q="fete ete")) == [msg.id]
    assert ids(search(api, guild, q="theatre")) == [msg.id]
    assert ids(search(api, guild, q="prés")) == [msg.id]
    assert "<mark>fête</mark>" in search(api, guild, q="fete").json()["results"][0]["snippet"]


def test_snippets_never_carry_html_from_the_content(api_as, guild, owner, general):
    bob = add_member(guild, UserFactory(username="bob", display_name="Bob"))
    send(owner, general, '<img src=x onerror="alert(1)"> payload \ue000<b>bold</b>\ue001 @bob')
    result = search(api_as(owner), guild, q="payload").json()["results"][0]
    snippet = result["snippet"]
    assert "<img" not in snippet and "<b>" not in snippet and "\ue000" not in snippet
    assert "&lt;b&gt;bold&lt;/b&gt;" in snippet  # shown as the text that was typed
    assert "<mark>payload</mark>" in snippet and "@Bob" in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert bob.user_id in result["mentions"]


def test_hidden_channels_never_match_nor_count(api_as, guild, owner, general, hidden):
    member = add_member(guild)
    send(owner, hidden, "secret secret secret")  # the best match, in a channel the member cannot view
    visible = send(owner, general, "a secret that is not one")
    r = search(api_as(member.user), guild, q="secret")
    assert ids(r) == [visible.id] and r.json()["total"] == 1
    r = search(api_as(member.user), guild, q="secret", channel_id=hidden.id)
    assert ids(r) == [] and r.json()["total"] == 0
    assert len(ids(search(api_as(owner), guild, q="secret"))) == 2


def test_view_without_read_history_hides_the_channel_from_search(api_as, guild, owner, general):
    member = add_member(guild)
    send(owner, general, "archived words")
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=general, role=everyone, allow=0,
                                 deny=int(P.READ_MESSAGE_HISTORY))
    assert ids(search(api_as(member.user), guild, q="archived")) == []


def test_other_guilds_and_outsiders(api_as, guild, owner, general):
    other_guild = make_guild(owner, name="Elsewhere")
    send(owner, other_guild.channels.get(name="general"), "elsewhere words")
    assert ids(search(api_as(owner), guild, q="elsewhere")) == []
    r = search(api_as(UserFactory()), guild, q="elsewhere")
    assert r.status_code == 404


def test_filters_author_channel_link_and_dates(api_as, guild, owner, general):
    alice = add_member(guild, UserFactory(username="alice", display_name="Alice")).user
    random = guild_services.create_channel(actor=owner, guild=guild, name="random")
    a1 = send(alice, general, "plan one https://example.com/plan")
    a2 = send(alice, random, "plan two")
    o1 = send(owner, general, "plan three")
    api = api_as(owner)
    assert ids(search(api, guild, q="plan", author_id=alice.id)) == [a2.id, a1.id]
    assert ids(search(api, guild, q="plan from:alice in:general")) == [a1.id]
    assert ids(search(api, guild, q="plan", channel_id=random.id)) == [a2.id]
    assert ids(search(api, guild, q="plan", has="link")) == [a1.id]
    assert ids(search(api, guild, q="has:link")) == [a1.id]  # a filter alone is a search
    assert ids(search(api, guild, author_id=alice.id)) == [a2.id, a1.id]
    assert ids(search(api, guild, q="plan", before=o1.id)) == [a2.id, a1.id]
    assert ids(search(api, guild, q="plan", after=a1.id)) == [o1.id, a2.id]
    Message.objects.filter(pk=a1.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.now().date()
    assert ids(search(api, guild, q=f"plan before:{today - timedelta(days=1)}")) == [a1.id]
    assert ids(search(api, guild, q="plan", after=(today - timedelta(days=2)).isoformat())) == [o1.id, a2.id]
    assert ids(search(api, guild, q="plan", has="attachment")) == []


def test_has_attachment_finds_messages_sent_with_files(api_as, guild, owner, general):
    send(owner, general, "the minutes, as text")
    minutes = SimpleUploadedFile("minutes.txt", b"1. budget", content_type="text/plain")
    upload = services.upload_attachment(uploader=owner, channel_id=general.id, upload=minutes)
    with_file = services.send_message(author=owner, channel_id=general.id, content="the minutes, attached",
                                      attachment_ids=[upload.id])
    api = api_as(owner)
    assert ids(search(api, guild, q="minutes", has="attachment")) == [with_file.id]
    assert ids(search(api, guild, q="has:attachment")) == [with_file.id]


def test_thread_messages_are_found_where_their_parent_is_readable(api_as, guild, owner, general, hidden):
    alice = add_member(guild, UserFactory(username="alice")).user
    starter = send(owner, general, "release checklist")
    thread = thread_services.create_thread(actor=owner, channel_id=general.id, message_id=starter.id, name="Release")
    in_thread = services.send_message(author=owner, channel_id=thread.channel_id, content="checklist item: tag it")
    secret_starter = send(owner, hidden, "checklist for staff")
    secret = thread_services.create_thread(actor=owner, channel_id=hidden.id, message_id=secret_starter.id, name="S")
    in_secret = services.send_message(author=owner, channel_id=secret.channel_id, content="checklist: staff only")
    assert set(ids(search(api_as(owner), guild, q="checklist"))) == {starter.id, in_thread.id, secret_starter.id,
                                                                     in_secret.id}
    assert set(ids(search(api_as(alice), guild, q="checklist"))) == {starter.id, in_thread.id}


def test_limit_offset_and_the_capped_total(api_as, guild, owner, general, monkeypatch):
    sent = [send(owner, general, f"same words {i}") for i in range(8)]
    api = api_as(owner)
    newest_first = [m.id for m in reversed(sent)]
    assert ids(search(api, guild, q="same", limit=3)) == newest_first[:3]
    assert ids(search(api, guild, q="same", limit=3, offset=3)) == newest_first[3:6]
    monkeypatch.setattr(selectors, "SEARCH_TOTAL_CAP", 5)
    body = search(api, guild, q="same").json()
    assert body["total"] == 5 and body["capped"] is True and len(body["results"]) == 5


@pytest.mark.parametrize(("params", "field"), [
    ({}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "?!"}, "q"),
    ({"q": "x" * 257}, "q"),
    ({"q": "hello", "limit": 26}, "limit"),
    ({"q": "hello", "limit": 0}, "limit"),
    ({"q": "hello", "offset": -1}, "offset"),
    ({"q": "hello", "offset": 1000}, "offset"),
    ({"q": "hello", "author_id": "abc"}, "author_id"),
    ({"q": "hello", "channel_id": "1.5"}, "channel_id"),
    ({"q": "hello", "before": "yesterday"}, "before"),
    ({"q": "hello", "after": "2025-13-45"}, "after"),
    ({"q": "hello", "has": "video"}, "has"),
    ({"q": "hello has:video"}, "has"),
    ({"q": "from:nobody hello"}, "q"),
    ({"q": "in:nowhere hello"}, "q"),
])
def test_bad_input_is_a_clear_400(api_as, guild, owner, params, field):
    r = search(api_as(owner), guild, **params)
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]


def test_in_filter_cannot_name_a_hidden_channel(api_as, guild, owner, hidden):
    member = add_member(guild)
    r = search(api_as(member.user), guild, q="in:staff hello")
    assert r.status_code == 400 and "q" in r.json()["error"]["fields"]


def test_search_needs_a_session(api, guild):
    assert search(api, guild, q="hello").status_code == 401


# --- the mentions inbox ---

def test_inbox_has_user_role_and_everyone_mentions_only_where_visible(api_as, guild, owner, general, hidden):
    bob = add_member(guild, UserFactory(username="bob", display_name="Bob"))
    crew = make_role(guild, name="crew", mentionable=True)
    bob.roles.add(crew)
    other = add_member(guild).user
    direct = send(other, general, "hi @bob")
    by_role = send(other, general, f"<@&{crew.id}> meeting")
    everyone = send(owner, general, "@everyone release")
    here = send(owner, general, "@here standup")
    send(owner, hidden, "@bob you cannot see this")  # hidden channel
    send(bob.user, general, "@bob talking to myself @everyone")  # own message
    send(other, general, "no mention")
    send(other, general, "@alice is not bob")
    r = api_as(bob.user).get("/api/users/@me/mentions")
    assert r.status_code == 200
    assert [m["id"] for m in r.json()] == [here.id, everyone.id, by_role.id, direct.id]
    assert r.json()[-1]["channel"]["name"] == "general" and r.json()[-1]["snippet"] == "hi @Bob"


def test_inbox_pages_by_cursor_and_filters_by_guild(api_as, guild, owner, general):
    bob = add_member(guild, UserFactory(username="bob")).user
    sent = [send(owner, general, f"@bob ping {i}") for i in range(5)]
    elsewhere = make_guild(owner, name="Elsewhere")
    add_member(elsewhere, bob)
    far = send(owner, elsewhere.channels.get(name="general"), "@bob over here")
    api = api_as(bob)
    assert [m["id"] for m in api.get("/api/users/@me/mentions", {"limit": 2}).json()] == [far.id, sent[4].id]
    page = api.get("/api/users/@me/mentions", {"limit": 2, "before": sent[4].id}).json()
    assert [m["id"] for m in page] == [sent[3].id, sent[2].id]
    page = api.get("/api/users/@me/mentions", {"guild_id": guild.id}).json()
    assert [m["id"] for m in page] == [m.id for m in reversed(sent)]
    assert api.get("/api/users/@me/mentions", {"guild_id": make_guild(name="Not mine").id}).status_code == 404
    for bad in ({"limit": 51}, {"limit": 0}, {"before": "x"}, {"guild_id": "x"}):
        r = api.get("/api/users/@me/mentions", bad)
        assert r.status_code == 400 and r.json()["error"]["code"] == "validation_failed"


def test_ready_names_the_users_roles_so_role_mentions_can_notify(guild, owner):
    from apps.realtime.selectors import ready_state

    crew = make_role(guild, name="crew", mentionable=True)
    bob = add_member(guild, roles=[crew]).user
    assert ready_state(bob, [guild.id])[0][0]["role_ids"] == [crew.id]
    assert ready_state(owner, [guild.id])[0][0]["role_ids"] == []
