"""The server-rendered shell as members see it."""
import pytest
from django.core.management import call_command

from apps.core.errors import shown_time
from apps.guilds import invites, sanctions, services
from apps.guilds.models import Channel, Guild, Invite, Member, Role
from apps.guilds.permissions import Permission as P
from tests.factories import UserFactory, add_member, make_guild, make_role

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def test_landing_and_explore_show_discoverable_guilds_only(client, owner):
    make_guild(owner, name="Open Jazz Club", discoverable=True, description="Jazz all day")
    make_guild(owner, name="Secret Society")
    for url in ["/", "/explore"]:
        page = html(client.get(url))
        assert "Open Jazz Club" in page and "Secret Society" not in page
    assert "Open Jazz Club" not in html(client.get("/explore?q=metal"))


def test_guild_redirects_to_first_text_channel_and_shows_the_shell(client, guild, owner):
    client.force_login(owner)
    r = client.get(f"/guilds/{guild.id}")
    general = guild.channels.get(name="general")
    assert r["Location"] == f"/guilds/{guild.id}/channels/{general.id}"
    page = html(client.get(r["Location"]))
    assert "Text channels" in page and "Voice channels" in page  # sidebar grouped by category
    assert 'id="channel-title"' in page and "general" in page
    assert f'data-guild-id="{guild.id}"' in page  # guild rail


def test_member_list_groups_hoisted_roles_with_colours(client, guild, owner):
    mods = make_role(guild, name="Mods", color=0x57F287, hoist=True)
    add_member(guild, UserFactory(display_name="Moddy"), roles=[mods])
    client.force_login(owner)
    page = html(client.get(f"/guilds/{guild.id}/channels/{guild.channels.get(name='general').id}"))
    assert "Mods — 1" in page and 'data-color="#57f287"' in page and "Moddy" in page


