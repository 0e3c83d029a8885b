// The channel's live events: messages created, edited and deleted as the gateway tells them, the
// line that says the connection was lost, and the gateway's error frames. (Reactions, pins, typing
// and unread counts follow their own events in their own parts.)
import { Op } from "../gateway.js";

export function bindLive(page) {
  const g = page.gateway;
  const list = page.list;
  const status = document.getElementById("chat-status");

  const showConnection = (state) => {
    page.root.dataset.gateway = state;
    let text = "";
    if (state === "connecting" && g.everReady) text = page.t.reconnecting;
    if (state === "closed") text = page.t.disconnected;
    status.textContent = text;
    status.hidden = !text;
  };
  showConnection(g.state); // the tab's socket may be open already (page.js)
  g.on("state", showConnection);
  g.on("fatal", () => showConnection("closed"));

  g.on("error", (d) => {
    // Typing and read marks are best effort (a message deleted just before its ack, say).
    if (d?.ref === Op.TYPING || d?.ref === Op.ACK) return;
    if (d?.message) page.toast(page.say(d));
  });

  g.on("MESSAGE_CREATE", (m) => {
    if (m.channel_id !== page.channelId) return;
    const mine = m.author?.id === page.userId;
    if (m.nonce) page.composer.settle(m.nonce); // the optimistic copy gives way
    if (list.has(m.id)) return;
    if (page.history.gapAfter) {
      if (mine) page.history.backToPresent(); // the newer messages are not loaded; show the present
      return;
    }
    const stick = mine || list.isNearBottom();
    list.upsert(m, { scroll: false });
    if (stick) list.scrollToBottom();
    page.unread.maybeAck();
  });

  g.on("MESSAGE_UPDATE", (m) => {
    if (m.channel_id !== page.channelId) return;
    // A held message approved by a moderator comes back ("restored") to those who dropped it.
    if (list.has(m.id) || m.restored) list.upsert(m);
    list.refreshQuotes(m);
  });

  g.on("MESSAGE_DELETE", (d) => {
    // Held for review: its author keeps it (a MESSAGE_UPDATE marks it held right after).
    if (d.held && d.author_id === page.userId) return;
    if (d.channel_id === page.channelId) list.remove(d.id);
  });
}
