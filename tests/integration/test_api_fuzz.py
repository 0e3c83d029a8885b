"""Schemathesis over every operation of the OpenAPI schema, in process (WSGI), as a member of a
seeded guild and anonymously: no answer is a 5xx, and every answer (status, headers, body) is one
the schema documents, so a client generated from it works.

Path ids are drawn either by Schemathesis or from the seeded guild's real objects, so requests reach
the code behind the 404s. Each operation runs in its own rolled-back transaction.
"""
from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from apps.chat import services as chat
from apps.guilds.models import Category
from apps.guilds.permissions import Permission
from apps.tracks import services as tracks
from smartc.wsgi import application
from tests.factories import UserFactory, add_member, add_member_with, api_token, make_guild, make_invite, make_track

pytestmark = pytest.mark.django_db

CONFIG = schemathesis.Config.from_dict({
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    # Undeclared query parameters are ignored, as OpenAPI allows: they are not invalid input.
    "generation": {"mode": "all", "database": "none", "with-security-parameters": False,
                   "allow-extra-parameters": False},
    # Every check but one: positive_data_acceptance wants any schema-valid body accepted, and the
    # domain refuses some with a documented 400 that no schema can express (banning yourself,
    # an id of another guild's category, two emoji where one is allowed).
    "checks": {"positive_data_acceptance": {"enabled": False}},
})
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)

# The ids of the seeded guild's objects by path parameter name, for the test being run.
SEEDED: dict[str, list] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    real = {name: SEEDED[name] for name in path_parameters or () if SEEDED.get(name)}
    if not real:
        return st.just(path_parameters)
    seeded = st.fixed_dictionaries({name: st.sampled_from(ids) for name, ids in real.items()})
    return st.one_of(st.just(path_parameters), seeded.map(lambda ids: {**path_parameters, **ids}))


@pytest.fixture
def in_process_requests():
    """Requests served in the test's thread share its transaction: Django must not close the
    connection at each request's start and end (its own test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(in_process_requests):
    """A guild with a bit of everything; the fuzzing member may manage it."""
    owner = UserFactory()
    guild = make_guild(owner, name="Fuzzed")
    member = add_member_with(guild, Permission.ADMINISTRATOR).user
    other = add_member(guild).user
    general = guild.channels.get(name="general")
    category = Category.objects.filter(guild=guild).first()
    message = chat.send_message(author=other, channel_id=general.id, content="hello")
    track = make_track(guild, owner=other)
    playlist = tracks.create_playlist(owner=member, title="Mix")
    tracks.add_to_playlist(actor=member, playlist_id=playlist.id, track_id=track.id)
    comment = tracks.comment_on_track(author=other, track_id=track.id, body="nice", position_ms=0)
    invite = make_invite(guild)
    SEEDED.clear()
    SEEDED.update({
        "guild_id": [guild.id], "channel_id": [general.id], "message_id": [message.id],
        "user_id": [other.id, member.id], "role_id": [r.id for r in guild.roles.all()],
        "category_id": [category.id] if category else [], "track_id": [track.id], "playlist_id": [playlist.id],
        "comment_id": [comment.id], "code": [invite.code], "target_id": [r.id for r in guild.roles.all()],
        "target_type": ["role", "member"],
    })
    yield api_token(member)
    SEEDED.clear()


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_as_a_member(case, seeded):
    case.call_and_validate(headers={"Authorization": f"Token {seeded}"})


@schema.parametrize()
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_anonymously(case, in_process_requests):
    case.call_and_validate()
