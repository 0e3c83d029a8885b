// The composer: sending a message (shown at once as a pending copy, then replaced by the server's),
// replying to one, and editing one's own in place. Sends go one at a time, in the order typed; a
// send the network or the server failed is tried again with the same nonce (api.js), so it is
// stored once. A refused one gives back its text and its files, so nothing typed is lost. Both the
// message box and the editor complete @mentions, #channels and :emoji: (autocomplete.js); the
// emoji button opens the page's emoji picker.
import { newNonce, send } from "../api.js";
import { autosize, fill, h, onSubmit, quoteText } from "../dom.js";
import { emojify } from "../emoji.js";
import { Autocomplete } from "./autocomplete.js";

/** Type `text` at the caret of `textarea` (replacing any selection), as if typed. */
function typeAtCaret(textarea, text) {
  textarea.focus();
  const { selectionStart: start, selectionEnd: end, value } = textarea;
  textarea.value = value.slice(0, start) + text + value.slice(end);
  textarea.setSelectionRange(start + text.length, start + text.length);
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
}

export class Composer {
  constructor(page) {
    this.page = page;
    this.t = page.t;
    this.form = document.getElementById("composer");
    this.input = document.getElementById("composer-input");
    this.errorLine = document.getElementById("composer-error");
    this.replyBar = document.getElementById("composer-reply");
    this.emojiButton = document.getElementById("composer-emoji");
    this.pending = new Map(); // nonce -> {el, content, replyTo}
    this.queue = Promise.resolve();
    this.replyTo = null; // {id, author, content}
    this.editingId = null;
  }

