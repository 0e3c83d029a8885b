// The installable app's caching, in the service worker (a classic script loaded with importScripts
// after /sw.js set self.SMARTC_SHELL = {version, shell, offline}; apps/pwa/shell.py builds it).
//
// - install: precache the shell (the site's CSS, JS, icons and the offline page) in a cache named
//   after the shell's version; a deploy changes the version, so the new worker fills a new cache.
// - activate: drop the caches of older versions and take over the open tabs.
// - fetch: a file of the shell comes from the cache; a page comes from the network, and when the
//   network fails, the offline page shows instead. Nothing else is touched: API answers, media,
//   uploads and every page that checks permissions always go to the server and are never stored.

const SHELL = self.SMARTC_SHELL;
const CACHE_PREFIX = "smartc-shell-";
const CACHE_NAME = `${CACHE_PREFIX}${SHELL.version}`;
const SHELL_PATHS = new Set(SHELL.shell);

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE_NAME);
    await cache.addAll(SHELL.shell.map((url) => new Request(url, { cache: "reload", credentials: "same-origin" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE_NAME).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Never from the cache (a page shows what its reader may see), only the offline page instead.
    event.respondWith(fetch(request).catch(async () => {
      const offline = await caches.match(SHELL.offline, { cacheName: CACHE_NAME });
      return offline || Response.error();
    }));
    return;
  }
  if (!SHELL_PATHS.has(url.pathname) || url.search) return;
  event.respondWith((async () => {
    const hit = await caches.match(url.pathname, { cacheName: CACHE_NAME });
    return hit || fetch(request);
  })());
});
