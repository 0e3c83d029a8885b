// Desktop notifications for mentions. When a MESSAGE_CREATE mentions the current user (directly, by
// one of their roles, or @everyone/@here) while the tab is hidden, a Notification says who wrote in
// which channel; clicking it brings the tab forward and opens the message. A bell button asks the
// browser for permission and remembers the choice in localStorage.
import { openMessage, renderedText } from "./search.js";

const STORAGE_KEY = "smartc.notifications";
const BODY_MAX = 200;

function supported() {
  return typeof window.Notification === "function";
}

export function notificationsWanted() {
  return supported() && Notification.permission === "granted" && localStorage.getItem(STORAGE_KEY) === "on";
}

/** The message as one line of plain text (mentions by name, no markdown signs), cut to BODY_MAX. */
function plainText(m) {
  const text = renderedText(m).replace(/\s+/g, " ").trim();
  return text.length > BODY_MAX ? `${text.slice(0, BODY_MAX - 1)}…` : text;
}

/**
 * @param {import("./gateway.js").Gateway} gateway the page's gateway (READY and MESSAGE_CREATE)
 * @param {{userId: number, guildId: number, roleIds: Set<number>}} me
 */
export function attachNotifications(gateway, me) {
  const tools = document.getElementById("search-tools");
  const t = { ...(tools?.dataset || {}) };
  const channels = new Map(); // channel id -> name, from READY
  const rolesByGuild = new Map([[me.guildId, me.roleIds]]);
  for (const link of document.querySelectorAll(".channel-link[data-channel-id]")) {
    channels.set(Number(link.dataset.channelId), link.querySelector(".channel-name")?.textContent || "");
  }

  gateway.on("READY", (d) => {
    for (const guild of d?.guilds || []) {
      for (const ch of guild.channels || []) channels.set(ch.id, ch.name);
      if (Array.isArray(guild.role_ids) && guild.id !== me.guildId) rolesByGuild.set(guild.id, new Set(guild.role_ids));
    }
  });

  gateway.on("MESSAGE_CREATE", (m) => {
    if (!m || m.author?.id === me.userId || document.visibilityState !== "hidden" || !notificationsWanted()) return;
    const roles = rolesByGuild.get(m.guild_id) || new Set();
    const mentioned = (m.mentions || []).includes(me.userId) || Boolean(m.mention_everyone)
      || (m.mention_roles || []).some((id) => roles.has(id));
    if (!mentioned) return;
    const author = m.author?.display_name || t.deletedUser || "";
    const channel = channels.get(m.channel_id) || String(m.channel_id);
    const title = (t.notifyTitle || "{author} in #{channel}").replace("{author}", author).replace("{channel}", channel);
    let note;
    try {
      note = new Notification(title, { body: plainText(m), tag: `msg-${m.id}` });
    } catch (err) {
      console.error("notification failed", err);
      return;
    }
    note.onclick = () => {
      window.focus();
      note.close();
      openMessage({ guildId: m.guild_id, channelId: m.channel_id, messageId: m.id });
    };
  });

  bindBell(t);
}

function bindBell(t) {
  const bell = document.getElementById("notify-toggle");
  if (!bell || !supported()) return;
  const paint = () => {
    const on = notificationsWanted();
    bell.setAttribute("aria-pressed", String(on));
    bell.classList.toggle("active", on);
    bell.title = Notification.permission === "denied" ? t.notifyDenied : on ? t.notifyOn : t.notifyOff;
  };
  bell.hidden = false;
  paint();
  bell.addEventListener("click", async () => {
    if (notificationsWanted()) {
      localStorage.setItem(STORAGE_KEY, "off");
    } else {
      const answer = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
      localStorage.setItem(STORAGE_KEY, answer === "granted" ? "on" : "off");
    }
    paint();
  });
}
