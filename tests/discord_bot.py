"""A bot written with the real discord.py, run in a thread of its own against a served SmaRTC: only
discord.py's two base URLs are pointed at it (discord.http.Route.BASE for REST, and the gateway's
DiscordWebSocket.DEFAULT_GATEWAY, from GET /api/v10/gateway). And a TCP proxy a test can cut, to
drop the bot's connections."""
from __future__ import annotations

import asyncio
import io
import json
import queue
import socket
import threading
import traceback
import urllib.request
from contextlib import contextmanager, suppress

import discord
import yarl
from discord.ext import commands


class Proxy:
    """Forwards 127.0.0.1:<port> to the server. `cut()` drops every connection and refuses new
    ones until `restore()`."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        with suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self):
        self.open.clear()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def restore(self):
        self.open.set()

    def close(self):
        self.cut()
        self.listener.close()


def make_bot(seen: queue.Queue, *, message_content: bool = True) -> commands.Bot:
    """A plain discord.py bot: !ping answers pong, reacts, edits and deletes on command; !echo
    repeats; every step is reported on `seen`."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    bot = commands.Bot(command_prefix="!", intents=intents, help_command=None)
    sent: dict[str, discord.Message] = {}

    @bot.event
    async def on_ready():
        seen.put(("ready", [g.name for g in bot.guilds], [c.name for g in bot.guilds for c in g.text_channels]))

    @bot.event
    async def on_resumed():
        seen.put(("resumed",))

    @bot.event
    async def on_message(message: discord.Message):
        seen.put(("message", message.content, message.author.bot, message.id,
                  isinstance(message.author, discord.Member)))
        await bot.process_commands(message)

    @bot.command()
    async def ping(ctx):
        msg = await ctx.send("pong")
        sent["pong"] = msg
        await msg.add_reaction("👍")
        seen.put(("ponged", msg.id))

    @bot.command()
    async def edit(ctx):
        await sent["pong"].edit(content="pong (edited)")
        seen.put(("edited", sent["pong"].id))

    @bot.command()
    async def delete(ctx):
        await sent["pong"].delete()
        seen.put(("deleted", sent["pong"].id))

    @bot.command()
    async def embed(ctx):
        card = discord.Embed(title="Release 1.2", description="**Notes** inside", colour=0x5865F2,
                             url="https://example.com/release")
        card.add_field(name="Size", value="3 MB").set_footer(text="CI")
        msg = await ctx.send(embed=card)
        seen.put(("embedded", msg.id, [e.title for e in msg.embeds]))

    @bot.command()
    async def file(ctx):
        report = discord.File(io.BytesIO(b"all green\n"), filename="report.txt")
        msg = await ctx.send("the report", file=report)
        seen.put(("filed", msg.id, [(a.filename, a.size) for a in msg.attachments]))

    @bot.command()
    async def listen(ctx):  # a role picker: the role, then a DM saying so
        role = discord.utils.get(ctx.guild.roles, name="Listener")
        await ctx.author.add_roles(role, reason="picked in #general")
        dm = await ctx.author.send(f"You are a {role.name} now")
        seen.put(("given", role.id, dm.channel.id, dm.id))

    @bot.command()
    async def echo(ctx, *, text: str):
        await ctx.send(f"echo: {text}")

    return bot


@contextmanager
def running_bot(base_url: str, token: str, **kwargs):
    """Start the bot against `base_url`; yields (bot, queue of what it saw, its event loop)."""
    discord.http.Route.BASE = f"{base_url}/api/v10"
    with urllib.request.urlopen(f"{base_url}/api/v10/gateway", timeout=10) as resp:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(json.loads(resp.read())["url"])
    seen: queue.Queue = queue.Queue()
    loop = asyncio.new_event_loop()
    bot_box: dict = {}

    def run():
        asyncio.set_event_loop(loop)
        bot = make_bot(seen, **kwargs)
        bot_box["bot"] = bot
        try:
            loop.run_until_complete(bot.start(token))
        except Exception as exc:  # reported to the test, which fails with it
            traceback.print_exc()  # where in the library it broke, in the test's captured output
            seen.put(("error", repr(exc)))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        while "bot" not in bot_box:
            threading.Event().wait(0.01)
        yield bot_box["bot"], seen, loop
    finally:
        bot = bot_box.get("bot")
        if bot is not None and not loop.is_closed() and thread.is_alive():
            with suppress(Exception):
                asyncio.run_coroutine_threadsafe(bot.close(), loop).result(10)
        thread.join(10)


def wait_for(seen: queue.Queue, kind: str, timeout: float = 15, *, where=lambda item: True):
    """The next item of `kind` on the queue (others are dropped); an "error" item fails at once."""
    while True:
        item = seen.get(timeout=timeout)
        if item[0] == "error":
            raise AssertionError(f"the bot stopped: {item[1]}")
        if item[0] == kind and where(item):
            return item
