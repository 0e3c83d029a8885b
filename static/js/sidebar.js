// The channel sidebar follows the guild live: channels created, renamed, moved or deleted, and the
// channels the user gains or loses with a permission change (PERMISSIONS_CHANGED lists them all).
// Names go in through textContent; the icons are the server-rendered ones in #channel-icons.

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
    });
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
