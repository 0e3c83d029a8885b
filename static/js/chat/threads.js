// Threads on the channel page: "Create thread" in a message's action bar, the chip under a message
// that started a thread ("12 messages", kept live by the starter's MESSAGE_UPDATE), the thread
// panel (its history and its own composer) and the channel's list of threads.
// Messages are drawn by the chat page's view (view.js), so a thread's messages look like the channel's.
import { get, newNonce, send } from "../api.js";
import { autosize, fillText, flag, h, onSubmit } from "../dom.js";
import { Autocomplete } from "./autocomplete.js";

const PAGE_SIZE = 50;
const NAME_SUGGESTION_LENGTH = 40;
// A constant, so it can go in through innerHTML.
const THREAD_ICON = '<svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" '
  + 'd="M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2h-7l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 5v2h10V8H7zm0 4v2h7v-2H7z"/></svg>';

export function attachThreads(page) {
  const panel = document.getElementById("thread-panel");
  if (!panel) return null;
  const threads = new Threads(page, panel);
  threads.start();
  return threads;
}

class Threads {
  constructor(page, panel) {
    this.page = page;
    this.panel = panel;
    this.canCreate = flag(panel.dataset.canCreate);
    this.t = { ...document.getElementById("threads-i18n").dataset };
    const $ = (id) => document.getElementById(id);
    this.title = $("thread-title");
    this.flags = $("thread-flags");
    this.joinButton = $("thread-join");
    this.archiveButton = $("thread-archive");
    this.fullLink = $("thread-full");
    this.newForm = $("thread-new");
    this.newName = $("thread-new-name");
    this.newError = $("thread-new-error");
    this.scroller = $("thread-scroll");
    this.starterBox = $("thread-starter");
    this.list = $("thread-messages");
    this.composerArea = $("thread-composer-area");
    this.form = $("thread-composer");
    this.input = $("thread-input");
    this.error = $("thread-error");
    this.note = $("thread-locked-note");
    this.listPanel = $("threads-list-panel");
    this.listEl = $("threads-list");
    this.listToggle = $("threads-toggle");
    this.archivedToggle = $("threads-archived-toggle");

    this.thread = null; // the open thread, as GET /api/threads/{id} returns it
    this.creatingFrom = null; // the message id while the "new thread" form is shown
    this.messages = new Map(); // id -> payload, for the open thread
    this.showArchived = false;
    this.drawingPanel = false;
  }

  start() {
    this.page.view.hooks.push((li, m, { pending }) => this.decorate(li, m, pending));
    this.page.list.on(".thread-chip", (_id, chip) => this.open(Number(chip.dataset.threadId)));
    this.page.list.on('[data-action="thread"]', (id) => this.startNew(id));
    this.panel.querySelector(".thread-close").addEventListener("click", () => this.close());
    this.joinButton.addEventListener("click", () => this.toggleJoin());
    this.archiveButton.addEventListener("click", () => this.toggleArchive());
    this.newForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    new Autocomplete(this.page, this.input, this.form);
    onSubmit(this.form, this.input, () => this.send());
    this.input.addEventListener("input", () => {
      this.setError("");
      autosize(this.input);
    });
    this.listToggle?.addEventListener("click", () => this.toggleList());
    this.listPanel.querySelector(".threads-list-close").addEventListener("click", () => this.toggleList(false));
    this.archivedToggle.addEventListener("click", () => {
      this.showArchived = !this.showArchived;
      this.loadList();
    });
    this.listEl.addEventListener("click", (event) => {
      const item = event.target.closest(".thread-item");
      if (item) this.open(Number(item.dataset.threadId));
    });
    this.bindGateway();
  }

  bindGateway() {
    const g = this.page.gateway;
    const inOpen = (channelId) => this.thread && channelId === this.thread.id;
    g.on("MESSAGE_CREATE", (m) => {
      if (inOpen(m.channel_id)) this.add(m);
    });
    g.on("MESSAGE_UPDATE", (m) => {
      if (inOpen(m.channel_id) && this.messages.has(m.id)) this.add(m);
      if (this.thread && m.id === this.thread.starter_message_id) this.drawStarter(m);
    });
    g.on("MESSAGE_DELETE", (d) => {
      if (inOpen(d.channel_id)) this.remove(d.id);
    });
    const ofThisChannel = (d) => d.parent_id === this.page.channelId;
    g.on("THREAD_CREATE", (d) => {
      if (ofThisChannel(d) && !this.listPanel.hidden) this.loadList();
    });
    g.on("THREAD_UPDATE", (d) => {
      if (this.thread?.id === d.id) this.refresh();
      if (ofThisChannel(d) && !this.listPanel.hidden) this.loadList();
    });
    g.on("THREAD_DELETE", (d) => {
      if (this.thread?.id === d.id) {
        this.close();
        this.page.toast(this.t.deleted);
      }
      if (ofThisChannel(d) && !this.listPanel.hidden) this.loadList();
    });
    g.on("THREAD_MEMBERS_UPDATE", (d) => {
      if (this.thread?.id !== d.id) return;
      if (d.added_user_ids.includes(this.page.userId)) this.thread.me.joined = true;
      if (d.removed_user_ids.includes(this.page.userId)) this.thread.me.joined = false;
      this.thread.member_count = d.member_count;
      this.drawHead();
    });
    g.on("reconnected", () => {
      if (this.thread) this.loadHistory(); // what was posted while the socket was down
    });
  }

