"""Demo data for `make run`: three users, a guild with roles, categories, private and read-only
channels, and a never-expiring invite. Built through the services, like any real guild.
Running it again changes nothing and prints the logins."""
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts import services as accounts
from apps.accounts.models import User
from apps.guilds import invites, services
from apps.guilds.models import Channel, Guild, Invite, Role
from apps.guilds.permissions import Permission as P

DEMO_PASSWORD = "smartc-demo-2026"
USERS = [
    ("alice", "Alice", "Owner of the demo guild."),
    ("bob", "Bob", "Moderator."),
    ("carol", "Carol", "Member and music fan."),
]
GUILD_NAME = "SmaRTC Lounge"


class Command(BaseCommand):
    help = "Create the demo guild and users (idempotent) and print their logins."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Where the printed links point.")

    def handle(self, *args, **options):
        base = options["base_url"].rstrip("/")
        if not Guild.objects.filter(name=GUILD_NAME).exists():
            with transaction.atomic():
                self._seed()
        invite = Invite.objects.filter(guild__name=GUILD_NAME, revoked_at__isnull=True).first()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Log in at {base}/accounts/login"))
        for username, _, role in USERS:
            self.stdout.write(f"  {username:6} / {DEMO_PASSWORD}   ({role})")
        self.stdout.write(f"  admin  / {DEMO_PASSWORD}   (staff: set up 2FA at /accounts/2fa, then open /admin/)")
        if invite:
            self.stdout.write(f"  Invite link: {base}/invite/{invite.code}")

    def _seed(self):
        users = {}
        for username, display, bio in USERS:
            users[username] = User.objects.filter(username=username).first() or accounts.sign_up(
                username=username, email=f"{username}@example.com", password=DEMO_PASSWORD, display_name=display,
                email_verified=True)
            users[username].bio = bio
            users[username].save(update_fields=["bio"])
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD, email_verified=True)

        alice, bob, carol = users["alice"], users["bob"], users["carol"]
        guild = services.create_guild(owner=alice, name=GUILD_NAME, discoverable=True,
                                      description="The demo community: chat, tracks and voice rooms.")
        admin_role = services.create_role(actor=alice, guild=guild, name="Admin", permissions=int(P.ADMINISTRATOR),
                                          color=0xED4245, hoist=True)
        mod = services.create_role(
            actor=alice, guild=guild, name="Moderator", color=0x57F287, hoist=True, mentionable=True,
            permissions=int(P.KICK_MEMBERS | P.BAN_MEMBERS | P.MANAGE_MESSAGES | P.MODERATE_MEMBERS
                            | P.MUTE_MEMBERS | P.DEAFEN_MEMBERS | P.MOVE_MEMBERS | P.VIEW_AUDIT_LOG
                            | P.MANAGE_NICKNAMES | P.MANAGE_THREADS | P.MENTION_EVERYONE))
        dj = services.create_role(actor=alice, guild=guild, name="DJ", color=0xEB459E, mentionable=True,
                                  permissions=int(P.MANAGE_TRACKS | P.PRIORITY_SPEAKER))
        services.reorder_roles(actor=alice, guild=guild, order=[admin_role.id, mod.id, dj.id])

        for user in (bob, carol):
            invite = invites.create_invite(actor=alice, guild=guild, max_uses=1)
            invites.join_by_invite(user=user, code=invite.code)
        invites.create_invite(actor=alice, guild=guild, max_age_seconds=0)
        services.assign_role(actor=alice, member=guild.members.get(user=bob), role=mod)
        services.assign_role(actor=alice, member=guild.members.get(user=carol), role=dj)

        text = guild.categories.get(name="Text channels")
        everyone = Role.objects.get(guild=guild, is_default=True)
        welcome = services.create_channel(actor=alice, guild=guild, name="welcome", type=Channel.Type.ANNOUNCEMENT,
                                          category=text, topic="Read this first.")
        services.set_overwrite(actor=alice, channel=welcome, role=everyone, allow=0, deny=int(P.SEND_MESSAGES))
        services.create_channel(actor=alice, guild=guild, name="music", category=text,
                                topic="Share what you are listening to.")
        staff = services.create_category(actor=alice, guild=guild, name="Staff")
        mods_only = services.create_channel(actor=alice, guild=guild, name="mod-room", category=staff,
                                            topic="Moderators only.")
        services.set_overwrite(actor=alice, channel=mods_only, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
        services.set_overwrite(actor=alice, channel=mods_only, role=mod, allow=int(P.VIEW_CHANNEL), deny=0)
        voice = guild.categories.get(name="Voice channels")
        services.create_channel(actor=alice, guild=guild, name="Listening party", type=Channel.Type.VOICE,
                                category=voice, user_limit=10)
        order = list(Channel.objects.filter(guild=guild).order_by("category__position", "position", "id"))
        services.reorder_channels(actor=alice, guild=guild, order=[(c.id, c.category_id) for c in order])
