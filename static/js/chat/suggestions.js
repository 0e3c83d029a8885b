// What the composer's autocomplete offers after "@" (members, roles, @everyone and @here), "#"
// (channels) and ":" (emoji), and what a message becomes just before it is sent, as Discord's client
// does: a role or a channel chosen from the list is sent as <@&id> / <#id>, a :shortcode: as its
// emoji. @username stays as typed: the server resolves it (apps/chat/services.py).
import { get } from "../api.js";
import { fold, loadEmoji } from "../emoji.js";

const LIMIT = 10;
const LIST_TTL_MS = 60_000; // roles, channels and a DM's people are asked for again after this
const EMOJI_MIN_QUERY = 2; // ":" then at least this many letters, so "a:b" or ":)" offer nothing
const CODE_SPAN = /(```[\s\S]*?```|`[^`\n]*`)/;

const escapeRe = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `items` whose `names` start with `query`, then those that only contain it, `LIMIT` at most. */
function matching(items, query, names) {
  const q = fold(query);
  const starts = [];
  const contains = [];
  for (const item of items) {
    const folded = names(item).map(fold);
    if (folded.some((n) => n.startsWith(q))) starts.push(item);
    else if (q && folded.some((n) => n.includes(q))) contains.push(item);
  }
  return [...starts, ...contains].slice(0, LIMIT);
}

export class Suggestions {
  constructor(page) {
    this.page = page;
    this.t = page.t;
    this.dm = page.guildId <= 0;
    this.lists = new Map(); // url -> {at, promise}
    this.chosen = new Map(); // "@Role" / "#channel" inserted from the list -> "<@&id>" / "<#id>"
    this.emoji = null;
  }

  /** Start loading the emoji data (a composer got the focus), so a :shortcode: typed is known. */
  prefetch() {
    if (!this.emoji) loadEmoji().then((set) => { this.emoji = set; }, () => {});
  }

  /** A list the server gives whole (roles, channels, a DM), kept for a minute. */
  list(url) {
    const kept = this.lists.get(url);
    if (kept && Date.now() - kept.at < LIST_TTL_MS) return kept.promise;
    const promise = get(url);
    this.lists.set(url, { at: Date.now(), promise });
    promise.catch(() => this.lists.delete(url));
    return promise;
  }

  /** The suggestions for `trigger` ("@", "#" or ":") followed by `query`: {heading, items}, each
   *  item {kind, label, detail, insert, token?, emoji?, color?}. */
  async find(trigger, query) {
    if (trigger === "@") return { heading: this.t.suggestMembers, items: await this.people(query) };
    if (trigger === "#") return { heading: this.t.suggestChannels, items: this.dm ? [] : await this.channels(query) };
    if (trigger === ":" && query.length >= EMOJI_MIN_QUERY) {
      this.emoji = await loadEmoji();
      const q = fold(query);
      return {
        heading: this.t.suggestEmoji,
        items: this.emoji.search(query, LIMIT).map((e) => {
          // The shortcode the query was the start of, if any: ":thum" shows :thumbsup:, not :+1:.
          const code = e.codes.find((c) => c.startsWith(q)) || e.codes.find((c) => c.includes(q)) || e.codes[0];
          return { kind: "emoji", emoji: e.emoji, label: code ? `:${code}:` : e.label, detail: code ? e.label : "", insert: e.emoji };
        }),
      };
    }
    return { heading: "", items: [] };
  }

  async people(query) {
    const { page } = this;
    let users;
    if (this.dm) {
      const channel = await this.list(`/api/users/@me/channels/${page.channelId}`);
      users = matching(channel.recipients || [], query, (u) => [u.username, u.display_name || ""]);
    } else {
      const found = await get(`/api/guilds/${page.guildId}/members/search?${new URLSearchParams({ query, limit: LIMIT })}`);
      users = found.map((m) => ({ ...m.user, display_name: m.nickname || m.user.display_name }));
    }
    const items = users.map((u) => ({
      kind: "user", label: u.display_name || u.username, detail: u.username, insert: `@${u.username}`,
    }));
    if (this.dm) return items;
    const roles = (await this.list(`/api/guilds/${page.guildId}/roles`))
      .filter((r) => !r.is_default && (r.mentionable || page.can.mentionEveryone));
    for (const r of matching(roles, query, (x) => [x.name])) {
      items.push({
        kind: "role", label: `@${r.name}`, detail: this.t.suggestRole, insert: `@${r.name}`, token: `<@&${r.id}>`,
        color: r.color ? `#${r.color.toString(16).padStart(6, "0")}` : "",
      });
    }
    if (page.can.mentionEveryone) {
      for (const [name, detail] of [["everyone", this.t.everyoneHint], ["here", this.t.hereHint]]) {
        if (name.startsWith(fold(query))) items.push({ kind: "everyone", label: `@${name}`, detail, insert: `@${name}` });
      }
    }
    return items.slice(0, LIMIT);
  }

  async channels(query) {
    const channels = await this.list(`/api/guilds/${this.page.guildId}/channels`);
    return matching(channels, query, (c) => [c.name]).map((c) => ({
      kind: "channel", type: c.type, label: c.name, detail: "", insert: `#${c.name}`, token: `<#${c.id}>`,
    }));
  }

  /** Remember what the text `insert` stands for when it is sent. */
  choose(item) {
    if (item.token) this.chosen.set(item.insert, item.token);
    else this.chosen.delete(item.insert); // "@ada" the member, not a role of that name chosen before
  }

  /** The message as it is sent: roles and channels chosen from the list as their tokens, known
   *  :shortcodes: as emoji; code stays as typed. */
  outgoing(text) {
    const names = [...this.chosen.keys()].sort((a, b) => b.length - a.length);
    const pattern = names.length ? new RegExp(`(${names.map(escapeRe).join("|")})(?![\\p{L}\\p{N}_-])`, "gu") : null;
    return text.split(CODE_SPAN).map((part, i) => {
      if (i % 2) return part;
      let out = pattern ? part.replace(pattern, (name) => this.chosen.get(name)) : part;
      if (this.emoji) out = this.emoji.replaceShortcodes(out);
      return out;
    }).join("");
  }
}