  // --- the chat page's messages ----------------------------------------------------------------

  decorate(li, m, pending) {
    if (pending || this.drawingPanel) return;
    if (m.thread) {
      li.querySelector(".msg-body")?.append(this.chip(m.thread));
    } else if (this.canCreate) {
      const bar = li.querySelector(".msg-actions");
      if (!bar) return;
      const button = h("button", {
        type: "button", class: "msg-action act-thread", dataset: { action: "thread" },
        title: this.t.createThread, "aria-label": this.t.createThread,
      }, this.icon());
      const reply = bar.querySelector(".act-reply");
      if (reply) reply.after(button);
      else bar.prepend(button);
    }
  }

  icon(className = "") {
    const span = h("span", { class: `thread-glyph ${className}`.trim(), "aria-hidden": "true" });
    span.innerHTML = THREAD_ICON;
    return span;
  }

  countText(n) {
    return fillText(n === 1 ? this.t.messagesOne : this.t.messagesMany, { count: n });
  }

  chip(summary) {
    return h("button", {
      type: "button", class: `thread-chip${summary.archived ? " archived" : ""}`,
      dataset: { threadId: String(summary.id) },
    }, this.icon("thread-chip-icon"),
    h("span", { class: "thread-chip-name", text: summary.name }),
    h("span", { class: "thread-chip-count", text: this.countText(summary.message_count) }));
  }

  // --- the panel -----------------------------------------------------------------------------------

  showPanel() {
    this.toggleList(false);
    this.panel.hidden = false;
    this.page.root.classList.add("thread-open");
  }

  close() {
    this.panel.hidden = true;
    this.page.root.classList.remove("thread-open");
    this.reset();
  }

  reset() {
    this.thread = null;
    this.creatingFrom = null;
    this.messages.clear();
    this.list.replaceChildren();
    this.starterBox.replaceChildren();
    this.setError("");
    this.newError.hidden = true;
  }

  /** A message as the panel shows it: the chat page's rendering, without the channel's actions. */
  draw(m) {
    this.drawingPanel = true;
    let li;
    try {
      li = this.page.view.render(m);
    } finally {
      this.drawingPanel = false;
    }
    li.removeAttribute("id"); // ids belong to the channel's list
    li.querySelector(".msg-actions")?.remove();
    return li;
  }

  drawStarter(m) {
    this.starterBox.replaceChildren(m ? this.draw(m) : "");
  }

  async starterMessage(id) {
    if (!id) return null;
    const known = this.page.list.get(id);
    if (known) return known;
    try {
      return await get(`/api/channels/${this.page.channelId}/messages/${id}`);
    } catch {
      return null;
    }
  }

  async startNew(messageId) {
    this.reset();
    this.creatingFrom = messageId;
    this.showPanel();
    this.title.textContent = this.t.createThread;
    this.flags.textContent = "";
    this.joinButton.hidden = this.archiveButton.hidden = true;
    this.composerArea.hidden = this.note.hidden = true;
    this.newForm.hidden = false;
    const m = this.page.list.get(messageId);
    this.drawStarter(m);
    this.newName.value = (m?.content || "").replace(/\s+/g, " ").trim().slice(0, NAME_SUGGESTION_LENGTH);
    this.newName.focus();
    this.newName.select();
  }

  async create() {
    const id = this.creatingFrom;
    if (!id) return;
    try {
      const thread = await send("POST", `/api/channels/${this.page.channelId}/messages/${id}/threads`,
        { name: this.newName.value });
      await this.open(thread.id);
    } catch (err) {
      this.newError.textContent = this.page.say(err);
      this.newError.hidden = false;
    }
  }

  async open(id) {
    this.reset();
    this.showPanel();
    this.newForm.hidden = true;
    this.panel.dataset.threadId = String(id);
    // The panel shows the newest messages; the thread's own page has everything a channel has.
    this.fullLink.href = `/guilds/${this.page.guildId}/channels/${Number(id)}`;
    this.fullLink.hidden = false;
    let thread;
    try {
      thread = await get(`/api/threads/${id}`);
    } catch (err) {
      this.close();
      this.page.toast(this.page.say(err));
      return;
    }
    this.thread = thread;
    this.drawHead();
    this.drawStarter(await this.starterMessage(thread.starter_message_id));
    await this.loadHistory();
    if (!this.composerArea.hidden) this.input.focus();
  }

  /** Re-read the open thread (its state and what the viewer may do) after a THREAD_UPDATE. */
  async refresh() {
    const id = this.thread?.id;
    try {
      const thread = await get(`/api/threads/${id}`);
      if (this.thread?.id === id) {
        this.thread = thread;
        this.drawHead();
      }
    } catch {
      // the next event or a reopen shows the thread's state
    }
  }

