// The channel's message list: the messages loaded (id → payload, with reactions), kept in id order
// in #message-list with unsent ones last, grouped under one header when an author writes several in
// a row. Clicks on a message go to the part that registered for them (on()); this part itself
// reveals spoilers, jumps to a quoted message, deletes and reports.
import { send } from "../api.js";
import { h, quoteText } from "../dom.js";
import { emojify } from "../emoji.js";
import { openReport } from "../report.js";

const GROUP_WINDOW_MS = 7 * 60 * 1000; // consecutive messages of one author within this share a header
const NEAR_BOTTOM_PX = 120;

export class MessageList {
  constructor(page) {
    this.page = page;
    this.el = document.getElementById("message-list");
    this.scroller = page.scroller;
    this.store = new Map(); // id -> message payload (with reactions)
    this.clicks = []; // [selector, handler(id, node, event)]
  }

  start() {
    this.el.addEventListener("click", (event) => {
      const li = event.target.closest(".msg");
      if (!li || !li.dataset.id) return; // an unsent message has no actions yet
      const id = Number(li.dataset.id);
      for (const [selector, handler] of this.clicks) {
        const node = event.target.closest(selector);
        if (node && li.contains(node)) handler(id, node, event);
      }
    });
    this.el.addEventListener("keydown", (event) => {
      const preview = event.target.closest?.(".msg-reply");
      if (preview && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        this.jumpTo(Number(preview.dataset.replyId));
      }
    });
    this.on(".spoiler", (_id, spoiler) => spoiler.classList.add("revealed"));
    this.on(".msg-reply", (_id, preview) => this.jumpTo(Number(preview.dataset.replyId)));
    this.on('[data-action="delete"]', (id) => this.delete(id));
    this.on('[data-action="report"]', (id) => openReport("message", id));
    this.on('[data-action="suppress-embeds"]', (id) => this.suppressEmbeds(id));
  }

  /** Call `handler(id, node, event)` for a click on `selector` inside a sent message. */
  on(selector, handler) {
    this.clicks.push([selector, handler]);
  }

  get(id) {
    return this.store.get(id);
  }

  has(id) {
    return this.store.has(id);
  }

  values() {
    return this.store.values();
  }

  /** Keep `m` as message `id`'s payload (drawn at the next redraw). */
  set(id, m) {
    this.store.set(id, m);
  }

  /** Forget every message (a jump to another part of the history starts a new list). */
  clear() {
    this.store.clear();
    this.el.replaceChildren();
  }

  element(id) {
    return document.getElementById(`msg-${id}`);
  }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  oldestId() {
    for (const el of this.el.children) if (el.dataset.id) return Number(el.dataset.id);
    return 0;
  }

  newestId() {
    let node = this.el.lastElementChild;
    while (node && !node.dataset.id) node = node.previousElementSibling;
    return node ? Number(node.dataset.id) : 0;
  }

  jumpTo(id) {
    const el = this.element(id);
    if (!el) return;
    el.scrollIntoView({ block: "center", behavior: "smooth" });
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  }

  /** Header-less "continued" messages: same author, close in time, not a reply. */
  regroup(el) {
    if (!el || !el.classList?.contains("msg")) return;
    const prev = el.previousElementSibling;
    const continued = Boolean(prev) && !el.classList.contains("has-reply")
      && prev.dataset.authorId && prev.dataset.authorId === el.dataset.authorId
      && Math.abs(Number(el.dataset.time) - Number(prev.dataset.time)) < GROUP_WINDOW_MS;
    el.classList.toggle("continued", continued);
  }

  /** Insert or refresh a message; keeps the list ordered by id with unsent messages last. */
  upsert(m, { scroll = true } = {}) {
    const stored = this.store.get(m.id);
    const merged = { ...m, reactions: m.reactions ?? stored?.reactions ?? [] };
    this.store.set(m.id, merged);
    const existing = this.element(m.id);
    const fresh = this.page.view.render(merged);
    if (existing) {
      if (this.page.composer.editing(m.id)) return; // the editor stays; the next render shows the new text
      existing.replaceWith(fresh);
      this.regroup(fresh);
      return;
    }
    const stick = scroll && this.isNearBottom();
    let node = this.el.lastElementChild;
    while (node && (!node.dataset.id || Number(node.dataset.id) > m.id)) node = node.previousElementSibling;
    this.el.insertBefore(fresh, node ? node.nextElementSibling : this.el.firstElementChild);
    this.regroup(fresh);
    this.regroup(fresh.nextElementSibling);
    if (stick) this.scrollToBottom();
  }

  /** Put an older page above the messages shown; how many were new. */
  prepend(page) {
    const frag = document.createDocumentFragment();
    const added = [];
    for (const m of page) {
      if (this.store.has(m.id)) continue;
      this.store.set(m.id, m);
      const el = this.page.view.render(m);
      added.push(el);
      frag.append(el);
    }
    this.el.prepend(frag);
    for (const el of added) this.regroup(el);
    if (added.length) this.regroup(added[added.length - 1].nextElementSibling);
    return added.length;
  }

  /** Draw message `id` again from its payload (unless it is being edited). */
  redraw(id) {
    const m = this.store.get(id);
    const el = this.element(id);
    if (!el || !m || this.page.composer.editing(id)) return;
    const fresh = this.page.view.render(m);
    el.replaceWith(fresh);
    this.regroup(fresh);
  }

  remove(id) {
    this.store.delete(id);
    const el = this.element(id);
    if (el) {
      const next = el.nextElementSibling;
      el.remove();
      this.regroup(next);
    }
    this.page.composer.forget(id);
    for (const preview of this.el.querySelectorAll(`.msg-reply[data-reply-id="${id}"]`)) {
      preview.classList.add("deleted");
      preview.replaceChildren(h("span", { class: "msg-reply-text", text: this.page.t.replyDeleted }));
    }
  }

  /** The quotes of message `m` in the replies to it follow its new text. */
  refreshQuotes(m) {
    for (const preview of this.el.querySelectorAll(`.msg-reply[data-reply-id="${m.id}"] .msg-reply-text`)) {
      preview.textContent = quoteText(m.content_html);
      emojify(preview);
    }
  }

  /** Remove message `id`'s link previews (its author, or a moderator). */
  async suppressEmbeds(id) {
    try {
      this.upsert(await send("POST", `/api/channels/${this.page.channelId}/messages/${id}/suppress-embeds`,
        { suppress: true }));
    } catch (err) {
      this.page.toast(this.page.say(err));
    }
  }

  async delete(id) {
    if (!window.confirm(this.page.t.confirmDelete)) return;
    try {
      await send("DELETE", `/api/channels/${this.page.channelId}/messages/${id}`);
    } catch (err) {
      this.page.toast(this.page.say(err));
      return;
    }
    this.remove(id);
  }
}
