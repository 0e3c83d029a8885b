"""Who a new gateway socket is, as apps.realtime.ready reads it (raw SQL, one trip for the session
and one for the user and its guild ids): signed in exactly when Django's own session check says so."""
import datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import UserSession
from apps.realtime import ready, selectors
from tests.factories import UserFactory, add_member, api_token, make_guild

pytestmark = pytest.mark.django_db


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def socket_user(cookie: str | None = None, authorization: str | None = None):
    headers = []
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    scope = {"headers": headers}
    user, ids = ready.authenticate(scope)
    assert scope["user"] is user
    return user, ids, scope


def django_user(cookie: str):
    """The user the pages see for that session cookie."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return get_user(client)


def test_a_signed_in_session_gives_the_user_and_its_guilds_in_the_order_joined():
    ann = UserFactory(username="ann")
    first, second = make_guild(name="First"), make_guild(name="Second")
    add_member(second, user=ann)
    add_member(first, user=ann)
    cookie = session_of(ann)
    with CaptureQueriesContext(connection) as reads:
        user, ids, scope = socket_user(cookie)
    # No page seen yet, so no sessions-page row: the session; then the user with its guild ids.
    assert len(reads.captured_queries) == 2
    assert user == ann and user.username == "ann" and ids == [second.id, first.id]
    assert scope["sign_in"] and scope["auth_error"] is None
    assert django_user(cookie) == ann

    # The browser's page, before it opens its socket, gives the session its row: then one statement.
    page = Client()
    page.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert page.get(reverse("accounts:sessions")).status_code == 200
    assert UserSession.objects.filter(session_key=cookie, user=ann).exists()
    with CaptureQueriesContext(connection) as reads:
        user, ids, scope = socket_user(cookie)
    assert len(reads.captured_queries) == 1
    assert user == ann and ids == [second.id, first.id] and scope["sign_in"]


def test_the_sessions_page_row_is_a_hint_the_signed_session_decides():
    ann, eve = UserFactory(username="ann"), UserFactory(username="eve")
    guild = make_guild(name="Eve's")
    add_member(guild, user=eve)
    cookie = session_of(ann)
    UserSession.objects.create(user=eve, session_key=cookie)  # a row naming someone else
    user, ids, _ = socket_user(cookie)
    assert user == ann and ids == []


def test_sessions_the_pages_refuse_are_refused():
    ann = UserFactory(username="ann")
    expired, inactive, changed, signed_out = (session_of(ann) for _ in range(4))
    Session.objects.filter(session_key=expired).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert not socket_user(expired)[0].is_authenticated
    assert not socket_user("forged-session-key")[0].is_authenticated
    Session.objects.filter(session_key=signed_out).delete()
    assert not socket_user(signed_out)[0].is_authenticated

    ann.set_password("a new password 2026")
    ann.save()
    assert not socket_user(changed)[0].is_authenticated
    assert not django_user(changed).is_authenticated

    bob = UserFactory(username="bob")
    cookie = session_of(bob)
    bob.is_active = False
    bob.save()
    assert not socket_user(cookie)[0].is_authenticated
    assert not django_user(cookie).is_authenticated
    assert not socket_user(inactive)[0].is_authenticated  # ann's, from before her password change


def test_without_a_session_an_api_token_with_the_gateway_scope_signs_in():
    bot = UserFactory(username="helper")
    guild = make_guild(name="Bots")
    add_member(guild, user=bot)
    user, ids, scope = socket_user(authorization=f"Token {api_token(bot)}")
    assert user == bot and ids == [guild.id] and scope["sign_in"]
    user, ids, scope = socket_user(authorization=f"Token {api_token(bot, scopes=('read',))}")
    assert not user.is_authenticated and ids == [] and scope["auth_error"]["code"]


def prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {statement for (statement,) in cursor.fetchall()}


def test_ready_statements_are_prepared_once_per_connection_and_read_what_the_orm_reads(settings):
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    guild = make_guild(name="Prepared", owner=bob)
    add_member(guild, user=ann)
    cookie = session_of(ann)

    user, ids, _ = socket_user(cookie)
    first = ready.read_state(user, ids)
    statements = prepared_statements()
    # The session, the user with its guild ids, and READY's four statements.
    assert len(statements) >= 6 and any("django_session" in s for s in statements)
    user, ids, _ = socket_user(cookie)
    second = ready.read_state(user, ids)
    assert prepared_statements() == statements  # the second socket reuses them
    assert second.guilds == first.guilds and [g["id"] for g in first.guilds] == [guild.id]
    assert first.guilds == selectors.ready_reads(user, ids)[0]  # the ORM's reading of the same state

    settings.GATEWAY_PREPARED_STATEMENTS = False  # behind a pooler that drops them: sent as text
    user, ids, _ = socket_user(cookie)
    assert ready.read_state(user, ids).guilds == first.guilds
    assert prepared_statements() == statements


def test_ready_shows_each_thread_as_it_is_now_for_every_member():
    """Every member of a guild reads the same rows for its active threads, and each row's payload is
    built once per process: a renamed thread, a new member, another message or an archive shows in
    the next READY of every member, as the ORM reads it."""
    from apps.chat import services as chat
    from apps.chat import thread_services
    from apps.chat.models import Channel

    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    guild = make_guild(name="Threads", owner=bob)
    add_member(guild, user=ann)
    general = Channel.objects.get(guild=guild, name="general")
    first = chat.send_message(author=bob, channel_id=general.id, content="start here")
    thread = thread_services.create_thread(actor=bob, channel_id=general.id, message_id=first.id, name="plans")

    def threads_of(user):
        user, ids, _ = socket_user(session_of(user))
        opened = ready.read_state(user, ids)
        assert opened.guilds == selectors.ready_reads(user, ids)[0]
        return opened.guilds[0]["threads"]

    before = threads_of(ann)
    assert [(t["name"], t["member_count"]) for t in before] == [("plans", 1)]
    assert threads_of(bob) == before

    thread_services.update_thread(actor=bob, thread_id=thread.channel_id, name="new plans")
    thread_services.join_thread(user=ann, thread_id=thread.channel_id)
    chat.send_message(author=ann, channel_id=thread.channel_id, content="in the thread")
    after = threads_of(bob)
    assert [(t["name"], t["member_count"], t["message_count"]) for t in after] == [("new plans", 2, 1)]
    assert threads_of(ann) == after
    assert before[0]["name"] == "plans"  # what was sent before is not changed

    thread_services.update_thread(actor=bob, thread_id=thread.channel_id, archived=True)
    assert threads_of(ann) == [] and threads_of(bob) == []
