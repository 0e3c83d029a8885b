// How a message is drawn: its author (avatar, name in the role colour), times, content, the quote of
// the message it replies to, its files and reactions, and the action bar. The thread panel and the
// pins panel draw with it too. Other parts add to a drawn message through `hooks` (threads: their
// chip and "Create thread" button).
import { fillText, h } from "../dom.js";
import { emojify, glyph, onlyEmoji } from "../emoji.js";
import { attachTrackEmbeds } from "../track_embed.js";
import { renderEmbeds } from "./embeds.js";

const COLOR_RE = /^#[0-9a-fA-F]{3,8}$/;

export class MessageView {
  constructor(page) {
    this.page = page;
    this.t = page.t;
    this.hooks = []; // (li, message, {pending}) => void
    this.timeFormat = new Intl.DateTimeFormat(page.lang, { hour: "2-digit", minute: "2-digit" });
    this.dateFormat = new Intl.DateTimeFormat(page.lang, { dateStyle: "short", timeStyle: "short" });
    this.fullFormat = new Intl.DateTimeFormat(page.lang, { dateStyle: "full", timeStyle: "short" });
  }

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

  /** The author's name, in their role colour (set through the DOM: the CSP refuses style attributes). */
  authorName(author) {
    const name = h("span", { class: "msg-author", text: author?.display_name || this.t.deletedUser });
    if (author?.color && COLOR_RE.test(author.color)) name.style.color = author.color;
    if (!author?.bot) return name;
    return h("span", { class: "msg-author-wrap" }, name, h("span", { class: "bot-tag", text: "BOT" }));
  }

  /** Whether `m` is the viewer's own message (a webhook's never is, whatever its id). */
  isOwn(m) {
    return !m.webhook_id && m.author?.id === this.page.userId;
  }

  /** What groups consecutive messages under one header: the author, or the webhook and its name. */
  authorKey(m) {
    if (m.webhook_id) return `webhook:${m.webhook_id}:${m.author?.display_name ?? ""}`;
    return String(m.author?.id ?? "");
  }

  mentionsMe(m) {
    const page = this.page;
    return (m.mentions || []).includes(page.userId) || Boolean(m.mention_everyone)
      || (m.mention_roles || []).some((id) => page.roleIds.has(id));
  }

  /** The <li> of message `m`; with `pendingNonce`, the optimistic copy of a message still being sent. */
  render(m, { pendingNonce = null } = {}) {
    const date = new Date(m.created_at);
    const author = m.author;
    const li = h("li", {
      class: "msg",
      id: pendingNonce ? null : `msg-${m.id}`,
      dataset: pendingNonce ? { nonce: pendingNonce, authorId: this.authorKey(m) }
        : { id: String(m.id), authorId: this.authorKey(m), time: String(date.getTime()) },
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
    if (!this.isOwn(m) && this.mentionsMe(m)) li.classList.add("mentioned");

    if (m.reply_to) li.append(this.replyPreview(m.reply_to));

    const gutter = h("div", { class: "msg-gutter" },
      this.avatar(author),
      h("time", { class: "msg-gutter-time", datetime: m.created_at, title: this.fullFormat.format(date),
        text: this.timeFormat.format(date) }));

    const tag = author?.bot ? h("span", { class: "msg-bot-tag", text: m.webhook_id ? this.t.webhookTag : this.t.botTag })
      : null;
    const head = h("div", { class: "msg-head" }, this.authorName(author), tag,
      h("time", { class: "msg-time", datetime: m.created_at, title: this.fullFormat.format(date),
        text: this.formatTime(date) }),
      h("span", { class: "msg-pin-flag", title: this.t.pinned, "aria-label": this.t.pinned }, glyph("📌", { named: true })));

    const content = h("div", { class: "msg-content" });
    this.fillContent(content, m);
    const canSuppress = !pendingNonce && (this.isOwn(m) || Boolean(this.page.can.manage));
    const body = h("div", { class: "msg-body" }, head, content, renderEmbeds(m, this.t, { canSuppress }),
      this.page.attachments.render(m), this.page.reactions.render(m));
    li.append(gutter, body);
    if (!pendingNonce) li.append(this.actions(m));
    for (const hook of this.hooks) hook(li, m, { pending: Boolean(pendingNonce) });
    return li;
  }

  fillContent(node, m) {
    node.innerHTML = m.content_html; // sanitised server-side (nh3)
    node.classList.toggle("emoji-only", onlyEmoji(node.textContent));
    emojify(node);
    if (m.held) node.append(" ", h("span", { class: "msg-held", text: this.t.held }));
    if (m.edited_at) {
      const edited = new Date(m.edited_at);
      node.append(" ", h("span", { class: "msg-edited", title: this.fullFormat.format(edited), text: this.t.edited }));
    }
    attachTrackEmbeds(node, this.page.channelId); // player cards for linked tracks the viewer can hear
  }

  replyPreview(reply) {
    const box = h("div", { class: "msg-reply", dataset: { replyId: String(reply.id) }, role: "button", tabindex: "0" });
    box.append(
      h("span", { class: "msg-reply-author", text: reply.author ? `@${reply.author}` : this.t.deletedUser }),
      emojify(h("span", { class: "msg-reply-text", text: reply.content })),
    );
    return box;
  }

  actions(m) {
    const { can, t } = this.page;
    const own = this.isOwn(m);
    const bar = h("div", { class: "msg-actions", role: "toolbar" });
    // Text symbols every font has; the emoji ones are drawn as glyphs (no empty box without an emoji font).
    const button = (action, label, icon) => h("button", {
      type: "button", class: `msg-action act-${action}`, dataset: { action }, title: label, "aria-label": label,
    }, h("span", { "aria-hidden": "true" }, typeof icon === "string" ? icon : icon()));
    if (can.react) bar.append(button("react", t.react, "☺"));
    if (can.send) bar.append(button("reply", t.reply, "↩"));
    if (own && can.send) bar.append(button("edit", t.edit, "✎"));
    if (can.pin) bar.append(button(m.pinned ? "unpin" : "pin", m.pinned ? t.unpin : t.pin, () => glyph("📌", { named: true })));
    if (own || can.manage) bar.append(button("delete", t.delete, () => glyph("🗑️", { named: true })));
    if (!own && m.author && !m.webhook_id && t.report) bar.append(button("report", t.report, "⚑"));
    return bar;
  }
}
