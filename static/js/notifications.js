// Notifications in this tab. The server decides who hears of a message (apps/notifications: levels,
// mutes, @here, blocks) and tells each member's tabs with NOTIFICATION_CREATE; a hidden tab shows
// it as a desktop notification, if the member turned them on for this device. The same switch
// subscribes the device to Web Push (push.js), which reaches it when no tab is in use. Either way
// the notification is tagged with the message, so a device shows it once, and a click opens it.
// The settings dialog (per guild, channel or DM) is notify_dialog.js.
import { bindNotifyDialog } from "./notify_dialog.js";
import { attachNotifySettings } from "./notify_settings.js";
import { disablePush, enablePush, refreshPush, workerRegistration } from "./push.js";
import { onPage } from "./page.js";
import { openMessage } from "./search.js";

const STORAGE_KEY = "smartc.notifications";

function supported() {
  return typeof window.Notification === "function";
}

/** The member turned notifications on for this device, and the browser allows them. */
export function notificationsWanted() {
  return supported() && Notification.permission === "granted" && localStorage.getItem(STORAGE_KEY) === "on";
}

/** Turn this device's notifications on (asking the browser) or off; resolves to the new state. */
export async function setNotificationsWanted(on) {
  if (!on) {
    localStorage.setItem(STORAGE_KEY, "off");
    await disablePush().catch((err) => console.warn("push unsubscribe:", err));
    return false;
  }
  if (!supported()) return false;
  const answer = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
  localStorage.setItem(STORAGE_KEY, answer === "granted" ? "on" : "off");
  if (answer !== "granted") return false;
  await enablePush().catch((err) => console.warn("push subscription:", err));
  return true;
}

function bodyOf(d, t) {
  if (d.text) return d.text;
  if (d.files) return (d.files === 1 ? t.sentFile : t.sentFiles || "").replace("{n}", String(d.files)) || d.body;
  return d.body || "";
}

async function show(d, t) {
  const options = { body: bodyOf(d, t), tag: d.tag, timestamp: Date.parse(d.created_at) || Date.now(),
    data: { url: d.url, message_id: d.message_id, channel_id: d.channel_id, guild_id: d.guild_id } };
  // Through the service worker when there is one: its notifications and a push's share the tag
  // (one notification per message), and a click reaches the worker even once this tab is gone.
  const registration = "serviceWorker" in navigator ? await navigator.serviceWorker.getRegistration("/") : null;
  if (registration?.active) {
    await registration.showNotification(d.title, options);
    return;
  }
  const note = new Notification(d.title, options);
  note.onclick = () => {
    window.focus();
    note.close();
    openMessage({ guildId: d.guild_id, channelId: d.channel_id, messageId: d.message_id, url: d.url });
  };
}

/**
 * @param {import("./gateway.js").Gateway} gateway the tab's gateway
 */
export function attachNotifications(gateway) {
  attachNotifySettings(gateway);
  gateway.on("NOTIFICATION_CREATE", (d) => {
    if (!d || document.visibilityState !== "hidden" || !notificationsWanted()) return;
    const t = { ...(document.getElementById("notify-dialog")?.dataset || {}) };
    show(d, t).catch((err) => console.error("notification failed", err));
  });
  // A click on a notification, told by the service worker to the window it brought forward.
  navigator.serviceWorker?.addEventListener("message", (event) => {
    const m = event.data;
    if (m?.type !== "smartc:open-message" || typeof m.url !== "string" || !m.url.startsWith("/")) return;
    openMessage({ guildId: m.guild_id, channelId: m.channel_id, messageId: m.message_id, url: m.url });
  });
  if (notificationsWanted()) {
    workerRegistration().catch((err) => console.warn("service worker:", err));
    refreshPush();
  }
}

// The settings dialog of the page that has one (a channel, a DM).
onPage("#notify-dialog", (dialog, signal) => {
  bindNotifyDialog(dialog, { wanted: notificationsWanted, setWanted: setNotificationsWanted }, signal);
});
