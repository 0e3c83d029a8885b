// Web Push in the service worker (a classic script: the worker loads it with importScripts).
//
// The server pushes a notification (apps/notifications/payloads.py: title, body, url, tag) to the
// devices of a member with no tab in use; it was decided there, from the member's settings. Here:
// - push: show it, unless a window of the site is in view and focused (the member is looking at
//   SmaRTC: its page shows the message). The tag is the message's, so the same message shown by a
//   hidden tab (static/js/notifications.js) and by a push makes one notification, not two.
// - notificationclick: bring a window of the site forward and open the message there (the page
//   jumps to it), or open a new window on it.

self.addEventListener("push", (event) => {
  let data = null;
  try {
    data = event.data ? event.data.json() : null;
  } catch {
    data = null;
  }
  if (!data || typeof data.title !== "string") return;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    if (windows.some((w) => w.visibilityState === "visible" && w.focused)) return;
    await self.registration.showNotification(data.title, {
      body: data.body || "",
      tag: data.tag || undefined,
      timestamp: data.created_at ? Date.parse(data.created_at) : Date.now(),
      data: { url: data.url, message_id: data.message_id, channel_id: data.channel_id, guild_id: data.guild_id },
    });
  })());
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = event.notification.data || {};
  const url = new URL(target.url || "/", self.location.origin);
  if (url.origin !== self.location.origin) return;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((w) => new URL(w.url).origin === url.origin);
    if (open) {
      await open.focus();
      // The page opens the message itself: in place when it shows that channel (a jump, no reload).
      open.postMessage({ type: "smartc:open-message", url: url.pathname + url.search, ...target });
      return;
    }
    await self.clients.openWindow(url.href);
  })());
});
