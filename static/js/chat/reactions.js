// Reactions: the chips under a message (a click toggles the viewer's own), the page's emoji picker
// that "Add reaction" opens, and MESSAGE_REACTION_ADD / _REMOVE from the gateway. The viewer's own
// change shows at once and is taken back if the server refuses it.
import { send } from "../api.js";
import { fillText, h } from "../dom.js";
import { glyph } from "../emoji.js";

export class Reactions {
  constructor(page) {
    this.page = page;
  }

  start() {
    const { list, gateway } = this.page;
    list.on(".reaction", (id, chip) => this.toggle(id, chip.dataset.emoji));
    list.on('[data-action="react"]', (id, button) => this.openPicker(id, button));
    gateway.on("MESSAGE_REACTION_ADD", (d) => this.onEvent(d, +1));
    gateway.on("MESSAGE_REACTION_REMOVE", (d) => this.onEvent(d, -1));
  }

  /** The chips of message `m`. */
  render(m) {
    const box = h("div", { class: "msg-reactions" });
    for (const r of m.reactions || []) {
      if (r.count <= 0) continue;
      const chip = h("button", {
        type: "button", class: `reaction${r.me ? " me" : ""}`, "aria-pressed": r.me ? "true" : "false",
        dataset: { emoji: r.emoji }, title: fillText(this.page.t.reactionLabel, { emoji: r.emoji, count: r.count }),
      }, h("span", { class: "reaction-emoji" }, glyph(r.emoji)), h("span", { class: "reaction-count", text: String(r.count) }));
      box.append(chip);
    }
    return box;
  }

  openPicker(id, anchor) {
    this.page.emojiPicker.open(anchor, {
      label: this.page.t.react,
      onPick: (emoji) => {
        const r = this.page.list.get(id)?.reactions?.find((x) => x.emoji === emoji);
        if (!r?.me) this.toggle(id, emoji);
      },
    });
  }

  onEvent(d, delta) {
    if (d.channel_id !== this.page.channelId) return;
    this.change(d.message_id, d.emoji, delta, d.user_id === this.page.userId);
  }

  /** Apply one reaction change. For the viewer's own reactions the "me" flag makes it idempotent,
   *  so the optimistic update and the echoed event count once. */
  change(messageId, emoji, delta, mine) {
    const m = this.page.list.get(messageId);
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
    const el = this.page.list.element(messageId);
    el?.querySelector(".msg-reactions")?.replaceWith(this.render(m));
  }

  async toggle(messageId, emoji) {
    const m = this.page.list.get(messageId);
    if (!m) return;
    const had = Boolean(m.reactions?.find((x) => x.emoji === emoji)?.me);
    const delta = had ? -1 : +1;
    this.change(messageId, emoji, delta, true);
    try {
      await send(had ? "DELETE" : "PUT",
        `/api/channels/${this.page.channelId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}/@me`);
    } catch (err) {
      this.change(messageId, emoji, -delta, true);
      this.page.toast(this.page.say(err));
    }
  }
}
