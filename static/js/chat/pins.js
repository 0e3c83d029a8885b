// Pins: "Pin" / "Unpin" in a message's action bar, the pin flag on a pinned message, and the panel
// that lists the channel's pins (jump to one, unpin it). CHANNEL_PINS_UPDATE keeps both live.
import { get, send } from "../api.js";
import { h } from "../dom.js";

export class Pins {
  constructor(page) {
    this.page = page;
    this.panel = document.getElementById("pins-panel");
    this.listEl = document.getElementById("pins-list");
    this.toggleButton = document.getElementById("pins-toggle");
  }

  start() {
    const { list, gateway } = this.page;
    list.on('[data-action="pin"]', (id) => this.pin(id, true));
    list.on('[data-action="unpin"]', (id) => this.pin(id, false));
    this.toggleButton?.addEventListener("click", () => this.toggle());
    this.panel.querySelector(".pins-close").addEventListener("click", () => this.toggle(false));
    this.listEl.addEventListener("click", (event) => {
      const item = event.target.closest(".pin-item");
      if (!item) return;
      const id = Number(item.dataset.id);
      if (event.target.closest(".pin-jump")) {
        this.toggle(false);
        list.jumpTo(id);
      } else if (event.target.closest(".pin-unpin")) {
        this.pin(id, false);
      }
    });
    gateway.on("CHANNEL_PINS_UPDATE", (d) => {
      if (d.channel_id !== this.page.channelId) return;
      this.setPinned(d.message_id, d.pinned);
      if (!this.panel.hidden) this.load();
    });
  }

  toggle(open = this.panel.hidden) {
    this.panel.hidden = !open;
    this.toggleButton?.setAttribute("aria-expanded", String(open));
    this.toggleButton?.classList.toggle("active", open);
    if (open) this.load();
  }

  /** Close the panel if it is open. */
  close() {
    if (!this.panel.hidden) this.toggle(false);
  }

  async pin(id, pinned) {
    try {
      await send(pinned ? "PUT" : "DELETE", `/api/channels/${this.page.channelId}/pins/${id}`);
    } catch (err) {
      this.page.toast(this.page.say(err));
      return;
    }
    this.setPinned(id, pinned);
    if (!this.panel.hidden) this.load();
  }

  setPinned(messageId, pinned) {
    const m = this.page.list.get(messageId);
    if (!m || m.pinned === pinned) return;
    m.pinned = pinned;
    this.page.list.redraw(messageId);
  }

  async load() {
    const { t, view, list, can } = this.page;
    let pins;
    try {
      pins = await get(`/api/channels/${this.page.channelId}/pins`);
    } catch (err) {
      this.listEl.replaceChildren(h("li", { class: "pins-empty error", text: this.page.say(err) }));
      return;
    }
    if (!pins.length) {
      this.listEl.replaceChildren(h("li", { class: "pins-empty muted", text: t.noPins }));
      return;
    }
    this.listEl.replaceChildren(...pins.map((m) => {
      const content = h("div", { class: "msg-content" });
      view.fillContent(content, m);
      const tools = h("div", { class: "pin-tools" },
        list.element(m.id) ? h("button", { type: "button", class: "small pin-jump", text: t.jump }) : null,
        can.pin ? h("button", { type: "button", class: "small pin-unpin", text: t.unpin }) : null);
      return h("li", { class: "pin-item", dataset: { id: String(m.id) } },
        view.avatar(m.author),
        h("div", { class: "msg-body" },
          h("div", { class: "msg-head" }, view.authorName(m.author),
            h("time", { class: "msg-time", datetime: m.created_at, text: view.formatTime(new Date(m.created_at)) })),
          content),
        tools);
    }));
  }
}