def test_hidden_channels_are_not_listed_nor_reachable(client, guild, owner):
    secret = services.create_channel(actor=owner, guild=guild, name="secret")
    everyone = Role.objects.get(guild=guild, is_default=True)
    services.set_overwrite(actor=owner, channel=secret, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    m = add_member(guild)
    client.force_login(m.user)
    page = html(client.get(f"/guilds/{guild.id}/channels/{guild.channels.get(name='general').id}"))
    assert "secret" not in page
    assert client.get(f"/guilds/{guild.id}/channels/{secret.id}").status_code == 404
    assert client.get(f"/guilds/{make_guild(owner, name='Not mine').id}").status_code == 404


def test_create_guild_page(client, user):
    client.force_login(user)
    r = client.post("/guilds/new", {"name": "Synth Lovers", "description": "bleeps"})
    guild = Guild.objects.get(name="Synth Lovers")
    assert r["Location"] == f"/guilds/{guild.id}"
    r = client.post("/guilds/new", {"name": "x"})
    assert r.status_code == 400 and "at least 2 characters" in html(r)


def test_channel_settings_create_and_errors(client, guild, owner):
    client.force_login(owner)
    r = client.post(f"/guilds/{guild.id}/settings/channels", {"form": "channel", "name": "Show And Tell",
                                                               "type": "text", "category": "", "topic": ""})
    assert r.status_code == 302 and Channel.objects.filter(guild=guild, name="show-and-tell").exists()
    r = client.post(f"/guilds/{guild.id}/settings/channels", {"form": "channel", "name": "", "type": "text"})
    assert r.status_code == 400 and "This field is required" in html(r)
    m = add_member(guild)
    client.force_login(m.user)
    r = client.post(f"/guilds/{guild.id}/settings/channels", {"form": "channel", "name": "sneaky", "type": "text"})
    assert r.status_code == 403 and "MANAGE_CHANNELS" in html(r)
    assert not Channel.objects.filter(name="sneaky").exists()


def test_role_settings_create_edit_and_hierarchy_error(client, guild, owner):
    client.force_login(owner)
    r = client.post(f"/guilds/{guild.id}/settings/roles", {"name": "DJs", "color": "#eb459e",
                                                            "permissions": ["UPLOAD_TRACKS", "MANAGE_TRACKS"]})
    assert r.status_code == 302
    role = Role.objects.get(guild=guild, name="DJs")
    assert role.permissions == int(P.UPLOAD_TRACKS | P.MANAGE_TRACKS) and role.color == 0xEB459E
    mgr = add_member(guild, roles=[make_role(guild, permissions=P.MANAGE_ROLES, position=1)])
    high = make_role(guild, name="High", position=9)
    client.force_login(mgr.user)
    r = client.post(f"/guilds/{guild.id}/settings/roles/{high.id}", {"name": "Mine", "permissions": []})
    assert r.status_code == 400 and "at or above your highest role" in html(r)


def test_overwrite_form_makes_a_channel_private(client, guild, owner):
    ch = guild.channels.get(name="general")
    everyone = Role.objects.get(guild=guild, is_default=True)
    client.force_login(owner)
    r = client.post(f"/guilds/{guild.id}/settings/channels/{ch.id}",
                    {"form": "overwrite", "target": f"role:{everyone.id}", "VIEW_CHANNEL": "deny"})
    assert r.status_code == 302
    m = add_member(guild)
    client.force_login(m.user)
    assert client.get(f"/guilds/{guild.id}/channels/{ch.id}").status_code == 404


def test_invite_link_flow(client, guild, owner):
    invite = invites.create_invite(actor=owner, guild=guild)
    page = html(client.get(f"/invite/{invite.code}"))
    assert guild.name in page and "Sign up to join" in page
    r = client.post(f"/invite/{invite.code}")
    assert r["Location"].startswith("/accounts/login?next=/invite/")
    joiner = UserFactory()
    client.force_login(joiner)
    r = client.post(f"/invite/{invite.code}")
    assert r["Location"] == f"/guilds/{guild.id}"
    assert Member.objects.filter(guild=guild, user=joiner).exists()
    assert client.get("/invite/doesnotexist").status_code == 404
    invites.revoke_invite(actor=owner, invite=invite)
    client.force_login(UserFactory())
    r = client.get(f"/invite/{invite.code}")
    assert r.status_code == 410 and "invalid or has expired" in html(r)


def test_members_page_kick_and_ban(client, guild, owner):
    victim = add_member(guild)
    client.force_login(owner)
    r = client.post(f"/guilds/{guild.id}/settings/members/{victim.user_id}/ban", {"reason": "spam",
                                                                                  "delete_message_days": "0"})
    assert r.status_code == 302
    assert not Member.objects.filter(pk=victim.pk).exists()
    page = html(client.get(f"/guilds/{guild.id}/settings/members"))
    assert victim.user.username in page and "Lift ban" in page


def test_members_page_times_out_and_warns_within_the_moderators_rights(client, guild, owner):
    from apps.guilds.models import AuditLogEntry
    from apps.moderation.models import Warning

    victim = add_member(guild, UserFactory(username="vic"))
    mod = add_member(guild, UserFactory(username="mod"), roles=[make_role(guild, permissions=P.MODERATE_MEMBERS)])
    url = f"/guilds/{guild.id}/settings/members/{victim.user_id}"
    client.force_login(mod.user)
    page = html(client.get(f"/guilds/{guild.id}/settings/members"))
    assert f'action="{url}/timeout"' in page and f'action="{url}/warn"' in page and f'action="{url}/kick"' not in page
    assert client.post(f"{url}/timeout", {"seconds": "3600"}).status_code == 302
    victim.refresh_from_db()
    assert victim.timed_out_until is not None
    client.post(f"{url}/warn", {"reason": "Keep it civil."})
    assert Warning.objects.get(user=victim.user).reason == "Keep it civil."
    assert {"member_warn"} <= set(AuditLogEntry.objects.filter(guild=guild).values_list("action", flat=True))
    # Out of the list, or with no reason: refused, nothing changes.
    r = client.post(f"{url}/timeout", {"seconds": "99999999"}, follow=True)
    assert "Choose a timeout from the list." in html(r)
    client.post(f"{url}/warn", {"reason": ""})
    assert Warning.objects.filter(user=victim.user).count() == 1
    # A member without MODERATE_MEMBERS sees no such forms and cannot use them.
    plain = add_member(guild, UserFactory(username="plain"))
    client.force_login(plain.user)
    client.post(f"{url}/warn", {"reason": "hm"})
    assert Warning.objects.filter(user=victim.user).count() == 1
    client.force_login(mod.user)
    assert client.post(f"{url}/timeout", {"seconds": "0"}).status_code == 302
    victim.refresh_from_db()
    assert victim.timed_out_until is None


def test_a_timed_out_member_is_told_until_when_instead_of_a_missing_permission(client, guild, owner):
    from datetime import timedelta

    member = add_member(guild)
    sanctions.timeout_member(actor=owner, member=member, duration=timedelta(minutes=30))
    member.refresh_from_db()
    general = guild.channels.get(name="general")
    client.force_login(member.user)
    page = html(client.get(f"/guilds/{guild.id}/channels/{general.id}"))
    until = member.timed_out_until
    assert (f'You are timed out until <time datetime="{until.isoformat()}" data-local-time>{shown_time(until)}</time>.'
            in page)
    assert "You do not have permission to send messages" not in page
    assert 'data-timed-out="You are timed out until {time}."' in page  # for a refusal after the page loaded


def test_members_page_shows_when_a_timeout_ends_and_lifts_it_in_one_click(client, guild, owner):
    from datetime import timedelta

    victim = add_member(guild, UserFactory(username="vic"))
    sanctions.timeout_member(actor=owner, member=victim, duration=timedelta(hours=2))
    victim.refresh_from_db()
    client.force_login(owner)
    page = html(client.get(f"/guilds/{guild.id}/settings/members"))
    assert f'Timed out until <time datetime="{victim.timed_out_until.isoformat()}" data-local-time>' in page
    assert page.count(">Lift timeout</button>") == 1  # only the timed-out member's row has it
    r = client.post(f"/guilds/{guild.id}/settings/members/{victim.user_id}/timeout", {"seconds": "0"},
                    follow=True)
    assert "Timeout lifted." in html(r) and "Timed out until" not in html(r) and "Lift timeout</button>" not in html(r)
    victim.refresh_from_db()
    assert victim.timed_out_until is None


def test_french_interface(client, user):
    client.force_login(user)
    r = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert r.status_code == 302
    page = html(client.get("/"))
    assert "Créer une guilde" in page and 'lang="fr"' in page


def test_metrics_endpoint(client):
    client.get("/")
    body = html(client.get("/metrics"))
    assert "django_http_requests_total_by_method_total" in body


def test_demo_data_command_is_idempotent(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "alice" in out and "/invite/" in out
    guild = Guild.objects.get(name="SmaRTC Lounge")
    assert guild.members.count() == 3
    assert Invite.objects.filter(guild=guild, expires_at__isnull=True).exists()
    bob = Member.objects.get(guild=guild, user__username="bob")
    assert bob.roles.filter(name="Moderator").exists()
