// Direct messages: the DM list (the sidebar of /channels/@me pages), its unread badges and the DM
// item of the guild rail, kept live over the tab's one gateway (tab_gateway.js), on every page.
// The number of unread DMs goes to the tab title too ("smartc:dm-unread", rail.js).
import { h, quoteText } from "./dom.js";
import { emojify } from "./emoji.js";
import { isChannelMuted } from "./notify_settings.js";

class DirectMessages {
  constructor() {
    this.channels = new Map(); // id -> DM entry (as in READY's private_channels), most recent first
    this.ready = false; // READY came: until then the server's list stands
    this.userId = 0;
    this.showPage();
  }

  /** A new page (page.js): its DM list, its rail item and its open DM. */
  showPage() {
    this.list = document.getElementById("dm-list");
    this.rail = document.getElementById("rail-dms");
    this.railCount = this.rail?.querySelector(".rail-dm-count");
    const chat = document.getElementById("chat");
    this.openId = chat?.dataset.dm === "true" ? Number(chat.dataset.channelId) : 0;
    this.userId = this.userId || Number(this.list?.dataset.userId || chat?.dataset.userId || 0);
    const open = this.channels.get(this.openId);
    if (open) open.unread = 0; // the chat page marks it read
    if (this.ready) this.render();
  }

  /** Follow the DM events of a gateway. */
  attach(gateway) {
    gateway.on("READY", (d) => this.onReady(d));
    gateway.on("MESSAGE_CREATE", (m) => this.onMessage(m));
    gateway.on("MESSAGE_ACK", (d) => this.setUnread(d.channel_id, 0));
    gateway.on("CHANNEL_CREATE", (d) => this.onChannel(d, { created: true }));
    gateway.on("CHANNEL_UPDATE", (d) => this.onChannel(d));
    gateway.on("CHANNEL_RECIPIENT_ADD", (d) => this.onRecipient(d, +1));
    gateway.on("CHANNEL_RECIPIENT_REMOVE", (d) => this.onRecipient(d, -1));
    gateway.on("CHANNEL_DELETE", (d) => this.onDelete(d));
    document.addEventListener("smartc:notify-settings", () => this.render()); // a DM muted or unmuted
  }

  onReady(d) {
    this.userId = d?.user?.id ?? this.userId;
    this.channels = new Map((d?.private_channels || []).map((c) => [c.id, c]));
    this.ready = true;
    const open = this.channels.get(this.openId);
    if (open) open.unread = 0; // the chat page marks it read
    this.render();
  }

  onMessage(m) {
    if (m.guild_id !== null && m.guild_id !== undefined) return;
    const entry = this.channels.get(m.channel_id);
    if (!entry) return;
    if (m.id <= (entry.last_message_id || 0) && m.id <= (entry.last_message?.id || 0)) return; // a replay
    entry.last_message_id = m.id;
    entry.last_message = { id: m.id, content: quoteText(m.content_html), created_at: m.created_at,
      author: m.author ? { id: m.author.id, display_name: m.author.display_name } : null };
    if (m.author?.id !== this.userId && m.channel_id !== this.openId) entry.unread = (entry.unread || 0) + 1;
    this.moveToTop(entry);
    this.render();
  }

  setUnread(channelId, unread) {
    const entry = this.channels.get(channelId);
    if (!entry || entry.unread === unread) return;
    entry.unread = unread;
    this.render();
  }

  onChannel(d, { created = false } = {}) {
    if (d.guild_id !== null && d.guild_id !== undefined) return;
    const entry = this.channels.get(d.id);
    if (entry) Object.assign(entry, { name: d.name, owner_id: d.owner_id, recipients: d.recipients });
    else if (created) this.moveToTop({ ...d, unread: 0, mentions: 0, last_message: null });
    this.render();
  }

  onRecipient(d, delta) {
    const entry = this.channels.get(d.channel_id);
    if (!entry) return;
    const others = entry.recipients.filter((r) => r.id !== d.user.id);
    entry.recipients = delta > 0 ? [...others, d.user] : others;
    this.render();
  }

  onDelete(d) {
    if (d.guild_id !== null && d.guild_id !== undefined) return;
    this.channels.delete(d.id);
    if (d.id === this.openId) window.location.assign("/channels/@me");
    this.render();
  }

  moveToTop(entry) {
    this.channels.delete(entry.id);
    this.channels = new Map([[entry.id, entry], ...this.channels]);
  }

  title(entry) {
    if (entry.name) return entry.name;
    const others = (entry.recipients || []).filter((r) => r.id !== this.userId).map((r) => r.display_name);
    return others.join(", ") || entry.recipients?.[0]?.display_name || "";
  }

  render() {
    let total = 0;
    for (const entry of this.channels.values()) {
      if (entry.id !== this.openId && !isChannelMuted(entry.id)) total += entry.unread || 0;
    }
    document.dispatchEvent(new CustomEvent("smartc:dm-unread", { detail: total }));
    if (this.rail) {
      this.rail.classList.toggle("unread", total > 0);
      this.railCount.hidden = total === 0;
      this.railCount.textContent = total > 99 ? "99+" : String(total);
    }
    if (!this.list) return;
    const items = [...this.channels.values()].map((entry) => this.renderEntry(entry));
    if (!items.length) items.push(h("li", { class: "dm-empty muted", text: this.list.dataset.empty }));
    this.list.replaceChildren(...items);
  }

  renderEntry(entry) {
    const title = this.title(entry);
    const unread = entry.id === this.openId ? 0 : entry.unread || 0;
    const link = h("a", {
      class: `dm-link${entry.id === this.openId ? " active" : ""}${unread ? " unread" : ""}${
        isChannelMuted(entry.id) ? " muted" : ""}`,
      href: `/channels/@me/${entry.id}`, dataset: { channelId: String(entry.id), type: entry.type },
    },
    h("span", { class: "avatar", "aria-hidden": "true", text: title.slice(0, 1).toUpperCase() }),
    h("span", { class: "dm-text" },
      h("span", { class: "dm-title", text: title }),
      emojify(h("span", { class: "dm-preview", text: (entry.last_message?.content || "").slice(0, 60) }))),
    h("span", { class: "dm-unread", title: this.list.dataset.unreadLabel, hidden: unread === 0,
      text: unread > 99 ? "99+" : String(unread) }));
    return h("li", {}, link);
  }
}

export const directMessages = new DirectMessages();
