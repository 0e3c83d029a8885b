// The live channel page: history over REST, live events over the gateway, and the composer.
// Message HTML (content_html) is sanitised by the server and inserted as HTML; every other
// string (names, emoji, reply previews) goes in through textContent.
import { Attachments } from "./attachments.js";
import { csrfToken, fill, fillText, flag, h, momentText, quoteText } from "./dom.js";
import { Gateway, Op } from "./gateway.js";
import { Presence } from "./members.js";
import { Sidebar } from "./sidebar.js";
import { attachThreads } from "./threads.js";
import { attachNotifications } from "./notifications.js";
import { attachTrackEmbeds } from "./track_embed.js";
import { openReport } from "./report.js";

const QUICK_EMOJI = ["👍", "❤️", "😂", "😮", "😢", "🎉", "👀", "🔥"];
const PAGE_SIZE = 50;
const GROUP_WINDOW_MS = 7 * 60 * 1000; // consecutive messages of one author within this share a header
const TYPING_SEND_EVERY_MS = 3000; // the server keeps one TYPING_START per 5 s; 3 s keeps the line lit
const TYPING_SHOWN_MS = 8000;
const NEAR_BOTTOM_PX = 120;
const COLOR_RE = /^#[0-9a-fA-F]{3,8}$/;
// Waits before each new try of a send the network or the server failed (about 15 s in all).
const SEND_RETRY_MS = [500, 1000, 2000, 4000, 8000];

class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

class ChatPage {
  constructor(rootEl) {
    const d = rootEl.dataset;
    this.root = rootEl;
    this.channelId = Number(d.channelId);
    this.guildId = Number(d.guildId);
    this.userId = Number(d.userId);
    this.roleIds = new Set((d.roleIds || "").split(/\s+/).filter(Boolean).map(Number));
    this.can = {
      send: flag(d.canSend), react: flag(d.canAddReactions), manage: flag(d.canManageMessages),
      history: flag(d.canReadHistory), pin: flag(d.canPinMessages) || flag(d.canManageMessages),
    };
    this.t = { ...document.getElementById("chat-i18n").dataset };
    this.lang = document.documentElement.lang || navigator.language;

    this.scroller = document.getElementById("messages");
    this.list = document.getElementById("message-list");
    this.historyStart = document.getElementById("history-start");
    this.historyLoading = document.getElementById("history-loading");
    this.typingLine = document.getElementById("typing-line");
    this.statusLine = document.getElementById("chat-status");
    this.toast = document.getElementById("chat-toast");
    this.picker = document.getElementById("emoji-picker");
    this.pinsPanel = document.getElementById("pins-panel");
    this.pinsList = document.getElementById("pins-list");
    this.pinsToggle = document.getElementById("pins-toggle");
    this.form = document.getElementById("composer");
    this.input = document.getElementById("composer-input");
    this.composerError = document.getElementById("composer-error");
    this.replyBar = document.getElementById("composer-reply");

    this.messages = new Map(); // id -> message payload (with reactions)
    this.pending = new Map(); // nonce -> {el, content, replyTo}
    this.sendQueue = Promise.resolve();
    this.hasMore = true;
    this.loadingOlder = false;
    this.historyLoaded = false;
    this.replyTo = null; // {id, author}
    this.editingId = null;
    this.pickerFor = null;
    this.typers = new Map(); // user id -> {name, timer}
    this.lastTypingSent = 0;
    this.lastAcked = 0;
    this.ackTimer = null;
    this.unread = new Map(); // channel id -> {guildId, unread, mentions}
    this.attachments = new Attachments(this);
    this.messageHooks = []; // (li, message, {pending}) => void: what other modules add to a rendered message

    this.timeFormat = new Intl.DateTimeFormat(this.lang, { hour: "2-digit", minute: "2-digit" });
    this.dateFormat = new Intl.DateTimeFormat(this.lang, { dateStyle: "short", timeStyle: "short" });
    this.fullFormat = new Intl.DateTimeFormat(this.lang, { dateStyle: "full", timeStyle: "short" });
  }

