"""Chat as members meet it, through the services and the REST API."""
import pytest

from apps.chat import payloads, selectors, services
from apps.chat.markdown import SPOILER_MASK
from apps.chat.models import Message, Reaction, ReadState
from apps.core.errors import (
    Conflict,
    Forbidden,
    MemberTimedOut,
    MissingPermission,
    NotFound,
    RateLimited,
    ValidationFailed,
    shown_time,
)
from apps.guilds import sanctions
from apps.guilds import services as guild_services
from apps.guilds.models import Role
from apps.guilds.permissions import Permission as P
from tests.factories import UserFactory, add_member, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def general(guild):
    return guild.channels.get(name="general")


def send(user, channel, content="hello", **kw):
    return services.send_message(author=user, channel_id=channel.id, content=content, **kw)


# --- sending ---

def test_send_stores_rendered_message(owner, general):
    msg = send(owner, general, "**hi** there")
    assert msg.content_html == "<strong>hi</strong> there"
    assert Message.objects.get(pk=msg.pk).channel == general


@pytest.mark.parametrize(("content", "field"), [("", "content"), ("   ", "content"), ("x" * 4001, "content")])
def test_bad_content_is_refused_and_nothing_is_stored(owner, general, content, field):
    with pytest.raises(ValidationFailed) as exc:
        send(owner, general, content)
    assert field in exc.value.fields
    assert not Message.objects.exists()


def test_send_needs_view_and_send(guild, owner, general):
    m = add_member(guild)
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=general, role=everyone, allow=0, deny=int(P.SEND_MESSAGES))
    with pytest.raises(MissingPermission) as exc:
        send(m.user, general)
    assert exc.value.permission == "SEND_MESSAGES"
    guild_services.set_overwrite(actor=owner, channel=general, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    with pytest.raises(NotFound):
        send(m.user, general)
    with pytest.raises(NotFound):
        send(UserFactory(), general)  # not a member at all
    assert not Message.objects.exists()


def test_a_timed_out_member_is_told_until_when(api_as, guild, owner, general):
    from datetime import timedelta
    m = add_member(guild)
    sanctions.timeout_member(actor=owner, member=m, duration=timedelta(minutes=5))
    m.refresh_from_db()
    until = m.timed_out_until
    with pytest.raises(MemberTimedOut) as exc:
        send(m.user, general)
    assert isinstance(exc.value, MissingPermission) and exc.value.permission == "SEND_MESSAGES"
    r = api_as(m.user).post(f"/api/channels/{general.id}/messages", {"content": "hi"}, format="json")
    assert r.status_code == 403
    assert r.json()["error"] == {
        "code": "timed_out", "message": f"You are timed out until {shown_time(until)}.", "fields": {},
        "permission": "SEND_MESSAGES", "timed_out_until": until.isoformat()}
    assert api_as(m.user).get(f"/api/channels/{general.id}/messages").status_code == 200  # reading is kept
    assert not Message.objects.exists()


def test_a_timed_out_member_reacting_is_told_until_when(guild, owner, general):
    from datetime import timedelta
    msg = send(owner, general)
    m = add_member(guild)
    sanctions.timeout_member(actor=owner, member=m, duration=timedelta(days=2))
    with pytest.raises(MemberTimedOut) as exc:
        services.add_reaction(actor=m.user, message=msg, emoji="👍")
    assert "You are timed out until" in exc.value.message and "UTC" in exc.value.message


def test_a_member_without_the_permission_is_not_told_of_a_timeout(guild, owner, general):
    m = add_member(guild)
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=general, role=everyone, allow=0, deny=int(P.SEND_MESSAGES))
    with pytest.raises(MissingPermission) as exc:
        send(m.user, general)
    assert exc.value.code == "missing_permission"


def test_slowmode_per_member_with_manage_messages_bypass(guild, owner, general):
    guild_services.update_channel(actor=owner, channel=general, slowmode_seconds=30)
    m = add_member(guild)
    send(m.user, general, "first")
    with pytest.raises(RateLimited) as exc:
        send(m.user, general, "second")
    assert 1 <= exc.value.retry_after <= 30 and "wait" in exc.value.message
    send(add_member(guild).user, general, "someone else may")
    send(owner, general, "owner bypasses")
    send(owner, general, "again")


def test_replies_must_stay_in_the_channel(guild, owner, general):
    first = send(owner, general, "question?")
    reply = send(owner, general, "answer", reply_to_id=first.id)
    assert reply.reply_to == first
    other = guild_services.create_channel(actor=owner, guild=guild, name="other")
    with pytest.raises(ValidationFailed):
        send(owner, other, "cross", reply_to_id=first.id)


