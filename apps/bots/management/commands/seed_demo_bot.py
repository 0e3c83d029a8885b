"""Demo bot for `make run`: an application owned by the demo guild's owner, its bot in the demo
guild allowed to read and send in its text channels, with the message content intent. Each run
issues a new token (only its digest is stored) and prints it."""
from django.core.management.base import BaseCommand, CommandError

from apps.bots import services
from apps.bots.models import Application, BotInstall
from apps.guilds.management.commands.seed_demo import GUILD_NAME
from apps.guilds.models import Guild
from apps.guilds.permissions import Permission as P

BOT_NAME = "Demo Bot"
PERMISSIONS = int(P.VIEW_CHANNEL | P.SEND_MESSAGES | P.READ_MESSAGE_HISTORY | P.ADD_REACTIONS | P.EMBED_LINKS)


class Command(BaseCommand):
    help = "Create the demo bot in the demo guild (idempotent) and print a new token for it."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Where the printed links point.")

    def handle(self, *args, base_url, **options):
        guild = Guild.objects.filter(name=GUILD_NAME).select_related("owner").first()
        if guild is None:
            raise CommandError("Run seed_demo first: the demo guild does not exist.")
        owner = guild.owner
        app = Application.objects.filter(owner=owner, name=BOT_NAME).first()
        if app is None:
            app, _token = services.create_application(owner=owner, name=BOT_NAME,
                                                      description="Answers !ping with pong.")
        services.set_intents(actor=owner, application=app, members=False, presence=False, message_content=True)
        if not BotInstall.objects.filter(application=app, guild=guild).exists():
            services.authorize_bot(actor=owner, application=app, guild_id=guild.id, permissions=PERMISSIONS)
        token = services.issue_demo_token(application=app)
        base = base_url.rstrip("/")
        self.stdout.write(f"  Demo bot token: {token}")
        self.stdout.write(f"  (discord.py: discord.http.Route.BASE = '{base}/api/v10'; see docs/discord-compat.md)")
