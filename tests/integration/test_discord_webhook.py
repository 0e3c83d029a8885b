"""An existing Discord webhook sender: discord.py's SyncWebhook posts through SmaRTC with only the
library's base URL pointed at the server. (`SyncWebhook.from_url` insists on discord.com and a
17-digit id, so a SmaRTC URL goes in as `SyncWebhook.partial(id, token)`; see
docs/discord-compat.md. Senders that just POST to the URL, as CI systems do, change the host.)"""
import io

import discord
import pytest
from discord.http import Route

from apps.chat import webhooks
from apps.chat.models import Message
from tests.servers import running_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_discord_py_sync_webhook_posts_text_and_an_embed(guild, owner, monkeypatch):
    general = guild.channels.get(name="general")
    hook, token = webhooks.create_webhook(actor=owner, channel_id=general.id, name="CI")
    with running_server() as base:
        monkeypatch.setattr(Route, "BASE", f"{base}/api/v10")
        sender = discord.SyncWebhook.partial(hook.id, token)
        card = discord.Embed(title="Build #42", description="All **green**", colour=0x2ECC71)
        card.add_field(name="Duration", value="3 min")
        sent = sender.send("Deploy finished", username="Release bot", embed=card, wait=True)

        assert (sent.content, sent.author.name, [e.title for e in sent.embeds]) == (
            "Deploy finished", "Release bot", ["Build #42"])
        stored = Message.objects.get(pk=sent.id)
        assert (stored.channel_id, stored.webhook_id, stored.webhook_name) == (general.id, hook.id, "Release bot")
        assert [(f["name"], f["value"]) for f in stored.embeds[0]["fields"]] == [("Duration", "3 min")]

        # A wrong token: the library gets Discord's 404 and says so.
        stranger = discord.SyncWebhook.partial(hook.id, "x" * len(token))
        with pytest.raises(discord.NotFound):
            stranger.send("nope", wait=True)
    assert Message.objects.filter(channel=general).count() == 1


def test_discord_py_sync_webhook_sends_files_with_the_message(guild, owner, monkeypatch):
    general = guild.channels.get(name="general")
    hook, token = webhooks.create_webhook(actor=owner, channel_id=general.id, name="CI")
    with running_server() as base:
        monkeypatch.setattr(Route, "BASE", f"{base}/api/v10")
        sender = discord.SyncWebhook.partial(hook.id, token)
        log = discord.File(io.BytesIO(b"build log\n" * 100), filename="build.log")
        notes = discord.File(io.BytesIO(b"# Notes\n"), filename="notes.md")
        sent = sender.send("Artifacts", files=[log, notes], wait=True)

        assert [(a.filename, a.size) for a in sent.attachments] == [("build.log", 1000), ("notes.md", 8)]
        stored = Message.objects.get(pk=sent.id)
        assert [(a.filename, a.uploader_id) for a in stored.attachments.order_by("id")] == [
            ("build.log", None), ("notes.md", None)]