def test_a_reply_quotes_its_message_with_mentions_by_name(api_as, guild, owner, general):
    bob = add_member(guild, UserFactory(username="bob", display_name="Bob")).user
    mods = make_role(guild, name="mods", mentionable=True)
    first = send(owner, general, f"@bob and <@&{mods.id}>, ready?")
    send(bob, general, "yes", reply_to_id=first.id)
    page = api_as(bob).get(f"/api/channels/{general.id}/messages").json()
    assert page[-1]["reply_to"] == {"id": first.id, "content": "@Bob and @mods, ready?", "author": owner.shown_name}


def test_a_reply_quote_shows_no_markdown_signs_and_hides_spoilers(api_as, guild, owner, general):
    bob = add_member(guild, UserFactory(username="bob", display_name="Bob")).user
    first = send(owner, general, "@bob **look**: ||the butler did it|| `code`\n> quoted")
    reply = send(bob, general, "no way", reply_to_id=first.id)
    quote = api_as(bob).get(f"/api/channels/{general.id}/messages").json()[-1]["reply_to"]["content"]
    assert quote == f"@Bob look: {SPOILER_MASK} code quoted"
    assert payloads.message_payload(reply)["reply_to"]["content"] == quote  # the live event quotes alike
    assert "butler" not in quote and "||" not in quote and "**" not in quote


def test_mentions(guild, owner, general):
    bob = add_member(guild, UserFactory(username="bob", display_name="Bob"))
    mods = make_role(guild, name="mods", mentionable=False)
    plain = add_member(guild)
    msg = send(plain.user, general, f"hey @bob and <@&{mods.id}> and @everyone")
    assert msg.content.startswith(f"hey <@{bob.user_id}>")
    assert list(msg.mentions.all()) == [bob.user]
    assert not msg.mention_roles.exists()  # not mentionable, no MENTION_EVERYONE
    assert msg.mention_everyone is False
    msg = send(owner, general, f"<@&{mods.id}> @everyone")
    assert list(msg.mention_roles.all()) == [mods] and msg.mention_everyone is True
    assert "@nobody" in send(owner, general, "@nobody here").content


def test_the_answer_to_a_send_shows_its_mentions_as_the_history_does(api_as, guild, owner, general):
    bob = add_member(guild, UserFactory(username="bob", display_name="Bob")).user
    mods = make_role(guild, name="mods", mentionable=True)
    api = api_as(owner)
    answers = [api.post(f"/api/channels/{general.id}/messages", {"content": content}, format="json").json()
               for content in ("plain", "hi @bob", f"hi <@&{mods.id}>", f"@bob <@&{mods.id}>")]
    shown = [(a["mentions"], a["mention_roles"], a["attachments"]) for a in answers]
    assert shown == [([], [], []), ([bob.id], [], []), ([], [mods.id], []), ([bob.id], [mods.id], [])]
    page = api.get(f"/api/channels/{general.id}/messages").json()[-4:]
    assert shown == [(m["mentions"], m["mention_roles"], m["attachments"]) for m in page]


def test_a_channel_link_names_only_a_channel_its_author_can_see(api_as, guild, owner, general):
    secret = guild_services.create_channel(actor=owner, guild=guild, name="staff-room", category=general.category)
    random = guild_services.create_channel(actor=owner, guild=guild, name="random", category=general.category)
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=secret, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    plain = add_member(guild)
    msg = send(plain.user, general, f"go to <#{random.id}>, not <#{secret.id}>")
    assert msg.content_html == (
        f'go to <a class="mention channel-mention" data-channel-id="{random.id}" '
        f'href="/guilds/{guild.id}/channels/{random.id}" rel="noopener noreferrer nofollow">#random</a>, '
        'not <span class="mention channel-mention">#unknown</span>')
    assert "staff-room" in send(owner, general, f"see <#{secret.id}>").content_html
    edited = services.edit_message(actor=plain.user, message=msg, content=f"<#{general.id}> then")
    assert ">#general</a> then" in edited.content_html


# --- editing, deleting ---

def test_only_the_author_edits(guild, owner, general):
    m = add_member(guild)
    msg = send(m.user, general, "tpyo")
    with pytest.raises(Forbidden):
        services.edit_message(actor=owner, message=msg, content="changed")
    services.edit_message(actor=m.user, message=msg, content="typo")
    msg.refresh_from_db()
    assert msg.content == "typo" and msg.edited_at is not None