  start() {
    this.bindList();
    this.bindComposer();
    this.attachments.bind();
    this.bindPins();
    this.bindPicker();
    this.bindScroll();
    this.clearBadge(this.channelId);
    document.addEventListener("visibilitychange", () => this.maybeAck());
    window.addEventListener("focus", () => this.maybeAck());

    this.gateway = new Gateway({
      catchUp: () => (this.historyLoaded ? { channelId: this.channelId, afterId: this.newestId() } : null),
    });
    this.bindGateway();
    new Presence(this.gateway, this.guildId).start();
    new Sidebar(this.gateway, this.guildId).start();
    this.bindJumps();
    this.gateway.connect();
    window.addEventListener("pagehide", () => {
      if (this.ackTimer) this.ack(); // an ack still waiting goes out before the socket closes
      this.gateway.close();
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) this.gateway.connect(); // back from the back/forward cache
    });
    const around = Number(new URLSearchParams(location.search).get("around"));
    if (around > 0) this.openAt(around);
    else this.loadInitial();
  }

  // --- REST ------------------------------------------------------------------------------------

  async api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(`/api${path}`, {
        method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(this.t.network, "network", 0);
    }
    if (res.status === 204) return null;
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (!res.ok) {
      const err = data?.error || {};
      throw new ApiError(this.errorText(err) || this.t.failed, err.code, res.status);
    }
    return data;
  }

  /** The words to show for an error: a field's own message says more than "Some fields are invalid." */
  errorText(err) {
    if (err.code === "timed_out" && err.timed_out_until) {
      const until = new Date(err.timed_out_until);
      if (!Number.isNaN(until.getTime())) return fillText(this.t.timedOut, { time: momentText(until, this.lang) });
    }
    const fieldMessages = Object.values(err.fields || {}).flat().filter((m) => typeof m === "string");
    if (err.code === "validation_failed" && fieldMessages.length) return fieldMessages[0];
    return err.message || fieldMessages[0] || "";
  }

  messagesPath(query = "") {
    return `/channels/${this.channelId}/messages${query}`;
  }

  // --- history -----------------------------------------------------------------------------------

  async loadInitial() {
    if (!this.can.history) {
      this.hasMore = false;
      this.historyLoaded = true;
      return;
    }
    this.historyLoading.hidden = false;
    let page;
    try {
      page = await this.api("GET", this.messagesPath(`?limit=${PAGE_SIZE}`));
    } catch (err) {
      this.historyLoading.hidden = true;
      this.showToast(err.message || this.t.historyFailed);
      return;
    }
    this.historyLoading.hidden = true;
    for (const m of page) this.upsert(m, { scroll: false });
    this.hasMore = page.length === PAGE_SIZE;
    this.historyStart.hidden = this.hasMore;
    this.historyLoaded = true;
    this.scrollToBottom();
    this.maybeAck({ now: true });
    this.fillViewport();
  }

  /** A tall window may show a whole page without a scrollbar: load older pages until it scrolls. */
  async fillViewport() {
    while (this.hasMore && this.scroller.scrollHeight <= this.scroller.clientHeight) {
      if (!(await this.loadOlder())) break;
    }
  }

  async loadOlder() {
    if (this.loadingOlder || !this.hasMore || !this.historyLoaded) return false;
    const oldest = this.oldestId();
    if (!oldest) {
      this.hasMore = false;
      this.historyStart.hidden = false;
      return false;
    }
    this.loadingOlder = true;
    this.historyLoading.hidden = false;
    try {
      const page = await this.api("GET", this.messagesPath(`?before=${oldest}&limit=${PAGE_SIZE}`));
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
      const frag = document.createDocumentFragment();
      const added = [];
      for (const m of page) {
        if (this.messages.has(m.id)) continue;
        this.messages.set(m.id, m);
        const el = this.renderMessage(m);
        added.push(el);
        frag.append(el);
      }
      this.list.prepend(frag);
      for (const el of added) this.regroup(el);
      if (added.length) this.regroup(added[added.length - 1].nextElementSibling);
      this.hasMore = page.length === PAGE_SIZE;
      this.historyStart.hidden = this.hasMore;
      this.historyLoading.hidden = true;
      // Keep what the reader was looking at in place.
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
      return true;
    } catch (err) {
      this.historyLoading.hidden = true;
      this.showToast(err.message);
      return false;
    } finally {
      this.loadingOlder = false;
    }
  }

  bindScroll() {
    this.scroller.addEventListener("scroll", () => {
      if (this.scroller.scrollTop < 300) this.loadOlder();
      if (this.isNearBottom()) this.maybeAck();
    }, { passive: true });
  }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  oldestId() {
    for (const el of this.list.children) if (el.dataset.id) return Number(el.dataset.id);
    return 0;
  }

  newestId() {
    let node = this.list.lastElementChild;
    while (node && !node.dataset.id) node = node.previousElementSibling;
    return node ? Number(node.dataset.id) : 0;
  }

  // --- rendering -----------------------------------------------------------------------------------

  formatTime(date) {
    const now = new Date();
    const time = this.timeFormat.format(date);
    if (date.toDateString() === now.toDateString()) return fillText(this.t.today, { time });
    const yesterday = new Date(now);
    yesterday.setDate(now.getDate() - 1);
    if (date.toDateString() === yesterday.toDateString()) return fillText(this.t.yesterday, { time });
    return this.dateFormat.format(date);
  }

  avatar(author, extraClass = "") {
    const name = author?.display_name || this.t.deletedUser;
    if (author?.avatar) return h("img", { class: `avatar ${extraClass}`, src: author.avatar, alt: "" });
    const node = h("span", { class: `avatar ${extraClass}`, "aria-hidden": "true", text: name.slice(0, 1).toUpperCase() });
    if (author?.color && COLOR_RE.test(author.color)) node.style.background = author.color;
    return node;
  }

  mentionsMe(m) {
    return (m.mentions || []).includes(this.userId) || Boolean(m.mention_everyone)
      || (m.mention_roles || []).some((id) => this.roleIds.has(id));
  }

  renderMessage(m, { pendingNonce = null } = {}) {
    const date = new Date(m.created_at);
    const author = m.author;
    const li = h("li", {
      class: "msg",
      id: pendingNonce ? null : `msg-${m.id}`,
      dataset: pendingNonce ? { nonce: pendingNonce, authorId: String(author?.id ?? "") }
        : { id: String(m.id), authorId: String(author?.id ?? ""), time: String(date.getTime()) },
    });
    if (pendingNonce) {
      li.classList.add("pending");
      li.title = this.t.sending;
      li.dataset.time = String(date.getTime());
    }
    if (m.reply_to) li.classList.add("has-reply");
    if (m.pinned) li.classList.add("pinned");
    if (m.held) {
      li.classList.add("held");
      li.title = this.t.held;
    }
    if (author?.id !== this.userId && this.mentionsMe(m)) li.classList.add("mentioned");

    if (m.reply_to) li.append(this.renderReplyPreview(m.reply_to));

    const gutter = h("div", { class: "msg-gutter" },
      this.avatar(author),
      h("time", { class: "msg-gutter-time", datetime: m.created_at, title: this.fullFormat.format(date),
        text: this.timeFormat.format(date) }));

    const authorName = h("span", { class: "msg-author", text: author?.display_name || this.t.deletedUser });
    if (author?.color && COLOR_RE.test(author.color)) authorName.style.color = author.color;
    const head = h("div", { class: "msg-head" }, authorName,
      h("time", { class: "msg-time", datetime: m.created_at, title: this.fullFormat.format(date),
        text: this.formatTime(date) }),
      h("span", { class: "msg-pin-flag", title: this.t.pinned, "aria-label": this.t.pinned, text: "📌" }));

    const content = h("div", { class: "msg-content" });
    this.fillContent(content, m);
    const body = h("div", { class: "msg-body" }, head, content, this.attachments.render(m), this.renderReactions(m));
    li.append(gutter, body);
    if (!pendingNonce) li.append(this.renderActions(m));
    for (const hook of this.messageHooks) hook(li, m, { pending: Boolean(pendingNonce) });
    return li;
  }

  fillContent(node, m) {
    node.innerHTML = m.content_html; // sanitised server-side (nh3)
    if (m.held) node.append(" ", h("span", { class: "msg-held", text: this.t.held }));
    if (m.edited_at) {
      const edited = new Date(m.edited_at);
      node.append(" ", h("span", { class: "msg-edited", title: this.fullFormat.format(edited), text: this.t.edited }));
    }
    attachTrackEmbeds(node, this.channelId); // player cards for linked tracks the viewer can hear
  }

  renderReplyPreview(reply) {
    const box = h("div", { class: "msg-reply", dataset: { replyId: String(reply.id) }, role: "button", tabindex: "0" });
    box.append(
      h("span", { class: "msg-reply-author", text: reply.author ? `@${reply.author}` : this.t.deletedUser }),
      h("span", { class: "msg-reply-text", text: reply.content }),
    );
    return box;
  }

  renderReactions(m) {
    const box = h("div", { class: "msg-reactions" });
    for (const r of m.reactions || []) {
      if (r.count <= 0) continue;
      const chip = h("button", {
        type: "button", class: `reaction${r.me ? " me" : ""}`, "aria-pressed": r.me ? "true" : "false",
        dataset: { emoji: r.emoji }, title: fillText(this.t.reactionLabel, { emoji: r.emoji, count: r.count }),
      }, h("span", { class: "reaction-emoji", text: r.emoji }), h("span", { class: "reaction-count", text: String(r.count) }));
      box.append(chip);
    }
    return box;
  }

  renderActions(m) {
    const own = m.author?.id === this.userId;
    const bar = h("div", { class: "msg-actions", role: "toolbar" });
    const button = (action, label, icon) => h("button", {
      type: "button", class: `msg-action act-${action}`, dataset: { action }, title: label, "aria-label": label,
    }, h("span", { "aria-hidden": "true", text: icon }));
    if (this.can.react) bar.append(button("react", this.t.react, "☺"));
    if (this.can.send) bar.append(button("reply", this.t.reply, "↩"));
    if (own && this.can.send) bar.append(button("edit", this.t.edit, "✎"));
    if (this.can.pin) bar.append(button(m.pinned ? "unpin" : "pin", m.pinned ? this.t.unpin : this.t.pin, "📌"));
    if (own || this.can.manage) bar.append(button("delete", this.t.delete, "🗑"));
    if (!own && m.author && this.t.report) bar.append(button("report", this.t.report, "⚑"));
    return bar;
  }

  elementFor(id) {
    return document.getElementById(`msg-${id}`);
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
    const stored = this.messages.get(m.id);
    const merged = { ...m, reactions: m.reactions ?? stored?.reactions ?? [] };
    this.messages.set(m.id, merged);
    const existing = this.elementFor(m.id);
    const fresh = this.renderMessage(merged);
    if (existing) {
      if (this.editingId === m.id) return; // the editor stays; the next render shows the new text
      existing.replaceWith(fresh);
      this.regroup(fresh);
      return;
    }
    const stick = scroll && this.isNearBottom();
    let node = this.list.lastElementChild;
    while (node && (!node.dataset.id || Number(node.dataset.id) > m.id)) node = node.previousElementSibling;
    this.list.insertBefore(fresh, node ? node.nextElementSibling : this.list.firstElementChild);
    this.regroup(fresh);
    this.regroup(fresh.nextElementSibling);
    if (stick) this.scrollToBottom();
  }

  removeMessage(id) {
    this.messages.delete(id);
    const el = this.elementFor(id);
    if (el) {
      const next = el.nextElementSibling;
      el.remove();
      this.regroup(next);
    }
    if (this.editingId === id) this.editingId = null;
    if (this.replyTo?.id === id) this.setReply(null);
    for (const preview of this.list.querySelectorAll(`.msg-reply[data-reply-id="${id}"]`)) {
      preview.classList.add("deleted");
      preview.replaceChildren(h("span", { class: "msg-reply-text", text: this.t.replyDeleted }));
    }
  }

  // --- live events -----------------------------------------------------------------------------

  bindGateway() {
    const g = this.gateway;
    g.on("state", (state) => this.showConnection(state));
    g.on("fatal", () => this.showConnection("closed"));
    g.on("READY", (d) => this.onReady(d));
    g.on("error", (d) => {
      // Typing and read marks are best effort (a message deleted just before its ack, say).
      if (d?.ref === Op.TYPING || d?.ref === Op.ACK) return;
      if (d?.message) this.showToast(this.errorText(d));
    });
    g.on("MESSAGE_CREATE", (m) => this.onMessageCreate(m));
    g.on("MESSAGE_UPDATE", (m) => {
      if (m.channel_id !== this.channelId) return;
      // A held message approved by a moderator comes back ("restored") to those who dropped it.
      if (this.messages.has(m.id) || m.restored) this.upsert(m);
      this.refreshReplyPreviews(m);
    });
    g.on("MESSAGE_DELETE", (d) => {
      // Held for review: its author keeps it (a MESSAGE_UPDATE marks it held right after).
      if (d.held && d.author_id === this.userId) return;
      if (d.channel_id === this.channelId) this.removeMessage(d.id);
    });
    g.on("MESSAGE_REACTION_ADD", (d) => this.onReaction(d, +1));
    g.on("MESSAGE_REACTION_REMOVE", (d) => this.onReaction(d, -1));
    g.on("CHANNEL_PINS_UPDATE", (d) => {
      if (d.channel_id !== this.channelId) return;
      this.setPinned(d.message_id, d.pinned);
      if (!this.pinsPanel.hidden) this.loadPins();
    });
    g.on("TYPING_START", (d) => this.onTyping(d));
    g.on("MESSAGE_ACK", (d) => {
      if (d.channel_id !== this.channelId) this.clearBadge(d.channel_id);
    });
  }

  showConnection(state) {
    this.root.dataset.gateway = state;
    let text = "";
    if (state === "connecting" && this.gateway?.everReady) text = this.t.reconnecting;
    if (state === "closed") text = this.t.disconnected;
    this.statusLine.textContent = text;
    this.statusLine.hidden = !text;
  }

  onReady(d) {
    for (const guild of d?.guilds || []) {
      for (const ch of guild.channels || []) {
        if (ch.id === this.channelId) continue;
        this.unread.set(ch.id, { guildId: guild.id, unread: ch.unread || 0, mentions: ch.mentions || 0 });
        this.paintBadge(ch.id);
      }
      this.paintGuild(guild.id);
    }
  }

  onMessageCreate(m) {
    if (m.channel_id !== this.channelId) {
      if (m.author?.id === this.userId) return;
      const entry = this.unread.get(m.channel_id) || { guildId: m.guild_id, unread: 0, mentions: 0 };
      entry.guildId = entry.guildId ?? m.guild_id;
      entry.unread += 1;
      if (this.mentionsMe(m)) entry.mentions += 1;
      this.unread.set(m.channel_id, entry);
      this.paintBadge(m.channel_id);
      this.paintGuild(entry.guildId);
      return;
    }
    const typer = this.typers.get(m.author?.id);
    if (typer) {
      clearTimeout(typer.timer);
      this.typers.delete(m.author.id);
      this.paintTyping();
    }
    const pending = m.nonce ? this.pending.get(m.nonce) : null;
    const mine = m.author?.id === this.userId;
    if (pending) {
      pending.el.remove();
      this.pending.delete(m.nonce);
    }
    if (this.messages.has(m.id)) return;
    if (this.gapAfter) {
      if (mine) this.backToPresent(); // the newer messages are not loaded; show the present
      return;
    }
    const stick = mine || this.isNearBottom();
    this.upsert(m, { scroll: false });
    if (stick) this.scrollToBottom();
    this.maybeAck();
  }

  refreshReplyPreviews(m) {
    for (const preview of this.list.querySelectorAll(`.msg-reply[data-reply-id="${m.id}"] .msg-reply-text`)) {
      preview.textContent = quoteText(m.content_html);
    }
  }

  onReaction(d, delta) {
    if (d.channel_id !== this.channelId) return;
    const mine = d.user_id === this.userId;
    this.changeReaction(d.message_id, d.emoji, delta, mine);
  }

  /** Apply one reaction change. For the viewer's own reactions the "me" flag makes it idempotent,
   *  so the optimistic update and the echoed event count once. */
  changeReaction(messageId, emoji, delta, mine) {
    const m = this.messages.get(messageId);
    if (!m) return;
    const reactions = m.reactions || (m.reactions = []);
    let r = reactions.find((x) => x.emoji === emoji);
    if (!r) {
      if (delta < 0) return;
      r = { emoji, count: 0, me: false };
      reactions.push(r);
    }
    if (mine) {
      if ((delta > 0) === r.me) return;
      r.me = delta > 0;
    }
    r.count = Math.max(0, r.count + delta);
    m.reactions = reactions.filter((x) => x.count > 0);
    const el = this.elementFor(messageId);
    el?.querySelector(".msg-reactions")?.replaceWith(this.renderReactions(m));
  }

  async toggleReaction(messageId, emoji) {
    const m = this.messages.get(messageId);
    if (!m) return;
    const had = Boolean(m.reactions?.find((x) => x.emoji === emoji)?.me);
    const delta = had ? -1 : +1;
    this.changeReaction(messageId, emoji, delta, true);
    try {
      await this.api(had ? "DELETE" : "PUT",
        `/channels/${this.channelId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}/@me`);
    } catch (err) {
      this.changeReaction(messageId, emoji, -delta, true);
      this.showToast(err.message);
    }
  }

  setPinned(messageId, pinned) {
    const m = this.messages.get(messageId);
    if (!m || m.pinned === pinned) return;
    m.pinned = pinned;
    const el = this.elementFor(messageId);
    if (el && this.editingId !== messageId) {
      const fresh = this.renderMessage(m);
      el.replaceWith(fresh);
      this.regroup(fresh);
    }
  }

  // --- typing ------------------------------------------------------------------------------------

  onTyping(d) {
    if (d.channel_id !== this.channelId || d.user_id === this.userId) return;
    const prev = this.typers.get(d.user_id);
    if (prev) clearTimeout(prev.timer);
    const timer = setTimeout(() => {
      this.typers.delete(d.user_id);
      this.paintTyping();
    }, TYPING_SHOWN_MS);
    this.typers.set(d.user_id, { name: d.display_name || "", timer });
    this.paintTyping();
  }

  paintTyping() {
    const names = [...this.typers.values()].map((x) => x.name);
    let content = null;
    if (names.length === 1) content = fill(this.t.typingOne, { name: names[0] }, { bold: true });
    else if (names.length === 2) content = fill(this.t.typingTwo, { a: names[0], b: names[1] }, { bold: true });
    else if (names.length === 3) {
      content = fill(this.t.typingThree, { a: names[0], b: names[1], c: names[2] }, { bold: true });
    } else if (names.length > 3) content = document.createTextNode(this.t.typingMany);
    if (content) {
      this.typingLine.replaceChildren(h("span", { class: "typing-dots", "aria-hidden": "true" },
        h("i"), h("i"), h("i")), content);
    } else {
      this.typingLine.replaceChildren();
    }
    this.typingLine.classList.toggle("active", Boolean(content));
  }

  sendTyping() {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    this.lastTypingSent = now;
    if (!this.gateway.send(Op.TYPING, { channel_id: this.channelId })) {
      this.api("POST", `/channels/${this.channelId}/typing`).catch(() => {});
    }
  }

  // --- read state and badges ---------------------------------------------------------------------

  /** Mark the channel read up to its newest message, if the reader can see it. A burst of new
   *  messages costs one ack (`now` skips the short wait, e.g. right after the page opens). */
  maybeAck({ now = false } = {}) {
    if (document.visibilityState !== "visible" || !this.historyLoaded) return;
    const newest = this.newestId();
    if (!newest || newest <= this.lastAcked) return;
    clearTimeout(this.ackTimer);
    this.ackTimer = setTimeout(() => this.ack(), now ? 0 : 300);
  }

  ack() {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const id = this.newestId();
    if (!id || id <= this.lastAcked) return;
    this.lastAcked = id;
    if (this.gateway.send(Op.ACK, { channel_id: this.channelId, message_id: id })) return;
    // keepalive: the read state is saved even if the reader leaves the page right away.
    fetch(`/api/channels/${this.channelId}/ack`, {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ message_id: id }),
    }).then((res) => {
      if (!res.ok && this.lastAcked === id) this.lastAcked = 0;
    }).catch(() => {
      if (this.lastAcked === id) this.lastAcked = 0;
    });
  }

  linkFor(channelId) {
    return document.querySelector(`.channel-link[data-channel-id="${channelId}"]`);
  }

  clearBadge(channelId) {
    const entry = this.unread.get(channelId);
    if (entry) {
      entry.unread = 0;
      entry.mentions = 0;
    }
    this.paintBadge(channelId);
    if (entry) this.paintGuild(entry.guildId);
  }

  paintBadge(channelId) {
    const link = this.linkFor(channelId);
    if (!link) return;
    const entry = this.unread.get(channelId) || { unread: 0, mentions: 0 };
    const isOpen = channelId === this.channelId;
    const unread = isOpen ? 0 : entry.unread;
    const mentions = isOpen ? 0 : entry.mentions;
    link.classList.toggle("unread", unread > 0);
    const dot = link.querySelector(".badge-unread");
    if (dot) dot.hidden = unread === 0;
    const badge = link.querySelector(".badge-mention");
    if (badge) {
      badge.hidden = mentions === 0;
      badge.textContent = mentions > 99 ? "99+" : String(mentions);
    }
  }

  paintGuild(guildId) {
    if (!guildId || guildId === this.guildId) return;
    const item = document.querySelector(`.rail-item[data-guild-id="${guildId}"]`);
    if (!item) return;
    let unread = 0;
    let mentions = 0;
    for (const entry of this.unread.values()) {
      if (entry.guildId !== guildId) continue;
      unread += entry.unread;
      mentions += entry.mentions;
    }
    item.classList.toggle("unread", unread > 0);
    item.classList.toggle("mentioned", mentions > 0);
  }

  // --- composer ----------------------------------------------------------------------------------

  bindComposer() {
    if (!this.form) return;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === "Escape" && this.replyTo) {
        event.preventDefault();
        this.setReply(null);
      } else if (event.key === "ArrowUp" && !this.input.value) {
        const last = [...this.messages.values()].filter((m) => m.author?.id === this.userId).pop();
        if (last) {
          event.preventDefault();
          this.startEdit(last.id);
        }
      }
    });
    this.input.addEventListener("input", () => {
      this.autosize();
      this.setComposerError("");
      if (this.input.value.trim()) this.sendTyping();
    });
    this.replyBar.querySelector(".composer-reply-cancel").addEventListener("click", () => this.setReply(null));
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${this.input.scrollHeight}px`; // CSS max-height caps it, then it scrolls
  }

  setComposerError(text) {
    if (!this.composerError) return;
    this.composerError.textContent = text;
    this.composerError.hidden = !text;
    this.form.classList.toggle("has-error", Boolean(text));
  }

  setReply(target) {
    this.replyTo = target;
    if (!this.replyBar) return;
    this.replyBar.hidden = !target;
    const text = this.replyBar.querySelector(".composer-reply-text");
    text.replaceChildren(target ? fill(this.t.replyingTo, { name: target.author }, { bold: true }) : "");
    if (target) this.input.focus();
  }

  newNonce() {
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
  }

  submit() {
    const content = this.input.value;
    if (this.attachments.busy()) {
      this.setComposerError(this.attachments.t.wait);
      return;
    }
    if (!content.trim() && !this.attachments.count()) {
      this.setComposerError(this.t.empty);
      return;
    }
    const files = this.attachments.take();
    const nonce = this.newNonce();
    const replyTo = this.replyTo;
    const optimistic = {
      id: 0, channel_id: this.channelId, content, content_html: "", reply_to: replyTo
        ? { id: replyTo.id, author: replyTo.author, content: replyTo.content } : null,
      author: this.myAuthor(), created_at: new Date().toISOString(), edited_at: null, reactions: [], pinned: false,
      mentions: [], mention_roles: [], mention_everyone: false, attachments: files,
    };
    const el = this.renderMessage(optimistic, { pendingNonce: nonce });
    el.querySelector(".msg-content").textContent = content; // shown as typed until the server renders it
    this.list.append(el);
    this.regroup(el);
    this.scrollToBottom();
    this.pending.set(nonce, { el, content, replyTo });
    this.input.value = "";
    this.autosize();
    this.setReply(null);
    this.setComposerError("");
    this.lastTypingSent = 0;
    // One send at a time, so messages keep the order they were typed in (and slow mode refuses
    // the later one, never the earlier).
    this.sendQueue = this.sendQueue.then(() => this.deliver({ nonce, content, replyTo, el, files }));
  }

  async deliver({ nonce, content, replyTo, el, files = [] }) {
    try {
      const m = await this.postMessage(this.messagesPath(), {
        content, nonce, reply_to: replyTo ? replyTo.id : null, attachment_ids: files.map((a) => a.id),
      });
      const still = this.pending.get(nonce);
      if (still) {
        still.el.remove();
        this.pending.delete(nonce);
      }
      if (!this.messages.has(m.id)) {
        this.upsert(m, { scroll: false });
        this.scrollToBottom();
      }
      this.maybeAck();
    } catch (err) {
      el.remove();
      this.pending.delete(nonce);
      this.attachments.restore(files);
      // Give the text back, so nothing typed is lost.
      if (!this.input.value) {
        this.input.value = content;
        if (replyTo && !this.replyTo) this.setReply(replyTo);
      } else {
        this.input.value = `${content}\n${this.input.value}`;
      }
      this.autosize();
      this.setComposerError(err.message);
      this.input.focus();
    }
  }

  /** POST a message; while the network or the server fails, try again with the same body. Its nonce
   * makes that safe: a send the server had stored answers the stored message, never a copy. The
   * message stays pending meanwhile. */
  async postMessage(path, body) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.api("POST", path, body);
      } catch (err) {
        if ((err.status !== 0 && err.status < 500) || attempt >= SEND_RETRY_MS.length) throw err;
        await new Promise((resolve) => setTimeout(resolve, SEND_RETRY_MS[attempt]));
      }
    }
  }

  /** The author block of the viewer's own optimistic messages, from the last message they sent. */
  myAuthor() {
    for (const m of [...this.messages.values()].reverse()) if (m.author?.id === this.userId) return m.author;
    const name = document.querySelector(".me-panel strong")?.textContent || "";
    return { id: this.userId, display_name: name, username: "", avatar: null, color: "" };
  }

  // --- message actions ---------------------------------------------------------------------------

  bindList() {
    this.list.addEventListener("click", (event) => {
      const target = event.target;
      const li = target.closest(".msg");
      if (!li || !li.dataset.id) return;
      const id = Number(li.dataset.id);
      const chip = target.closest(".reaction");
      if (chip) {
        this.toggleReaction(id, chip.dataset.emoji);
        return;
      }
      const spoiler = target.closest(".spoiler");
      if (spoiler) spoiler.classList.add("revealed");
      const preview = target.closest(".msg-reply");
      if (preview) {
        this.jumpTo(Number(preview.dataset.replyId));
        return;
      }
      const action = target.closest("[data-action]")?.dataset.action;
      if (!action) return;
      if (action === "react") this.openPicker(id, target.closest("button"));
      else if (action === "reply") this.startReply(id);
      else if (action === "edit") this.startEdit(id);
      else if (action === "delete") this.deleteMessage(id);
      else if (action === "pin" || action === "unpin") this.pin(id, action === "pin");
      else if (action === "report") openReport("message", id);
    });
    this.list.addEventListener("keydown", (event) => {
      const preview = event.target.closest?.(".msg-reply");
      if (preview && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        this.jumpTo(Number(preview.dataset.replyId));
      }
    });
  }

  jumpTo(id) {
    const el = this.elementFor(id);
    if (!el) return;
    el.scrollIntoView({ block: "center", behavior: "smooth" });
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  }

  startReply(id) {
    const m = this.messages.get(id);
    if (!m || !this.form) return;
    this.setReply({ id, author: m.author?.display_name || this.t.deletedUser, content: quoteText(m.content_html) });
  }

  startEdit(id) {
    const m = this.messages.get(id);
    const el = this.elementFor(id);
    if (!m || !el || m.author?.id !== this.userId) return;
    if (this.editingId && this.editingId !== id) this.cancelEdit();
    if (this.editingId === id) return;
    this.editingId = id;
    el.classList.add("editing");
    const content = el.querySelector(".msg-content");
    const textarea = h("textarea", { class: "msg-editor-input", rows: "1", "aria-label": this.t.edit });
    textarea.value = m.content;
    const error = h("p", { class: "error msg-editor-error", role: "alert", hidden: true });
    const cancel = h("button", { type: "button", class: "link", text: this.t.cancel });
    const save = h("button", { type: "submit", class: "link", text: this.t.save });
    const form = h("form", { class: "msg-editor", novalidate: true }, textarea,
      h("p", { class: "msg-editor-hint muted small" }, this.t.editHint, " ", cancel, " · ", save), error);
    content.after(form);
    const grow = () => {
      textarea.style.height = "auto";
      textarea.style.height = `${textarea.scrollHeight}px`;
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveEdit(id, textarea, error);
    });
    cancel.addEventListener("click", () => this.cancelEdit());
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.saveEdit(id, textarea, error);
      } else if (event.key === "Escape") {
        event.preventDefault();
        this.cancelEdit();
      }
    });
    textarea.addEventListener("input", grow);
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    grow();
  }

  cancelEdit() {
    const id = this.editingId;
    if (!id) return;
    this.editingId = null;
    const m = this.messages.get(id);
    const el = this.elementFor(id);
    if (el && m) {
      // Re-render: an update that arrived while editing shows now.
      const fresh = this.renderMessage(m);
      el.replaceWith(fresh);
      this.regroup(fresh);
    }
    this.input?.focus();
  }

  async saveEdit(id, textarea, error) {
    const m = this.messages.get(id);
    if (!m) return;
    if (textarea.value === m.content) {
      this.cancelEdit();
      return;
    }
    textarea.disabled = true;
    try {
      const updated = await this.api("PATCH", `${this.messagesPath()}/${id}`, { content: textarea.value });
      this.messages.set(id, { ...updated, reactions: updated.reactions ?? m.reactions });
      this.cancelEdit();
    } catch (err) {
      textarea.disabled = false;
      error.textContent = err.message;
      error.hidden = false;
      textarea.focus();
    }
  }

  async deleteMessage(id) {
    if (!window.confirm(this.t.confirmDelete)) return;
    try {
      await this.api("DELETE", `${this.messagesPath()}/${id}`);
      this.removeMessage(id);
    } catch (err) {
      this.showToast(err.message);
    }
  }

  async pin(id, pinned) {
    try {
      await this.api(pinned ? "PUT" : "DELETE", `/channels/${this.channelId}/pins/${id}`);
      this.setPinned(id, pinned);
      if (!this.pinsPanel.hidden) this.loadPins();
    } catch (err) {
      this.showToast(err.message);
    }
  }

  // --- emoji picker ------------------------------------------------------------------------------

  bindPicker() {
    for (const emoji of QUICK_EMOJI) {
      this.picker.append(h("button", { type: "button", class: "emoji-choice", dataset: { emoji }, title: emoji, text: emoji }));
    }
    this.picker.addEventListener("click", (event) => {
      const choice = event.target.closest(".emoji-choice");
      if (!choice || !this.pickerFor) return;
      const id = this.pickerFor;
      const emoji = choice.dataset.emoji;
      this.closePicker();
      const r = this.messages.get(id)?.reactions?.find((x) => x.emoji === emoji);
      if (!r?.me) this.toggleReaction(id, emoji);
    });
    document.addEventListener("click", (event) => {
      if (this.picker.hidden || this.picker.contains(event.target) || event.target.closest(".act-react")) return;
      this.closePicker();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      if (!this.picker.hidden) this.closePicker();
      else if (!this.pinsPanel.hidden) this.togglePins(false);
    });
  }

  openPicker(id, anchor) {
    if (this.pickerFor === id && !this.picker.hidden) {
      this.closePicker();
      return;
    }
    this.pickerFor = id;
    this.picker.hidden = false;
    const box = this.root.getBoundingClientRect();
    const at = anchor.getBoundingClientRect();
    const width = this.picker.offsetWidth;
    const height = this.picker.offsetHeight;
    let top = at.bottom - box.top + 4;
    if (top + height > box.height) top = at.top - box.top - height - 4;
    this.picker.style.top = `${Math.max(4, top)}px`;
    this.picker.style.left = `${Math.max(4, Math.min(at.right - box.left - width, box.width - width - 4))}px`;
    this.picker.querySelector("button")?.focus();
  }

  closePicker() {
    this.picker.hidden = true;
    this.pickerFor = null;
  }

  // --- pins --------------------------------------------------------------------------------------

  bindPins() {
    this.pinsToggle?.addEventListener("click", () => this.togglePins());
    this.pinsPanel.querySelector(".pins-close").addEventListener("click", () => this.togglePins(false));
    this.pinsList.addEventListener("click", (event) => {
      const item = event.target.closest(".pin-item");
      if (!item) return;
      const id = Number(item.dataset.id);
      if (event.target.closest(".pin-jump")) {
        this.togglePins(false);
        this.jumpTo(id);
      } else if (event.target.closest(".pin-unpin")) {
        this.pin(id, false);
      }
    });
  }

  togglePins(open = this.pinsPanel.hidden) {
    this.pinsPanel.hidden = !open;
    this.pinsToggle?.setAttribute("aria-expanded", String(open));
    this.pinsToggle?.classList.toggle("active", open);
    if (open) this.loadPins();
  }

  async loadPins() {
    let pins;
    try {
      pins = await this.api("GET", `/channels/${this.channelId}/pins`);
    } catch (err) {
      this.pinsList.replaceChildren(h("li", { class: "pins-empty error", text: err.message }));
      return;
    }
    if (!pins.length) {
      this.pinsList.replaceChildren(h("li", { class: "pins-empty muted", text: this.t.noPins }));
      return;
    }
    this.pinsList.replaceChildren(...pins.map((m) => {
      const name = h("span", { class: "msg-author", text: m.author?.display_name || this.t.deletedUser });
      if (m.author?.color && COLOR_RE.test(m.author.color)) name.style.color = m.author.color;
      const date = new Date(m.created_at);
      const content = h("div", { class: "msg-content" });
      this.fillContent(content, m);
      const tools = h("div", { class: "pin-tools" },
        this.elementFor(m.id) ? h("button", { type: "button", class: "small pin-jump", text: this.t.jump }) : null,
        this.can.pin ? h("button", { type: "button", class: "small pin-unpin", text: this.t.unpin }) : null);
      return h("li", { class: "pin-item", dataset: { id: String(m.id) } },
        this.avatar(m.author),
        h("div", { class: "msg-body" },
          h("div", { class: "msg-head" }, name,
            h("time", { class: "msg-time", datetime: m.created_at, text: this.formatTime(date) })),
          content),
        tools);
    }));
  }

  // --- misc --------------------------------------------------------------------------------------

  showToast(text) {
    if (!text) return;
    this.toast.textContent = text;
    this.toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => {
      this.toast.hidden = true;
    }, 6000);
  }

  // --- jumping to a message (search results, notifications, ?around= links) -----------------------

  bindJumps() {
    attachNotifications(this.gateway, { userId: this.userId, guildId: this.guildId, roleIds: this.roleIds });
    document.addEventListener("smartc:jump", (event) => {
      if (event.detail?.channelId === this.channelId) this.openAt(event.detail.messageId);
    });
    this.scroller.addEventListener("scroll", () => {
      if (this.gapAfter && this.isNearBottom()) this.loadNewer();
    }, { passive: true });
  }

  /** Show message `id` of this channel: in place when it is loaded, else the page around it. The
   *  messages after that page are then loaded as the reader scrolls down (gapAfter). */
  async openAt(id) {
    if (this.elementFor(id)) {
      this.jumpTo(id);
      return;
    }
    if (!this.can.history) {
      if (!this.historyLoaded) this.loadInitial();
      return;
    }
    let page;
    try {
      page = await this.api("GET", this.messagesPath(`?around=${id}&limit=${PAGE_SIZE}`));
    } catch (err) {
      this.showToast(err.message || this.t.historyFailed);
      if (!this.historyLoaded) this.loadInitial();
      return;
    }
    this.messages.clear();
    this.list.replaceChildren();
    for (const m of page) this.upsert(m, { scroll: false });
    this.hasMore = true;
    this.historyStart.hidden = true;
    this.historyLoaded = true;
    this.gapAfter = true;
    this.jumpTo(id);
    if (this.isNearBottom()) this.loadNewer();
  }

  async loadNewer() {
    if (this.loadingNewer || !this.gapAfter) return;
    this.loadingNewer = true;
    try {
      const page = await this.api("GET", this.messagesPath(`?after=${this.newestId()}&limit=${PAGE_SIZE}`));
      for (const m of page) this.upsert(m, { scroll: false });
      if (page.length < PAGE_SIZE) this.gapAfter = false;
    } catch (err) {
      this.showToast(err.message);
    } finally {
      this.loadingNewer = false;
    }
  }

  backToPresent() {
    this.gapAfter = false;
    this.messages.clear();
    this.list.replaceChildren();
    this.loadInitial();
  }
}

const root = document.getElementById("chat");
if (root) {
  const page = new ChatPage(root);
  page.start();
  // Other modules (the DM list) listen on this page's gateway rather than open a second socket.
  document.dispatchEvent(new CustomEvent("smartc:chat", { detail: page }));
  attachThreads(page, { h, fill, fillText, flag });
}
