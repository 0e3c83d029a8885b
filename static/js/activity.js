// The activity bell of the guild rail: new followers, likes, reposts, comments and replies on your
// tracks, with an unread count kept live by ACTIVITY_CREATE on the gateway. It listens on the
// tab's one gateway (tab_gateway.js). Opening the dropdown marks everything read.
import { get, send } from "./api.js";
import { h, momentText } from "./dom.js";
import { onPage } from "./page.js";
import { pageGateway } from "./tab_gateway.js";

class Bell {
  constructor(root, signal) {
    this.root = root;
    this.button = root.querySelector(".bell-button");
    this.count = root.querySelector(".bell-count");
    this.panel = root.querySelector(".bell-panel");
    this.list = root.querySelector(".bell-list");
    this.items = [];
    this.unread = 0;
    this.button.addEventListener("click", () => this.toggle());
    document.addEventListener("click", (event) => {
      if (!this.panel.hidden && !this.root.contains(event.target)) this.close();
    }, { signal });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.panel.hidden) this.close();
    }, { signal });
  }

  async load() {
    try {
      this.take(await get("/api/users/@me/activity"));
    } catch {
      // The bell stays as it was: the next event or page brings the count.
    }
  }

  take(listing) {
    this.items = listing.items || [];
    this.setUnread(listing.unread_count || 0);
    this.render();
  }

  attach(gateway) {
    const live = () => { this.root.dataset.live = "true"; };
    gateway.on("READY", live);
    if (gateway.everReady) live();
    gateway.on("ACTIVITY_CREATE", (d) => {
      if (this.items.some((a) => a.id === d.id)) return;
      this.items.unshift(d);
      this.items = this.items.slice(0, 30);
      this.setUnread(d.unread_count);
      this.render();
      if (!this.panel.hidden) this.markRead();
    });
  }

  setUnread(n) {
    this.unread = n;
    this.count.hidden = n === 0;
    this.count.textContent = n > 99 ? "99+" : String(n);
    this.button.setAttribute("aria-label", `${this.root.dataset.label} (${n})`);
  }

  render() {
    this.list.replaceChildren(...(this.items.length ? this.items.map((a) => this.item(a))
      : [h("li", { class: "bell-empty muted", text: this.root.dataset.empty })]));
  }

  item(a) {
    const avatar = a.actor.avatar
      ? h("img", { class: "bell-avatar", src: a.actor.avatar, alt: "", width: 24, height: 24 })
      : h("span", { class: "bell-avatar placeholder", "aria-hidden": "true", text: a.actor.display_name.slice(0, 1) });
    return h("li", { class: a.read ? "bell-item" : "bell-item unread", "data-kind": a.kind },
      h("a", { href: a.url }, avatar,
        h("span", { class: "bell-text" }, h("span", { class: "bell-title", text: a.title }),
          a.body ? h("span", { class: "bell-body muted", text: a.body }) : "",
          h("time", { class: "muted", datetime: a.created_at, text: momentText(new Date(a.created_at)) }))));
  }

  toggle() {
    if (this.panel.hidden) this.open();
    else this.close();
  }

  open() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    if (this.unread) this.markRead();
  }

  close() {
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
  }

  async markRead() {
    try {
      const listing = await send("POST", "/api/users/@me/activity/read");
      this.items = listing.items || this.items;
      this.setUnread(listing.unread_count || 0);
    } catch {
      // Left unread: the next opening tries again.
    }
  }
}

onPage("#bell", (root, signal) => {
  const bell = new Bell(root, signal);
  bell.load();
  bell.attach(pageGateway(signal));
});
