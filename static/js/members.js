// Presence in the member list: asks the gateway for the guild's members (op 8), shows each one's
// status as a dot on their avatar, follows PRESENCE_UPDATE, and sets this user's own status (op 3)
// from the picker in the user panel, going idle by itself after a while without input.
import { Op } from "./gateway.js";

const IDLE_AFTER_MS = 5 * 60 * 1000;
const IDLE_CHECK_MS = 30 * 1000;
const STATUSES = new Set(["online", "idle", "dnd", "offline"]);
const STORED = "smartc.status";
// What the server has for this tab's connection (it starts online); it outlives a page (page.js).
let sent = "online";

export class Presence {
  /** `signal` (page.js) ends its window listeners and its idle check with the page. */
  constructor(gateway, guildId, signal) {
    this.gateway = gateway;
    this.signal = signal;
    this.guildId = guildId;
    this.picker = document.getElementById("presence-status");
    this.labels = { offline: this.picker?.dataset.offline || "offline" };
    for (const option of this.picker?.options || []) this.labels[option.value] = option.textContent;
    const stored = localStorage.getItem(STORED);
    this.chosen = stored === "idle" || stored === "dnd" ? stored : "online";
    this.lastActive = Date.now();
  }

  start() {
    const g = this.gateway;
    g.on("READY", (d) => {
      if (d) sent = "online"; // a new connection; without data, the page came after READY
      if (this.guildId > 0) g.send(Op.REQUEST_MEMBERS, { guild_id: this.guildId }); // not on DM pages
      this.sync();
    });
    g.on("GUILD_MEMBERS_CHUNK", (d) => {
      if (d.guild_id !== this.guildId) return;
      for (const m of d.members) this.show(m.user_id, m.status);
    });
    g.on("PRESENCE_UPDATE", (d) => {
      if (d.guild_id !== this.guildId) return;
      for (const p of d.presences) this.show(p.user_id, p.status);
    });
    if (this.picker) {
      this.picker.value = this.chosen;
      this.picker.hidden = false;
      this.picker.addEventListener("change", () => {
        this.chosen = this.picker.value;
        localStorage.setItem(STORED, this.chosen);
        this.sync();
      });
    }
    const active = () => {
      this.lastActive = Date.now();
      if (sent === "idle" && this.chosen === "online") this.sync();
    };
    for (const type of ["pointerdown", "keydown", "wheel", "focus"]) window.addEventListener(type, active, { passive: true, signal: this.signal });
    const timer = setInterval(() => this.sync(), IDLE_CHECK_MS);
    this.signal?.addEventListener("abort", () => clearInterval(timer));
  }

  /** The status this tab should have now: the one chosen, or idle when "online" has gone quiet. */
  wanted() {
    if (this.chosen === "online" && Date.now() - this.lastActive > IDLE_AFTER_MS) return "idle";
    return this.chosen;
  }

  sync() {
    const status = this.wanted();
    if (status !== sent && this.gateway.send(Op.PRESENCE_UPDATE, { status })) sent = status;
  }

  show(userId, status) {
    if (!STATUSES.has(status)) return;
    for (const member of document.querySelectorAll(`.member[data-user-id="${Number(userId)}"]`)) {
      member.dataset.status = status;
      const avatar = member.querySelector(".avatar");
      if (!avatar) continue;
      let dot = avatar.querySelector(".presence-dot");
      if (!dot) {
        dot = document.createElement("span");
        dot.className = "presence-dot";
        avatar.append(dot);
      }
      dot.title = this.labels[status] || status;
      dot.setAttribute("aria-label", dot.title);
    }
  }
}
