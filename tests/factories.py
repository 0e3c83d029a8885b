"""Factories for the suite. Guilds are built through the service, so every guild in a test has
what a real one has (@everyone, owner membership, default channels)."""
import factory
from django.contrib.auth import get_user_model

from apps.guilds import services
from apps.guilds.models import Member, Role

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    display_name = factory.LazyAttribute(lambda u: u.username.title())
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


def make_guild(owner=None, **kwargs):
    owner = owner or UserFactory()
    return services.create_guild(owner=owner, name=kwargs.pop("name", "Test Guild"), **kwargs)


def add_member(guild, user=None, roles=()):
    user = user or UserFactory()
    member = Member.objects.create(guild=guild, user=user)
    if roles:
        member.roles.add(*roles)
    return member


def make_role(guild, *, permissions=0, position=None, **kwargs):
    """A role written directly (tests set up state; services are what they test)."""
    if position is None:
        position = (Role.objects.filter(guild=guild).order_by("-position").first().position or 0) + 1
    return Role.objects.create(guild=guild, name=kwargs.pop("name", f"role{position}"), permissions=int(permissions),
                               position=position, **kwargs)


def add_member_with(guild, *permissions, user=None, position=None, **role_kwargs):
    """A member whose one role grants `permissions` (a role manager, a moderator...)."""
    bits = 0
    for perm in permissions:
        bits |= int(perm)
    return add_member(guild, user=user, roles=[make_role(guild, permissions=bits, position=position, **role_kwargs)])


def make_invite(guild, creator=None, **kwargs):
    """An invite written directly, so a test can start from one that is expired or used up."""
    from apps.guilds.models import Invite

    code = kwargs.pop("code", None) or f"t{Invite.objects.count() + 1:07d}"
    return Invite.objects.create(guild=guild, creator=creator or guild.owner, code=code, **kwargs)


def make_track(guild, owner=None, *, title="A song", tags=(), genre="", duration_ms=60_000, state="ready", **kwargs):
    """A ready track written directly, without media (social tests do not play it; pipeline tests
    upload real audio through the service)."""
    from apps.tracks.models import Tag, Track
    from apps.tracks.services import search_text

    owner = owner or guild.owner
    track = Track.objects.create(
        owner=owner, guild=guild, title=title, genre=genre, original="tracks/none/original.mp3",
        original_format="mp3", original_size=1, state=state, duration_ms=duration_ms,
        search_text=search_text(title=title, tags=list(tags), genre=genre, owner=owner), **kwargs)
    track.tags.set([Tag.objects.get_or_create(name=name)[0] for name in tags])
    return track


def api_token(user, scopes=("read", "write", "gateway"), days: int = 30) -> str:
    """The secret of a new API token of `user` (made by the service, as the tokens page does)."""
    from apps.accounts import token_services

    return token_services.create_token(user, name="test", scopes=list(scopes), expires_in_days=days)[1]
