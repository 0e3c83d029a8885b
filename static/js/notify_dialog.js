// The notification settings dialog of a channel page (templates/notifications/dialog.html): this
// device's notifications, the guild's level, @everyone and @here, and mute, and the channel's (or
// the DM's) own level and mute. Each change is saved at once (PATCH); the answer, and the
// NOTIFICATION_SETTINGS_UPDATE every tab gets, repaint it.
import { send } from "./api.js";
import { fillText, momentText } from "./dom.js";
import { channelSettings, guildSettings, settingsChanged } from "./notify_settings.js";

const CURRENT = "current"; // the select's option that tells a running mute's end

/**
 * @param {HTMLDialogElement} dialog
 * @param {{wanted: () => boolean, setWanted: (on: boolean) => Promise<boolean>}} device
 * @param {AbortSignal} signal the page's (page.js)
 */
export function bindNotifyDialog(dialog, device, signal) {
  const t = { ...dialog.dataset };
  const guildId = Number(t.guildId) || null;
  const channelId = Number(t.channelId);
  const $ = (id) => document.getElementById(id);
  const error = $("notify-error");
  const deviceBox = $("notify-device");
  const guildUrl = `/api/users/@me/guilds/${guildId}/notification-settings`;
  const channelUrl = `/api/users/@me/channels/${channelId}/notification-settings`;

  function paintMute(select, entry) {
    select.querySelector(`option[value="${CURRENT}"]`)?.remove();
    const until = entry.muted_until ? new Date(entry.muted_until) : null;
    if (!entry.muted || (until && until <= new Date())) {
      select.value = "";
    } else if (!until) {
      select.value = "forever";
    } else {
      const option = new Option(fillText(t.mutedUntil, { time: momentText(until) }), CURRENT);
      select.prepend(option);
      select.value = CURRENT;
    }
  }

  function paint() {
    deviceBox.checked = device.wanted();
    if (guildId && $("notify-guild")) {
      const g = guildSettings(guildId);
      for (const radio of dialog.querySelectorAll("input[name=guild-level]")) radio.checked = radio.value === g.level;
      $("notify-suppress").checked = g.suppress_everyone;
      paintMute($("notify-guild-mute"), g);
    }
    const c = channelSettings(channelId, guildId);
    for (const radio of dialog.querySelectorAll("input[name=channel-level]")) radio.checked = radio.value === c.level;
    paintMute($("notify-channel-mute"), c);
  }

  async function save(url, body) {
    error.hidden = true;
    try {
      settingsChanged(await send("PATCH", url, body));
    } catch (err) {
      error.textContent = (err?.unreachable ? t.network : err?.message) || t.failed;
      error.hidden = false;
    }
    paint();
  }

  function mute(value) {
    if (value === "") return { muted: false };
    if (value === "forever") return { muted: true, mute_minutes: null };
    return { muted: true, mute_minutes: Number(value) };
  }

  $("notify-settings-toggle").addEventListener("click", () => {
    paint();
    error.hidden = true;
    dialog.showModal();
  });
  document.addEventListener("smartc:notify-settings", () => {
    if (dialog.open) paint();
  }, { signal });
  deviceBox.addEventListener("change", async () => {
    deviceBox.disabled = true;
    const on = await device.setWanted(deviceBox.checked);
    deviceBox.disabled = false;
    deviceBox.checked = on;
    if (!on && Notification?.permission === "denied") {
      error.textContent = t.denied;
      error.hidden = false;
    }
  });
  for (const radio of dialog.querySelectorAll("input[name=guild-level]")) {
    radio.addEventListener("change", () => save(guildUrl, { level: radio.value }));
  }
  $("notify-suppress")?.addEventListener("change", (event) => save(guildUrl, { suppress_everyone: event.target.checked }));
  $("notify-guild-mute")?.addEventListener("change", (event) => {
    if (event.target.value !== CURRENT) save(guildUrl, mute(event.target.value));
  });
  for (const radio of dialog.querySelectorAll("input[name=channel-level]")) {
    radio.addEventListener("change", () => save(channelUrl, { level: radio.value }));
  }
  $("notify-channel-mute").addEventListener("change", (event) => {
    if (event.target.value !== CURRENT) save(channelUrl, mute(event.target.value));
  });
}
