"""A bot written with the real discord.py against SmaRTC served by daphne: only its REST base URL
points here. It logs in, sees its guild, answers !ping, reacts, edits, deletes, and RESUMEs after
its connection is cut without missing the message sent meanwhile."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

from apps.bots import services as bots
from apps.bots.models import BotInstall
from apps.chat.models import Message, Reaction
from apps.guilds import services as guild_services
from apps.guilds.models import AuditLogEntry, Channel, Member
from apps.guilds.permissions import Permission
from tests.discord_bot import Proxy, running_bot, wait_for
from tests.factories import api_token, make_role
from tests.servers import running_server

pytestmark = pytest.mark.django_db(transaction=True)

BOT_PERMISSIONS = int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.READ_MESSAGE_HISTORY
                      | Permission.ADD_REACTIONS | Permission.EMBED_LINKS | Permission.ATTACH_FILES
                      | Permission.MANAGE_ROLES)


def post(base: str, user, channel_id: int, content: str) -> dict:
    token = api_token(user)
    req = urllib.request.Request(f"{base}/api/channels/{channel_id}/messages", method="POST",
                                 data=json.dumps({"content": content}).encode(),
                                 headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def until(check, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def pingbot(guild, owner):
    app, token = bots.create_application(owner=owner, name="Pingbot")
    bots.set_intents(actor=owner, application=app, members=False, presence=False, message_content=True)
    bots.authorize_bot(actor=owner, application=app, guild_id=guild.id, permissions=BOT_PERMISSIONS)
    listener = make_role(guild, name="Listener")  # the role its picker gives; its own role sits above
    guild_services.reorder_roles(actor=owner, guild=guild, order=[BotInstall.objects.get(application=app).role_id,
                                                                  listener.id])
    return app, token


def test_a_discord_py_bot_answers_ping_reacts_edits_deletes_and_resumes(guild, alice, pingbot):
    app, token = pingbot
    general = Channel.objects.get(guild=guild, name="general")
    with running_server() as base:
        proxy = Proxy(int(base.rsplit(":", 1)[1]))
        try:
            with running_bot(f"http://127.0.0.1:{proxy.port}", token) as (bot, seen, loop):
                _, guilds, channels = wait_for(seen, "ready")
                assert guilds == [guild.name]
                assert "general" in channels

                post(base, alice, general.id, "!ping")
                pong_id = wait_for(seen, "ponged")[1]
                pong = Message.objects.get(pk=pong_id)
                assert (pong.content, pong.author_id, pong.channel_id) == ("pong", app.bot_id, general.id)
                assert Reaction.objects.filter(message=pong, user=app.bot, emoji="👍").exists()

                post(base, alice, general.id, "!edit")
                wait_for(seen, "edited")
                pong.refresh_from_db()
                assert pong.content == "pong (edited)" and pong.edited_at is not None

                post(base, alice, general.id, "!embed")
                _, embedded_id, titles = wait_for(seen, "embedded")
                assert titles == ["Release 1.2"]  # discord.py read back the embed it sent
                [card] = Message.objects.get(pk=embedded_id).embeds
                fields = [(f["name"], f["value"], f["inline"]) for f in card["fields"]]
                assert (card["title"], card["url"], card["color"], fields, card["footer"]["text"]) == (
                    "Release 1.2", "https://example.com/release", 0x5865F2, [("Size", "3 MB", True)], "CI")

                post(base, alice, general.id, "!file")  # discord.py's multipart send: payload_json + files[0]
                _, filed_id, files = wait_for(seen, "filed")
                assert files == [("report.txt", 10)]
                [stored] = Message.objects.get(pk=filed_id).attachments.all()
                assert (stored.filename, stored.uploader_id, stored.file.read()) == ("report.txt", app.bot_id,
                                                                                     b"all green\n")

                post(base, alice, general.id, "!listen")  # add_roles, then member.send (opens a DM)
                _, role_id, dm_id, _ = wait_for(seen, "given")
                assert Member.objects.get(guild=guild, user=alice).roles.filter(pk=role_id, name="Listener").exists()
                assert AuditLogEntry.objects.get(action="member_role_add").reason == ""  # roles take no reason
                dm = Channel.objects.get(pk=dm_id)
                assert dm.type == "dm" and dm.messages.get().content == "You are a Listener now"
                post(base, alice, dm_id, "!echo thanks, in private")  # a DM to the bot: commands work there too
                until(lambda: dm.messages.filter(author=app.bot, content="echo: thanks, in private").exists())

                post(base, alice, general.id, "!delete")
                wait_for(seen, "deleted")
                assert not Message.objects.filter(pk=pong_id).exists()

                # The connection drops; a message is sent while the bot is away; it comes back.
                proxy.cut()
                time.sleep(1)
                missed = post(base, alice, general.id, "!echo while you were away")
                time.sleep(0.5)
                proxy.restore()
                # Replayed first, then RESUMED, as Discord does; never a new READY.
                got = wait_for(seen, "message", timeout=30, where=lambda item: item[3] == missed["id"])
                assert got[1] == "!echo while you were away"
                assert got[4], "a guild message's author is a Member, with roles"
                after = [wait_for(seen, "resumed")]
                until(lambda: Message.objects.filter(author=app.bot, content="echo: while you were away").exists())
                assert Message.objects.filter(author=app.bot, content="echo: while you were away").count() == 1
                while not seen.empty():
                    after.append(seen.get())
                assert "ready" not in [item[0] for item in after]
        finally:
            proxy.close()
