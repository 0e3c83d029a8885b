// "Ada is typing…": the line under the message list, from TYPING_START (each shown for a while, and
// gone once that person's message arrives), and this viewer's own typing, told at most every few
// seconds over the gateway (or REST while the socket is down).
import { send } from "../api.js";
import { fill, h } from "../dom.js";
import { Op } from "../gateway.js";

const SEND_EVERY_MS = 3000; // the server keeps one TYPING_START per 5 s; 3 s keeps the line lit
const SHOWN_MS = 8000;

export class Typing {
  constructor(page) {
    this.page = page;
    this.line = document.getElementById("typing-line");
    this.typers = new Map(); // user id -> {name, timer}
    this.lastSent = 0;
  }

  start() {
    const g = this.page.gateway;
    g.on("TYPING_START", (d) => this.onTyping(d));
    g.on("MESSAGE_CREATE", (m) => {
      if (m.channel_id === this.page.channelId) this.stopped(m.author?.id);
    });
  }

  onTyping(d) {
    if (d.channel_id !== this.page.channelId || d.user_id === this.page.userId) return;
    const prev = this.typers.get(d.user_id);
    if (prev) clearTimeout(prev.timer);
    const timer = setTimeout(() => this.stopped(d.user_id), SHOWN_MS);
    this.typers.set(d.user_id, { name: d.display_name || "", timer });
    this.paint();
  }

  stopped(userId) {
    const typer = this.typers.get(userId);
    if (!typer) return;
    clearTimeout(typer.timer);
    this.typers.delete(userId);
    this.paint();
  }

  paint() {
    const t = this.page.t;
    const names = [...this.typers.values()].map((x) => x.name);
    let content = null;
    if (names.length === 1) content = fill(t.typingOne, { name: names[0] }, { bold: true });
    else if (names.length === 2) content = fill(t.typingTwo, { a: names[0], b: names[1] }, { bold: true });
    else if (names.length === 3) {
      content = fill(t.typingThree, { a: names[0], b: names[1], c: names[2] }, { bold: true });
    } else if (names.length > 3) content = document.createTextNode(t.typingMany);
    if (content) {
      this.line.replaceChildren(h("span", { class: "typing-dots", "aria-hidden": "true" },
        h("i"), h("i"), h("i")), content);
    } else {
      this.line.replaceChildren();
    }
    this.line.classList.toggle("active", Boolean(content));
  }

  /** The viewer is typing: tell the others (not more often than every few seconds). */
  send() {
    const now = Date.now();
    if (now - this.lastSent < SEND_EVERY_MS) return;
    this.lastSent = now;
    const channelId = this.page.channelId;
    if (!this.page.gateway.send(Op.TYPING, { channel_id: channelId })) {
      send("POST", `/api/channels/${channelId}/typing`).catch(() => {});
    }
  }

  /** A message was sent: the next keystroke tells the others again at once. */
  reset() {
    this.lastSent = 0;
  }
}
