// Unread state on every page with the guild rail: each guild's dot (unread messages) and count
// (mentions of the member, @everyone and their roles), and the tab's title, "(3) #general · …",
// counting mentions and unread direct messages (dms.js tells that number with "smartc:dm-unread").
// It follows READY, MESSAGE_CREATE and MESSAGE_ACK on the tab's one gateway. The open channel
// counts for nothing: the chat page marks it read (chat/unread.js paints the sidebar's badges).
import { isChannelMuted, isGuildMuted } from "./notify_settings.js";

function countText(n) {
  return n > 99 ? "99+" : String(n);
}

export class UnreadRail {
  constructor() {
    this.channels = new Map(); // channel id -> {guildId, unread, mentions}
    this.roleIds = new Map(); // guild id -> Set of the member's role ids
    this.dmUnread = 0;
    this.userId = 0;
    this.showPage();
  }

  /** A new page (page.js): its open channel, its title and its rail. */
  showPage() {
    const chat = document.getElementById("chat");
    this.openChannelId = chat && chat.dataset.dm !== "true" ? Number(chat.dataset.channelId) : 0;
    this.userId = this.userId || Number(chat?.dataset.userId || 0);
    this.channels.delete(this.openChannelId); // the chat page marks it read
    this.baseTitle = document.title;
    this.paint();
  }

  attach(gateway) {
    gateway.on("READY", (d) => this.onReady(d));
    gateway.on("GUILD_CREATE", (d) => this.onGuild(d));
    gateway.on("MESSAGE_CREATE", (m) => this.onMessage(m));
    gateway.on("MESSAGE_ACK", (d) => this.clear(d.channel_id));
    document.addEventListener("smartc:dm-unread", (event) => {
      this.dmUnread = Number(event.detail) || 0;
      this.paintTitle();
    });
    document.addEventListener("smartc:notify-settings", () => this.paint()); // a mute set or lifted
  }

  onReady(d) {
    this.userId = d?.user?.id ?? this.userId;
    this.channels.clear();
    for (const guild of d?.guilds || []) this.onGuild(guild, { paint: false });
    this.paint();
  }

  onGuild(guild, { paint = true } = {}) {
    if (!guild?.id) return;
    if (guild.role_ids) this.roleIds.set(guild.id, new Set(guild.role_ids));
    for (const ch of guild.channels || []) {
      if (ch.id === this.openChannelId) continue;
      this.channels.set(ch.id, { guildId: guild.id, unread: ch.unread || 0, mentions: ch.mentions || 0 });
    }
    if (paint) this.paint();
  }

  mentionsMe(m) {
    const roles = this.roleIds.get(m.guild_id) || new Set();
    return (m.mentions || []).includes(this.userId) || Boolean(m.mention_everyone)
      || (m.mention_roles || []).some((id) => roles.has(id));
  }

  onMessage(m) {
    if (m.guild_id === null || m.guild_id === undefined) return; // a DM: dms.js counts it
    if (m.channel_id === this.openChannelId || m.author?.id === this.userId) return;
    const entry = this.channels.get(m.channel_id) || { guildId: m.guild_id, unread: 0, mentions: 0 };
    entry.unread += 1;
    if (this.mentionsMe(m)) entry.mentions += 1;
    this.channels.set(m.channel_id, entry);
    this.paint();
  }

  clear(channelId) {
    const entry = this.channels.get(channelId);
    if (!entry || (!entry.unread && !entry.mentions)) return;
    entry.unread = 0;
    entry.mentions = 0;
    this.paint();
  }

  /** Per guild: {unread, mentions}. A muted channel's plain messages count for nothing. */
  totals() {
    const totals = new Map();
    for (const [channelId, entry] of this.channels) {
      const t = totals.get(entry.guildId) || { unread: 0, mentions: 0 };
      if (!isChannelMuted(channelId) && !isGuildMuted(entry.guildId)) t.unread += entry.unread;
      t.mentions += entry.mentions;
      totals.set(entry.guildId, t);
    }
    return totals;
  }

  paint() {
    const totals = this.totals();
    for (const item of document.querySelectorAll(".rail-item[data-guild-id]")) {
      const t = totals.get(Number(item.dataset.guildId)) || { unread: 0, mentions: 0 };
      item.classList.toggle("unread", t.unread > 0 || t.mentions > 0);
      item.classList.toggle("mentioned", t.mentions > 0);
      const badge = item.querySelector(".rail-count");
      if (badge) {
        badge.hidden = t.mentions === 0;
        badge.textContent = countText(t.mentions);
      }
    }
    let mentions = 0;
    for (const t of totals.values()) mentions += t.mentions;
    this.mentions = mentions;
    this.paintTitle();
  }

  paintTitle() {
    const count = (this.mentions || 0) + this.dmUnread;
    document.title = count > 0 ? `(${countText(count)}) ${this.baseTitle}` : this.baseTitle;
  }
}
