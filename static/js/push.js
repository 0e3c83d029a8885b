// Web Push for this device: the service worker (/sw.js, which loads sw-push.js), the browser's push
// subscription made with the server's VAPID key, and that subscription handed to the server, which
// pushes to it when the member has no tab in use (apps/notifications). The server forgets it when
// the member turns notifications off here, or when the push service says it is gone.
import { get, send } from "./api.js";

const WORKER_URL = "/sw.js";
const POSTED_KEY = "smartc.push.posted"; // this tab's session already handed its subscription over

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && window.isSecureContext;
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  if (!buffer) return false;
  const have = new Uint8Array(buffer);
  return have.length === bytes.length && have.every((b, i) => b === bytes[i]);
}

/** The service worker's registration (registered now if it was not). */
export async function workerRegistration() {
  if (!("serviceWorker" in navigator)) return null;
  await navigator.serviceWorker.register(WORKER_URL, { scope: "/" });
  return navigator.serviceWorker.ready;
}

/**
 * Subscribe this device (or renew its subscription) and hand it to the server. Resolves false when
 * this browser or this server has no Web Push (the open tabs still notify).
 */
export async function enablePush() {
  if (!pushSupported()) return false;
  let key;
  try {
    key = keyBytes((await get("/api/push/vapid-key")).public_key);
  } catch (err) {
    if (err.code === "push_disabled") return false;
    throw err;
  }
  const registration = await workerRegistration();
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options?.applicationServerKey, key)) {
    await subscription.unsubscribe(); // made for another server key: its pushes would be refused
    subscription = null;
  }
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  }
  await send("POST", "/api/push/subscriptions", subscription.toJSON());
  sessionStorage.setItem(POSTED_KEY, "1");
  return true;
}

/** Stop pushes to this device: the browser's subscription and the server's copy. */
export async function disablePush() {
  sessionStorage.removeItem(POSTED_KEY);
  if (!pushSupported()) return;
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return;
  const endpoint = subscription.endpoint;
  await subscription.unsubscribe();
  await send("DELETE", "/api/push/subscriptions", { endpoint });
}

/** Once per session, hand the device's subscription to the server again: it may have been made
 *  for another account on this browser, renewed by the push service, or dropped by the server. */
export function refreshPush() {
  if (sessionStorage.getItem(POSTED_KEY)) return;
  enablePush().catch((err) => console.warn("push subscription:", err));
}
