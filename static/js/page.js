// The page lifecycle. Links inside the app are followed by Turbo Drive (vendor/turbo, from npm): it
// fetches the next page and swaps its <body>, so the player bar (data-turbo-permanent) and the
// tab's one gateway live on. A module is evaluated once per visit, not once per page, so a page
// module does not act at its top level: it registers with onPage(selector, mount), and
// mount(root, signal) runs on every page where `selector` matches (the first one and each one
// Turbo renders). `signal` aborts when the page goes away: pass it to document and window
// listeners ({ signal }), clear timers on it, and subscribe to the gateway through scoped(signal).
// Without JavaScript, or without Turbo, each page is a plain page load and mount runs once.

const entries = [];
let current = null; // this page's AbortController, null between pages

function run(entry) {
  const root = document.querySelector(entry.selector);
  if (!root || !current || entry.mountedBy === current) return;
  entry.mountedBy = current;
  try {
    entry.mount(root, current.signal);
  } catch (err) {
    console.error(`mounting ${entry.selector} failed`, err);
  }
}

function pageLoaded() {
  if (current) return; // the first page: DOMContentLoaded and turbo:load both say so
  // A page that opts out of Turbo Drive (its block turbo in base.html) is also left by a full load.
  if (window.Turbo) window.Turbo.session.drive = !document.querySelector('meta[name="turbo-visit-control"][content="reload"]');
  current = new AbortController();
  for (const entry of entries) run(entry);
}

function pageLeaving() {
  current?.abort();
  current = null;
}

/** Call `mount(root, signal)` on each page that has an element matching `selector`. */
export function onPage(selector, mount) {
  const entry = { selector, mount, mountedBy: null };
  entries.push(entry);
  run(entry); // a module first met on a page already shown (Turbo evaluates new modules after it renders)
}

/** The signal of the page shown now (aborted when it goes). */
export function pageSignal() {
  return current?.signal;
}

document.addEventListener("DOMContentLoaded", pageLoaded);
document.addEventListener("turbo:load", pageLoaded);
document.addEventListener("turbo:before-render", pageLeaving);