def test_delete_own_or_with_manage_messages(guild, owner, general):
    a, b = add_member(guild), add_member(guild)
    msg = send(a.user, general)
    with pytest.raises(MissingPermission):
        services.delete_message(actor=b.user, message=msg)
    services.delete_message(actor=owner, message=msg)
    assert not Message.objects.filter(pk=msg.pk).exists()


# --- reactions and pins ---

@pytest.mark.parametrize("emoji", ["👍", "❤️", "👍🏽", "👨‍👩‍👧", "🇫🇷", "1️⃣"])
def test_unicode_emoji_are_accepted(owner, general, emoji):
    msg = send(owner, general)
    assert services.add_reaction(actor=owner, message=msg, emoji=emoji) is True
    assert services.add_reaction(actor=owner, message=msg, emoji=emoji) is False  # idempotent


@pytest.mark.parametrize("emoji", ["", "a", ":smile:", "👍 ", "<b>", "x" * 40])
def test_non_emoji_reactions_are_refused(owner, general, emoji):
    with pytest.raises(ValidationFailed):
        services.add_reaction(actor=owner, message=send(owner, general), emoji=emoji)


def test_reaction_counts_and_me(guild, owner, general):
    m = add_member(guild)
    msg = send(owner, general)
    services.add_reaction(actor=owner, message=msg, emoji="👍")
    services.add_reaction(actor=m.user, message=msg, emoji="👍")
    services.add_reaction(actor=m.user, message=msg, emoji="🎉")
    msg = selectors.message_in(general, msg.id)
    assert selectors.reaction_summary(msg, owner.id) == [
        {"emoji": "👍", "count": 2, "me": True}, {"emoji": "🎉", "count": 1, "me": False}]
    services.remove_reaction(actor=m.user, message=msg, emoji="👍")
    assert Reaction.objects.filter(message=msg, emoji="👍").count() == 1


def test_joining_a_reaction_needs_no_add_reactions(guild, owner, general):
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.update_role(actor=owner, role=everyone, permissions=int(P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY))
    m = add_member(guild)
    msg = send(owner, general)
    with pytest.raises(MissingPermission):
        services.add_reaction(actor=m.user, message=msg, emoji="🎉")
    services.add_reaction(actor=owner, message=msg, emoji="🎉")
    assert services.add_reaction(actor=m.user, message=msg, emoji="🎉")


def test_pins(guild, owner, general, monkeypatch):
    m = add_member(guild)
    msg = send(m.user, general, "pin me")
    with pytest.raises(MissingPermission):
        services.pin_message(actor=m.user, message=msg)
    services.pin_message(actor=owner, message=msg)
    assert selectors.pins(general) == [msg]
    services.unpin_message(actor=owner, message=msg)
    assert selectors.pins(general) == []
    monkeypatch.setattr(services, "MAX_PINS", 1)
    services.pin_message(actor=owner, message=msg)
    with pytest.raises(Conflict):
        services.pin_message(actor=owner, message=send(owner, general, "second"))


# --- history ---

def test_history_pages(owner, general):
    ids = [send(owner, general, f"m{i}").id for i in range(30)]
    assert [m.id for m in selectors.history(general, limit=10)] == ids[-10:]
    assert [m.id for m in selectors.history(general, before=ids[10], limit=5)] == ids[5:10]
    assert [m.id for m in selectors.history(general, after=ids[25])] == ids[26:]
    around = [m.id for m in selectors.history(general, around=ids[15], limit=6)]
    assert around == ids[12:18]
    with pytest.raises(ValidationFailed):
        selectors.history(general, before=1, after=2)
    with pytest.raises(ValidationFailed):
        selectors.history(general, limit=101)


# --- read states ---

def test_unread_and_mentions_until_acknowledged(guild, owner, general):
    m = add_member(guild, UserFactory(username="reader"))
    send(owner, general, "one")
    send(owner, general, "hey @reader")
    last = send(owner, general, "three")
    send(m.user, general, "my own messages are never unread")
    assert selectors.unread_counts(m.user, [general.id]) == {general.id: {"unread": 3, "mentions": 1}}
    services.ack_message(user=m.user, channel_id=general.id, message_id=last.id)
    assert selectors.unread_counts(m.user, [general.id]) == {general.id: {"unread": 0, "mentions": 0}}
    services.ack_message(user=m.user, channel_id=general.id, message_id=last.id - 1)  # never moves back
    assert ReadState.objects.get(user=m.user, channel=general).last_read_id == last.id
    with pytest.raises(ValidationFailed):
        services.ack_message(user=m.user, channel_id=general.id, message_id=10**9)


