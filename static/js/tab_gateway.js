// One gateway per tab, for the whole visit: Turbo Drive (page.js) swaps pages under it, so the
// socket opened on the first page carries every page after it. The shell's parts (the guild rail's
// badges, the DM list, the tab title, warnings and notifications) attach to it once; a page module
// subscribes through pageGateway(signal), whose handlers go when the page goes. A page loaded in
// full that opens its own socket (the voice room) announces it as it is made (gateway.js fires
// "smartc:gateway") and that one becomes the tab's.
import { Gateway } from "./gateway.js";

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

/** The tab's gateway, opened now if no module opened one. */
export function ensureTabGateway() {
  if (tabGateway) return tabGateway;
  const gateway = new Gateway();
  gateway.connect();
  window.addEventListener("pagehide", () => gateway.close());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) gateway.connect(); // back from the back/forward cache
  });
  return gateway;
}

/** One page's hold on the tab's gateway: what it subscribes to is dropped when `signal` aborts. */
class PageGateway {
  constructor(gateway, signal) {
    this.gateway = gateway;
    this.signal = signal;
  }

  /** As Gateway.on. A page shown after the socket became ready gets "READY" at once, without its
   *  data (stale by then: the server rendered this page afresh), so it can ask for what it needs. */
  on(event, handler) {
    if (this.signal.aborted) return () => {}; // the page went while it was loading
    const off = this.gateway.on(event, handler);
    this.signal.addEventListener("abort", off, { once: true });
    if (event === "READY" && this.gateway.isOpen) {
      queueMicrotask(() => this.signal.aborted || handler(undefined));
    }
    return off;
  }

  send(op, d) {
    return this.gateway.send(op, d);
  }

  get state() {
    return this.gateway.state;
  }

  get everReady() {
    return this.gateway.everReady;
  }

  get isOpen() {
    return this.gateway.isOpen;
  }

  /** Where to look for missed messages after a reconnect, while this page is shown. */
  set catchUp(find) {
    this.gateway.catchUp = find;
    this.signal.addEventListener("abort", () => {
      if (this.gateway.catchUp === find) this.gateway.catchUp = null;
    }, { once: true });
  }
}

/** The tab's gateway as seen by the page that `signal` belongs to. */
export function pageGateway(signal) {
  return new PageGateway(ensureTabGateway(), signal);
}