  start() {
    const list = this.page.list;
    list.on('[data-action="reply"]', (id) => this.startReply(id));
    list.on('[data-action="edit"]', (id) => this.startEdit(id));
    if (!this.form) return;
    new Autocomplete(this.page, this.input, this.form);
    onSubmit(this.form, this.input, () => this.submit());
    this.emojiButton?.addEventListener("click", () => this.page.emojiPicker.open(this.emojiButton, {
      label: this.t.emojiInsert, onPick: (emoji) => typeAtCaret(this.input, emoji),
    }));
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.replyTo) {
        event.preventDefault();
        this.setReply(null);
      } else if (event.key === "ArrowUp" && !this.input.value) {
        const last = [...list.values()].filter((m) => m.author?.id === this.page.userId).pop();
        if (last) {
          event.preventDefault();
          this.startEdit(last.id);
        }
      }
    });
    this.input.addEventListener("input", () => {
      autosize(this.input);
      this.setError("");
      if (this.input.value.trim()) this.page.typing.send();
    });
    this.replyBar.querySelector(".composer-reply-cancel").addEventListener("click", () => this.setReply(null));
  }

  setError(text) {
    if (!this.errorLine) return;
    this.errorLine.textContent = text;
    this.errorLine.hidden = !text;
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

  startReply(id) {
    const m = this.page.list.get(id);
    if (!m || !this.form) return;
    this.setReply({ id, author: m.author?.display_name || this.t.deletedUser, content: quoteText(m.content_html) });
  }

  /** Message `id` went away: stop editing or replying to it. */
  forget(id) {
    if (this.editingId === id) this.editingId = null;
    if (this.replyTo?.id === id) this.setReply(null);
  }

  editing(id) {
    return this.editingId === id;
  }

  // --- sending -----------------------------------------------------------------------------------

  submit() {
    const { list, attachments } = this.page;
    const content = this.input.value;
    if (attachments.busy()) {
      this.setError(attachments.t.wait);
      return;
    }
    if (!content.trim() && !attachments.count()) {
      this.setError(this.t.empty);
      return;
    }
    const files = attachments.take();
    const nonce = newNonce();
    const replyTo = this.replyTo;
    const optimistic = {
      id: 0, channel_id: this.page.channelId, content, content_html: "", reply_to: replyTo
        ? { id: replyTo.id, author: replyTo.author, content: replyTo.content } : null,
      author: this.myAuthor(), created_at: new Date().toISOString(), edited_at: null, reactions: [], pinned: false,
      mentions: [], mention_roles: [], mention_everyone: false, attachments: files,
    };
    const el = this.page.view.render(optimistic, { pendingNonce: nonce });
    const shown = el.querySelector(".msg-content");
    shown.textContent = content; // shown as typed until the server renders it
    emojify(shown);
    list.el.append(el);
    list.regroup(el);
    list.scrollToBottom();
    this.pending.set(nonce, { el, content, replyTo });
    this.input.value = "";
    autosize(this.input);
    this.setReply(null);
    this.setError("");
    this.page.typing.reset();
    // One send at a time, so messages keep the order they were typed in (and slow mode refuses
    // the later one, never the earlier).
    this.queue = this.queue.then(() => this.deliver({ nonce, content, replyTo, el, files }));
  }

  async deliver({ nonce, content, replyTo, el, files = [] }) {
    const { list } = this.page;
    let m;
    try {
      m = await send("POST", `/api/channels/${this.page.channelId}/messages`, {
        content: this.page.suggestions.outgoing(content), nonce, reply_to: replyTo ? replyTo.id : null, attachment_ids: files.map((a) => a.id),
      }, { idempotent: true });
    } catch (err) {
      el.remove();
      this.pending.delete(nonce);
      this.page.attachments.restore(files);
      // Give the text back, so nothing typed is lost.
      if (!this.input.value) {
        this.input.value = content;
        if (replyTo && !this.replyTo) this.setReply(replyTo);
      } else {
        this.input.value = `${content}\n${this.input.value}`;
      }
      autosize(this.input);
      this.setError(this.page.say(err));
      this.input.focus();
      return;
    }
    this.settle(nonce);
    if (!list.has(m.id)) {
      list.upsert(m, { scroll: false });
      list.scrollToBottom();
    }
    this.page.unread.maybeAck();
  }

  /** The pending copy of the message sent with `nonce` gives way to the real one. */
  settle(nonce) {
    const still = this.pending.get(nonce);
    if (!still) return;
    still.el.remove();
    this.pending.delete(nonce);
  }

  /** The author block of the viewer's own optimistic messages, from the last message they sent. */
  myAuthor() {
    const userId = this.page.userId;
    for (const m of [...this.page.list.values()].reverse()) if (m.author?.id === userId) return m.author;
    const name = document.querySelector(".me-panel strong")?.textContent || "";
    return { id: userId, display_name: name, username: "", avatar: null, color: "" };
  }

  // --- editing in place ----------------------------------------------------------------------------

  startEdit(id) {
    const m = this.page.list.get(id);
    const el = this.page.list.element(id);
    if (!m || !el || m.author?.id !== this.page.userId) return;
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
    new Autocomplete(this.page, textarea, form);
    onSubmit(form, textarea, () => this.saveEdit(id, textarea, error));
    cancel.addEventListener("click", () => this.cancelEdit());
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.cancelEdit();
      }
    });
    textarea.addEventListener("input", () => autosize(textarea));
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    autosize(textarea);
  }

  cancelEdit() {
    const id = this.editingId;
    if (!id) return;
    this.editingId = null;
    this.page.list.redraw(id); // an update that arrived while editing shows now
    this.input?.focus();
  }

  async saveEdit(id, textarea, error) {
    const m = this.page.list.get(id);
    if (!m) return;
    if (textarea.value === m.content) {
      this.cancelEdit();
      return;
    }
    textarea.disabled = true;
    let updated;
    try {
      updated = await send("PATCH", `/api/channels/${this.page.channelId}/messages/${id}`,
        { content: this.page.suggestions.outgoing(textarea.value) });
    } catch (err) {
      textarea.disabled = false;
      error.textContent = this.page.say(err);
      error.hidden = false;
      textarea.focus();
      return;
    }
    this.page.list.set(id, { ...updated, reactions: updated.reactions ?? m.reactions });
    this.cancelEdit();
  }
}
