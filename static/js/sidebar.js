// The channel sidebar follows the guild live: channels created, renamed, moved or deleted, and the
// channels the user gains or loses with a permission change (PERMISSIONS_CHANGED lists them all).
// Names go in through textContent; the icons are the server-rendered ones in #channel-icons.
// Under each voice channel it lists who is in it, live (asked once per connection with op 14, then
// kept by VOICE_STATE_UPDATE); the voice room page reads the same answers.
import { Op } from "./gateway.js";

export class Sidebar {
  constructor(gateway, guildId) {
    this.gateway = gateway;
    this.guildId = guildId;
    this.root = document.querySelector(".channel-sidebar");
    this.icons = document.getElementById("channel-icons");
  }

  start() {
    if (!this.root || !(this.guildId > 0)) return;
    const g = this.gateway;
    const mine = (d) => d?.guild_id === this.guildId;
    g.on("CHANNEL_CREATE", (d) => mine(d) && this.upsert(d));
    g.on("CHANNEL_UPDATE", (d) => mine(d) && this.upsert(d));
    g.on("CHANNEL_DELETE", (d) => mine(d) && this.remove(d.id));
    g.on("PERMISSIONS_CHANGED", (d) => mine(d) && d.channels && this.reconcile(d.channels));
    g.on("READY", (d) => {
      const guild = (d?.guilds || []).find((x) => x.id === this.guildId);
      if (guild) this.reconcile(guild.channels);
      g.send(Op.REQUEST_VOICE_STATES, { guild_id: this.guildId });
    });
    g.on("VOICE_STATES", (d) => mine(d) && this.voiceStates(d.voice_states));
    g.on("VOICE_STATE_UPDATE", (d) => mine(d) && this.voiceState(d));
  }

  link(id) {
    return this.root.querySelector(`.channel-link[data-channel-id="${Number(id)}"]`);
  }

  reconcile(channels) {
    const keep = new Set(channels.map((c) => c.id));
    for (const a of this.root.querySelectorAll(".channel-link[data-channel-id]")) {
      if (!keep.has(Number(a.dataset.channelId))) this.remove(a.dataset.channelId);
    }
    for (const c of channels) this.upsert(c);
  }

  upsert(ch) {
    if (!["text", "voice", "announcement"].includes(ch.type)) return;
    let a = this.link(ch.id);
    if (!a) {
      a = document.createElement("a");
      a.className = "channel-link";
      a.dataset.channelId = String(ch.id);
      a.href = `/guilds/${this.guildId}/channels/${Number(ch.id)}`;
      const icon = this.icons?.content.querySelector(`[data-type="${ch.type}"]`);
      if (icon) a.append(icon.firstElementChild.cloneNode(true));
      const name = document.createElement("span");
      name.className = "channel-name";
      a.append(name);
      for (const cls of ["badge-mention", "badge-unread"]) {
        const badge = document.createElement("span");
        badge.className = cls;
        badge.hidden = true;
        a.append(badge);
      }
      const li = document.createElement("li");
      li.append(a);
      li.dataset.position = String(ch.position ?? 0);
      this.place(li, ch.category_id);
    } else if (String(ch.category_id ?? "") !== (a.closest(".channel-group")?.dataset.categoryId ?? "")) {
      this.place(a.closest("li"), ch.category_id);
    }
    a.querySelector(".channel-name").textContent = ch.name;
  }

  voiceStates(states) {
    for (const list of this.root.querySelectorAll(".voice-members")) list.remove();
    for (const s of states) this.voiceState(s);
  }

  /** Show a participant under their voice channel (or nowhere, once they left). */
  voiceState(s) {
    const old = this.root.querySelector(`.voice-members li[data-user-id="${Number(s.user_id)}"]`);
    const oldList = old?.parentElement;
    old?.remove();
    if (oldList && !oldList.children.length) oldList.remove();
    const a = s.channel_id == null ? null : this.link(s.channel_id);
    if (!a) return;
    let list = a.parentElement.querySelector(".voice-members");
    if (!list) {
      list = document.createElement("ul");
      list.className = "voice-members";
      a.after(list);
    }
    const li = document.createElement("li");
    li.dataset.userId = String(s.user_id);
    const member = document.querySelector(`.member-list .member[data-user-id="${Number(s.user_id)}"] .member-name`);
    li.textContent = member ? member.textContent.trim() : `#${Number(s.user_id)}`;
    li.classList.toggle("muted", !!(s.mute || s.self_mute));
    list.append(li);
  }

  /** Put a channel's <li> in its category's list (made if missing), ordered by position. */
  place(li, categoryId) {
    const key = categoryId == null ? "" : String(categoryId);
    let group = this.root.querySelector(`.channel-group[data-category-id="${key}"]`);
    if (!group) {
      group = document.createElement("section");
      group.className = "channel-group";
      group.dataset.categoryId = key;
      group.append(document.createElement("ul"));
      this.root.querySelector(".me-panel")?.before(group);
    }
    const list = group.querySelector("ul");
    const position = Number(li.dataset.position || 0);
    const next = [...list.children].find((x) => x !== li && Number(x.dataset.position || 0) > position);
    list.insertBefore(li, next || null);
  }

  remove(id) {
    const li = this.link(id)?.closest("li");
    const group = li?.closest(".channel-group");
    li?.remove();
    if (group && !group.querySelector("li") && !group.querySelector(".category-name")) group.remove();
  }
}
