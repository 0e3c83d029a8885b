// The live channel page: history over REST, live events over the gateway, and the composer. It is
// made of parts (static/js/chat/), each handed this page: its ids, what the viewer may do, the
// words the template translated, the gateway, and the other parts.
//   view.js       how a message is drawn          messages.js  the list of loaded messages
//   history.js    paging through the history      live.js      messages and errors from the gateway
//   composer.js   sending, replying, editing      attachments.js  files: uploads and how they show
//   reactions.js  reaction chips                  pins.js      pinning and the pins panel
//   typing.js     "… is typing"                   unread.js    read marks and unread badges
//   threads.js    threads: chips, the thread panel and the channel's thread list
//   suggestions.js, autocomplete.js  @member, #channel and :emoji: completion in the message boxes
//   keyboard.js   one tab stop per message, the arrows between them, the skip links
// The emoji picker (../emoji_picker.js) is the page's one, for reactions and the message box.
// Message HTML (content_html) is sanitised by the server and inserted as HTML; every other string
// (names, emoji, reply previews) goes in through textContent.
import { ApiError, errorMessage } from "./api.js";
import { Attachments } from "./chat/attachments.js";
import { Composer } from "./chat/composer.js";
import { History } from "./chat/history.js";
import { bindSkipLinks, keyboardMessages } from "./chat/keyboard.js";
import { bindLive } from "./chat/live.js";
import { MessageList } from "./chat/messages.js";
import { Pins } from "./chat/pins.js";
import { Reactions } from "./chat/reactions.js";
import { Suggestions } from "./chat/suggestions.js";
import { attachThreads } from "./chat/threads.js";
import { Typing } from "./chat/typing.js";
import { ReadState } from "./chat/unread.js";
import { MessageView } from "./chat/view.js";
import { fillText, flag, momentText } from "./dom.js";
import { EmojiPicker } from "./emoji_picker.js";
import { Gateway } from "./gateway.js";
import { Presence } from "./members.js";
import { attachNotifications } from "./notifications.js";
import { Sidebar } from "./sidebar.js";
import { attachWarnings } from "./warnings.js";

const TOAST_MS = 6000;

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
      mentionEveryone: flag(d.canMentionEveryone),
    };
    this.t = { ...document.getElementById("chat-i18n").dataset };
    this.lang = document.documentElement.lang || navigator.language;
    this.scroller = document.getElementById("messages");
    this.toastLine = document.getElementById("chat-toast");

    this.gateway = new Gateway({ catchUp: () => this.history.catchUp() });
    this.emojiPicker = new EmojiPicker(document.getElementById("emoji-picker"), this.t);
    this.view = new MessageView(this);
    this.list = new MessageList(this);
    this.attachments = new Attachments(this);
    this.reactions = new Reactions(this);
    this.suggestions = new Suggestions(this);
    this.composer = new Composer(this);
    this.pins = new Pins(this);
    this.typing = new Typing(this);
    this.unread = new ReadState(this);
    this.history = new History(this);
  }

  start() {
    this.list.start();
    this.composer.start();
    this.attachments.start();
    this.pins.start();
    this.reactions.start();
    bindLive(this);
    keyboardMessages(this.list.el, { hintId: "msg-keys-hint" });
    const threadList = document.getElementById("thread-messages");
    if (threadList) keyboardMessages(threadList, { hintId: "msg-keys-hint" });
    bindSkipLinks();
    this.typing.start();
    this.unread.start();
    new Presence(this.gateway, this.guildId).start();
    new Sidebar(this.gateway, this.guildId).start();
    attachNotifications(this.gateway);
    attachWarnings(this.gateway);
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      if (!this.emojiPicker.close()) this.pins.close();
    });
    this.gateway.connect();
    window.addEventListener("pagehide", () => {
      this.unread.flush(); // before the socket closes: it carries the ack
      this.gateway.close();
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) this.gateway.connect(); // back from the back/forward cache
    });
    this.history.start();
  }

  /** The words for a failed request (an ApiError) or a gateway error frame. */
  say(err) {
    const detail = err instanceof ApiError ? err.detail : err;
    if (detail?.code === "timed_out" && detail.timed_out_until) {
      const until = new Date(detail.timed_out_until);
      if (!Number.isNaN(until.getTime())) return fillText(this.t.timedOut, { time: momentText(until, this.lang) });
    }
    if (err instanceof ApiError) return err.unreachable ? this.t.network : err.message || this.t.failed;
    return errorMessage(err) || err?.message || this.t.failed;
  }

  toast(text) {
    if (!text) return;
    this.toastLine.textContent = text;
    this.toastLine.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => {
      this.toastLine.hidden = true;
    }, TOAST_MS);
  }
}

const root = document.getElementById("chat");
if (root) {
  const page = new ChatPage(root);
  page.start();
  // Other modules (the DM list) listen on this page's gateway rather than open a second socket.
  document.dispatchEvent(new CustomEvent("smartc:chat", { detail: page }));
  attachThreads(page);
}
