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
// The page lives until Turbo Drive shows another (page.js): its parts pass `page.signal` to their
// document and window listeners, and subscribe to the tab's gateway through `page.gateway`.
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
import { Presence } from "./members.js";
import { onPage } from "./page.js";
import { Sidebar } from "./sidebar.js";
import { pageGateway } from "./tab_gateway.js";

const TOAST_MS = 6000;

class ChatPage {
  constructor(rootEl, signal) {
    const d = rootEl.dataset;
    this.root = rootEl;
    this.signal = signal;
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

    this.gateway = pageGateway(signal);
    this.gateway.catchUp = () => this.history.catchUp();
    this.emojiPicker = new EmojiPicker(document.getElementById("emoji-picker"), this.t, signal);
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
    const { signal } = this;
    keyboardMessages(this.list.el, { hintId: "msg-keys-hint", signal });
    const threadList = document.getElementById("thread-messages");
    if (threadList) keyboardMessages(threadList, { hintId: "msg-keys-hint", signal });
    bindSkipLinks();
    this.typing.start();
    this.unread.start();
    new Presence(this.gateway, this.guildId, signal).start();
    new Sidebar(this.gateway, this.guildId).start();
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      if (!this.emojiPicker.close()) this.pins.close();
    }, { signal });
    // Before the tab's socket closes (it carries the ack), or when another page is shown.
    window.addEventListener("pagehide", () => this.unread.flush(), { signal });
    signal.addEventListener("abort", () => {
      this.unread.flush();
      clearTimeout(this.toastTimer);
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

onPage("#chat", (root, signal) => {
  const page = new ChatPage(root, signal);
  page.start();
  document.dispatchEvent(new CustomEvent("smartc:chat", { detail: page }));
  attachThreads(page);
});