  drawHead() {
    const t = this.thread;
    this.title.textContent = t.name;
    this.flags.textContent = [t.archived ? this.t.archived : "", t.locked ? this.t.locked : ""].filter(Boolean).join(" · ");
    this.joinButton.hidden = false;
    this.joinButton.textContent = t.me.joined ? this.t.leave : this.t.join;
    this.archiveButton.hidden = !(t.me.can_manage || (t.creator_id === this.page.userId && !t.locked));
    this.archiveButton.textContent = t.archived ? this.t.unarchive : this.t.archive;
    this.composerArea.hidden = !t.me.can_send;
    let note = "";
    if (!t.me.can_send) note = t.locked ? this.t.lockedNote : this.t.cannotSend;
    else if (t.archived) note = this.t.archivedNote;
    this.note.textContent = note;
    this.note.hidden = !note;
  }

  async loadHistory() {
    const id = this.thread.id;
    let page;
    try {
      page = await get(`/api/channels/${id}/messages?limit=${PAGE_SIZE}`);
    } catch (err) {
      this.page.toast(this.page.say(err));
      return;
    }
    if (this.thread?.id !== id) return;
    for (const m of page) this.add(m, { scroll: false });
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  add(m, { scroll = true } = {}) {
    const stored = this.messages.get(m.id);
    const merged = { ...m, reactions: m.reactions ?? stored?.reactions ?? [] };
    this.messages.set(m.id, merged);
    const fresh = this.draw(merged);
    const existing = this.list.querySelector(`.msg[data-id="${m.id}"]`);
    if (existing) {
      existing.replaceWith(fresh);
    } else {
      const stick = scroll && this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 120;
      let node = this.list.lastElementChild;
      while (node && Number(node.dataset.id) > m.id) node = node.previousElementSibling;
      this.list.insertBefore(fresh, node ? node.nextElementSibling : this.list.firstElementChild);
      if (stick) this.scroller.scrollTop = this.scroller.scrollHeight;
    }
    this.page.list.regroup(fresh);
    this.page.list.regroup(fresh.nextElementSibling);
  }

  remove(id) {
    this.messages.delete(id);
    const el = this.list.querySelector(`.msg[data-id="${id}"]`);
    if (!el) return;
    const next = el.nextElementSibling;
    el.remove();
    this.page.list.regroup(next);
  }

  setError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
    this.form.classList.toggle("has-error", Boolean(text));
  }

  async send() {
    const content = this.input.value;
    if (!content.trim() || !this.thread) return;
    const id = this.thread.id;
    this.input.value = "";
    this.input.style.height = "auto";
    try {
      const m = await send("POST", `/api/channels/${id}/messages`,
        { content: this.page.suggestions.outgoing(content), nonce: newNonce() }, { idempotent: true });
      if (this.thread?.id !== id) return;
      this.add(m);
      this.scroller.scrollTop = this.scroller.scrollHeight;
    } catch (err) {
      if (!this.input.value) this.input.value = content; // nothing typed is lost
      this.setError(this.page.say(err));
    }
  }

  async toggleJoin() {
    const t = this.thread;
    try {
      await send(t.me.joined ? "DELETE" : "PUT", `/api/threads/${t.id}/members/@me`);
      t.me.joined = !t.me.joined;
      this.drawHead();
    } catch (err) {
      this.page.toast(this.page.say(err));
    }
  }

  async toggleArchive() {
    const t = this.thread;
    try {
      this.thread = await send("PATCH", `/api/threads/${t.id}`, { archived: !t.archived });
      this.drawHead();
    } catch (err) {
      this.page.toast(this.page.say(err));
    }
  }

  // --- the channel's thread list ---------------------------------------------------------------------

  toggleList(open = this.listPanel.hidden) {
    this.listPanel.hidden = !open;
    this.listToggle?.setAttribute("aria-expanded", String(open));
    this.listToggle?.classList.toggle("active", open);
    if (open) this.loadList();
  }

  async loadList() {
    this.archivedToggle.textContent = this.showArchived ? this.t.showActive : this.t.showArchived;
    let threads;
    try {
      threads = await get(`/api/channels/${this.page.channelId}/threads${this.showArchived ? "?archived=true" : ""}`);
    } catch (err) {
      this.listEl.replaceChildren(h("li", { class: "pins-empty error", text: this.page.say(err) }));
      return;
    }
    if (!threads.length) {
      const text = this.showArchived ? this.t.noArchived : this.t.noActive;
      this.listEl.replaceChildren(h("li", { class: "pins-empty muted", text }));
      return;
    }
    this.listEl.replaceChildren(...threads.map((t) => h("li", {},
      h("button", { type: "button", class: "thread-item", dataset: { threadId: String(t.id) } },
        h("span", { class: "thread-item-name", text: t.name }),
        h("span", { class: "thread-item-meta muted small", text: this.countText(t.message_count) })))));
  }
}