def test_unread_counts_of_several_channels_with_each_kind_of_mention_and_the_cap(guild, owner, general):
    """A READY counts every channel with news at once: user, role and @everyone mentions each
    count, the reader's own messages do not, and a channel counts at most 100 unread."""
    crew = make_role(guild, name="crew", mentionable=True)
    m = add_member(guild, UserFactory(username="reader"), roles=[crew])
    other = add_member(guild, UserFactory(username="other")).user
    news = guild_services.create_channel(actor=owner, guild=guild, name="news")
    quiet = guild_services.create_channel(actor=owner, guild=guild, name="quiet")
    send(owner, general, "hey @reader")
    send(owner, general, f"<@&{crew.id}> rehearsal at six")
    send(owner, general, "@other only")
    send(m.user, general, "my own @everyone is not unread")
    send(owner, news, "@everyone big news")
    for i in range(104):
        send(other, news, f"reaction {i}")
    ids = [general.id, news.id, quiet.id]
    assert selectors.unread_counts(m.user, ids) == {
        general.id: {"unread": 3, "mentions": 2},
        news.id: {"unread": 100, "mentions": 1},
        quiet.id: {"unread": 0, "mentions": 0},
    }
    assert selectors.unread_counts(other, ids)[general.id] == {"unread": 4, "mentions": 1}


def test_typing_is_throttled_and_needs_send(guild, owner, general, django_capture_on_commit_callbacks):
    m = add_member(guild)
    with django_capture_on_commit_callbacks() as callbacks:
        services.start_typing(user=m.user, channel_id=general.id)
        services.start_typing(user=m.user, channel_id=general.id)
    assert len(callbacks) == 1
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=general, role=everyone, allow=0, deny=int(P.SEND_MESSAGES))
    with pytest.raises(MissingPermission):
        services.start_typing(user=add_member(guild).user, channel_id=general.id)


# --- the REST API ---

def test_api_send_history_edit_react_pin_delete(api_as, guild, owner, general):
    api = api_as(owner)
    base = f"/api/channels/{general.id}"
    r = api.post(f"{base}/messages", {"content": "hello *world*", "nonce": "abc"}, format="json")
    assert r.status_code == 201 and r.json()["nonce"] == "abc" and r.json()["content_html"] == "hello <em>world</em>"
    mid = r.json()["id"]
    assert api.put(f"{base}/messages/{mid}/reactions/🔥/@me").status_code == 204
    assert api.patch(f"{base}/messages/{mid}", {"content": "edited"}, format="json").json()["edited_at"]
    assert api.put(f"{base}/pins/{mid}").status_code == 204
    page = api.get(f"{base}/messages").json()
    assert page[-1]["content"] == "edited" and page[-1]["reactions"] == [{"emoji": "🔥", "count": 1, "me": True}]
    assert [m["id"] for m in api.get(f"{base}/pins").json()] == [mid]
    assert api.post(f"{base}/ack", {"message_id": mid}, format="json").status_code == 204
    assert api.post(f"{base}/typing").status_code == 204
    assert api.delete(f"{base}/messages/{mid}").status_code == 204
    assert api.get(f"{base}/messages/{mid}").status_code == 404


def test_api_errors(api, api_as, guild, owner, general):
    base = f"/api/channels/{general.id}"
    assert api.get(f"{base}/messages").status_code == 401
    outsider = api_as(UserFactory())
    assert outsider.get(f"{base}/messages").json()["error"]["code"] == "not_found"
    api = api_as(owner)
    r = api.post(f"{base}/messages", {"content": "x" * 4001}, format="json")
    assert r.status_code == 400 and "content" in r.json()["error"]["fields"]
    r = api.get(f"{base}/messages?before=abc")
    assert r.status_code == 400 and "before" in r.json()["error"]["fields"]
    r = api.put(f"{base}/messages/999999/reactions/👍/@me")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_message"
    guild_services.update_channel(actor=owner, channel=general, slowmode_seconds=60)
    member_api = api_as(add_member(guild).user)
    assert member_api.post(f"{base}/messages", {"content": "a"}, format="json").status_code == 201
    r = member_api.post(f"{base}/messages", {"content": "b"}, format="json")
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited" and int(r["Retry-After"]) >= 1
