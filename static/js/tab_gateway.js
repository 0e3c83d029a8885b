// One gateway per tab. A page that opens its own socket (the chat, the voice room, the tracks
// pages) announces it as it is made (gateway.js fires "smartc:gateway"); the shell's parts (the
// guild rail's badges, the DM list, the tab title) listen on that one. A page that opens none gets
// one opened here once its modules have run, which also carries warnings and notifications.
import { Gateway } from "./gateway.js";
import { attachNotifications } from "./notifications.js";
import { attachWarnings } from "./warnings.js";

let tabGateway = null;
const waiting = [];

document.addEventListener("smartc:gateway", (event) => {
  if (tabGateway) return;
  tabGateway = event.detail;
  for (const callback of waiting.splice(0)) callback(tabGateway);
});

/** Call `callback(gateway)` with the tab's gateway, before it connects. */
export function onTabGateway(callback) {
  if (tabGateway) callback(tabGateway);
  else waiting.push(callback);
}

/** Open the tab's own socket if no page module did (call once the page's modules have run). */
export function ensureTabGateway() {
  if (tabGateway) return;
  const gateway = new Gateway();
  attachWarnings(gateway);
  attachNotifications(gateway);
  gateway.connect();
  window.addEventListener("pagehide", () => gateway.close());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) gateway.connect();
  });
}
