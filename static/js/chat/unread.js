// Read state: the open channel is marked read up to its newest message while the reader can see it
// (op 7 on the gateway, REST when the socket is down), and the other channels' unread dots and
// mention counts in the sidebar follow READY, MESSAGE_CREATE and MESSAGE_ACK (the guild rail's
// badges and the tab title are rail.js's, on every page).
import { request } from "../api.js";
import { Op } from "../gateway.js";

export class ReadState {
  constructor(page) {
    this.page = page;
    this.unread = new Map(); // channel id -> {guildId, unread, mentions}
    this.lastAcked = 0;
    this.ackTimer = null;
  }

  start() {
    const { gateway: g, channelId, list } = this.page;
    this.clearBadge(channelId);
    const { signal } = this.page;
    document.addEventListener("visibilitychange", () => this.maybeAck(), { signal });
    window.addEventListener("focus", () => this.maybeAck(), { signal });
    this.page.scroller.addEventListener("scroll", () => {
      if (list.isNearBottom()) this.maybeAck();
    }, { passive: true });
    g.on("READY", (d) => this.onReady(d));
    g.on("MESSAGE_CREATE", (m) => {
      if (m.channel_id !== channelId) this.onOtherMessage(m);
    });
    g.on("MESSAGE_ACK", (d) => {
      if (d.channel_id !== channelId) this.clearBadge(d.channel_id);
    });
  }

  onReady(d) {
    for (const guild of d?.guilds || []) {
      for (const ch of guild.channels || []) {
        if (ch.id === this.page.channelId) continue;
        this.unread.set(ch.id, { guildId: guild.id, unread: ch.unread || 0, mentions: ch.mentions || 0 });
        this.paintBadge(ch.id);
      }
    }
  }

  onOtherMessage(m) {
    if (m.author?.id === this.page.userId) return;
    const entry = this.unread.get(m.channel_id) || { guildId: m.guild_id, unread: 0, mentions: 0 };
    entry.guildId = entry.guildId ?? m.guild_id;
    entry.unread += 1;
    if (this.page.view.mentionsMe(m)) entry.mentions += 1;
    this.unread.set(m.channel_id, entry);
    this.paintBadge(m.channel_id);
  }

  /** Mark the channel read up to its newest message, if the reader can see it. A burst of new
   *  messages costs one ack (`now` skips the short wait, e.g. right after the page opens). */
  maybeAck({ now = false } = {}) {
    if (document.visibilityState !== "visible" || !this.page.history.loaded) return;
    const newest = this.page.list.newestId();
    if (!newest || newest <= this.lastAcked) return;
    clearTimeout(this.ackTimer);
    this.ackTimer = setTimeout(() => this.ack(), now ? 0 : 300);
  }

  /** An ack still waiting goes out now (the page is being left). */
  flush() {
    if (this.ackTimer) this.ack();
  }

  ack() {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const { channelId, gateway } = this.page;
    const id = this.page.list.newestId();
    if (!id || id <= this.lastAcked) return;
    this.lastAcked = id;
    if (gateway.send(Op.ACK, { channel_id: channelId, message_id: id })) return;
    // keepalive: the read state is saved even if the reader leaves the page right away.
    request(`/api/channels/${channelId}/ack`, { method: "POST", json: { message_id: id }, keepalive: true })
      .catch(() => {
        if (this.lastAcked === id) this.lastAcked = 0;
      });
  }

  linkFor(channelId) {
    return document.querySelector(`.channel-link[data-channel-id="${channelId}"]`);
  }

  clearBadge(channelId) {
    const entry = this.unread.get(channelId);
    if (entry) {
      entry.unread = 0;
      entry.mentions = 0;
    }
    this.paintBadge(channelId);
  }

  paintBadge(channelId) {
    const link = this.linkFor(channelId);
    if (!link) return;
    const entry = this.unread.get(channelId) || { unread: 0, mentions: 0 };
    const isOpen = channelId === this.page.channelId;
    const unread = isOpen ? 0 : entry.unread;
    const mentions = isOpen ? 0 : entry.mentions;
    link.classList.toggle("unread", unread > 0);
    const dot = link.querySelector(".badge-unread");
    if (dot) dot.hidden = unread === 0;
    const badge = link.querySelector(".badge-mention");
    if (badge) {
      badge.hidden = mentions === 0;
      badge.textContent = mentions > 99 ? "99+" : String(mentions);
    }
  }
}
