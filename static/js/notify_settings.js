// The member's notification settings in this tab: READY's `notification_settings`, kept live by
// NOTIFICATION_SETTINGS_UPDATE (a change made in another tab arrives here too). Muted guilds,
// channels and DMs are marked `.muted` in the sidebar, the DM list and the guild rail, which hides
// their unread badges (a mention still shows); a mute that runs out is lifted at its time.
// Others listen for "smartc:notify-settings" on document (the DM list repaints).

const guilds = new Map(); // guild id -> settings
const channels = new Map(); // channel id -> settings (overrides and DMs)
let expiryTimer = null;

function muteInForce(entry, now = Date.now()) {
  if (!entry?.muted) return false;
  return !entry.muted_until || Date.parse(entry.muted_until) > now;
}

export function guildSettings(guildId) {
  return guilds.get(guildId) || { guild_id: guildId, channel_id: null, level: "mentions", suppress_everyone: false,
    muted: false, muted_until: null };
}

export function channelSettings(channelId, guildId = null) {
  return channels.get(channelId) || { guild_id: guildId, channel_id: channelId, level: "inherit", muted: false,
    muted_until: null };
}

export function isGuildMuted(guildId) {
  return muteInForce(guilds.get(guildId));
}

export function isChannelMuted(channelId) {
  return muteInForce(channels.get(channelId));
}

/** Take the settings the server sent (a list from READY, or one from an update). */
function store(entry) {
  if (!entry) return;
  if (entry.channel_id === null || entry.channel_id === undefined) guilds.set(entry.guild_id, entry);
  else channels.set(entry.channel_id, entry);
}

function paint() {
  for (const link of document.querySelectorAll(".channel-link[data-channel-id], .dm-link[data-channel-id]")) {
    link.classList.toggle("muted", isChannelMuted(Number(link.dataset.channelId)));
  }
  for (const item of document.querySelectorAll(".rail-item[data-guild-id]")) {
    item.classList.toggle("muted", isGuildMuted(Number(item.dataset.guildId)));
  }
  document.dispatchEvent(new CustomEvent("smartc:notify-settings"));
  scheduleExpiry();
}

/** Repaint when the next mute in force runs out. */
function scheduleExpiry() {
  clearTimeout(expiryTimer);
  const now = Date.now();
  const ends = [...guilds.values(), ...channels.values()]
    .filter((e) => muteInForce(e, now) && e.muted_until).map((e) => Date.parse(e.muted_until));
  if (!ends.length) return;
  // setTimeout holds at most ~24.8 days; a longer wait just repaints once then and waits again.
  expiryTimer = setTimeout(paint, Math.min(Math.min(...ends) - now + 50, 2 ** 31 - 1));
}

/** Follow the settings on a gateway (READY, then updates). */
export function attachNotifySettings(gateway) {
  gateway.on("READY", (d) => {
    guilds.clear();
    channels.clear();
    for (const entry of d?.notification_settings?.guilds || []) store(entry);
    for (const entry of d?.notification_settings?.channels || []) store(entry);
    paint();
  });
  gateway.on("NOTIFICATION_SETTINGS_UPDATE", (d) => {
    store(d);
    paint();
  });
}

/** What the server answered to a change made in this tab (its event follows; either is enough). */
export function settingsChanged(entry) {
  store(entry);
  paint();
}
