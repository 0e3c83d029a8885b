// The channel's history over REST: the newest page when the page opens, older pages as the reader
// scrolls up, and the page around one message (a search result, a notification, an ?around= link),
// after which the newer messages load as the reader scrolls down (`gapAfter`) until the present.
import { get } from "../api.js";

const PAGE_SIZE = 50;
const LOAD_OLDER_WITHIN_PX = 300;

export class History {
  constructor(page) {
    this.page = page;
    this.list = page.list;
    this.startMarker = document.getElementById("history-start");
    this.loading = document.getElementById("history-loading");
    this.hasMore = true;
    this.loaded = false; // the first page is in (or the viewer may not read history)
    this.loadingOlder = false;
    this.loadingNewer = false;
    this.gapAfter = false; // messages newer than those shown are not loaded
  }

  start() {
    const scroller = this.page.scroller;
    scroller.addEventListener("scroll", () => {
      if (scroller.scrollTop < LOAD_OLDER_WITHIN_PX) this.loadOlder();
      if (this.gapAfter && this.list.isNearBottom()) this.loadNewer();
    }, { passive: true });
    document.addEventListener("smartc:jump", (event) => {
      if (event.detail?.channelId === this.page.channelId) this.openAt(event.detail.messageId);
    }, { signal: this.page.signal });
    const around = Number(new URLSearchParams(location.search).get("around"));
    if (around > 0) this.openAt(around);
    else this.loadInitial();
  }

  /** Where the gateway looks for missed messages after a reconnect, once the history is in. */
  catchUp() {
    return this.loaded ? { channelId: this.page.channelId, afterId: this.list.newestId() } : null;
  }

  path(query) {
    return `/api/channels/${this.page.channelId}/messages${query}`;
  }

  showStart() {
    this.startMarker.hidden = this.hasMore;
  }

  async loadInitial() {
    if (!this.page.can.history) {
      this.hasMore = false;
      this.loaded = true;
      return;
    }
    this.loading.hidden = false;
    let page;
    try {
      page = await get(this.path(`?limit=${PAGE_SIZE}`));
    } catch (err) {
      this.loading.hidden = true;
      this.page.toast(this.page.say(err));
      return;
    }
    this.loading.hidden = true;
    for (const m of page) this.list.upsert(m, { scroll: false });
    this.hasMore = page.length === PAGE_SIZE;
    this.showStart();
    this.loaded = true;
    this.list.scrollToBottom();
    this.page.unread.maybeAck({ now: true });
    this.fillViewport();
  }

  /** A tall window may show a whole page without a scrollbar: load older pages until it scrolls. */
  async fillViewport() {
    const scroller = this.page.scroller;
    while (this.hasMore && scroller.scrollHeight <= scroller.clientHeight) {
      if (!(await this.loadOlder())) break;
    }
  }

  async loadOlder() {
    if (this.loadingOlder || !this.hasMore || !this.loaded) return false;
    const oldest = this.list.oldestId();
    if (!oldest) {
      this.hasMore = false;
      this.startMarker.hidden = false;
      return false;
    }
    this.loadingOlder = true;
    this.loading.hidden = false;
    const scroller = this.page.scroller;
    try {
      const page = await get(this.path(`?before=${oldest}&limit=${PAGE_SIZE}`));
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      this.list.prepend(page);
      this.hasMore = page.length === PAGE_SIZE;
      this.showStart();
      this.loading.hidden = true;
      // Keep what the reader was looking at in place.
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
      return true;
    } catch (err) {
      this.loading.hidden = true;
      this.page.toast(this.page.say(err));
      return false;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Show message `id` of this channel: in place when it is loaded, else the page around it. The
   *  messages after that page are then loaded as the reader scrolls down (gapAfter). */
  async openAt(id) {
    if (this.list.element(id)) {
      this.list.jumpTo(id);
      return;
    }
    if (!this.page.can.history) {
      if (!this.loaded) this.loadInitial();
      return;
    }
    let page;
    try {
      page = await get(this.path(`?around=${id}&limit=${PAGE_SIZE}`));
    } catch (err) {
      this.page.toast(this.page.say(err));
      if (!this.loaded) this.loadInitial();
      return;
    }
    this.list.clear();
    for (const m of page) this.list.upsert(m, { scroll: false });
    this.hasMore = true;
    this.startMarker.hidden = true;
    this.loaded = true;
    this.gapAfter = true;
    this.list.jumpTo(id);
    if (this.list.isNearBottom()) this.loadNewer();
  }

  async loadNewer() {
    if (this.loadingNewer || !this.gapAfter) return;
    this.loadingNewer = true;
    try {
      const page = await get(this.path(`?after=${this.list.newestId()}&limit=${PAGE_SIZE}`));
      for (const m of page) this.list.upsert(m, { scroll: false });
      if (page.length < PAGE_SIZE) this.gapAfter = false;
    } catch (err) {
      this.page.toast(this.page.say(err));
    } finally {
      this.loadingNewer = false;
    }
  }

  /** Leave a jump for the newest messages (the viewer sent one: it belongs at the bottom). */
  backToPresent() {
    this.gapAfter = false;
    this.list.clear();
    this.loadInitial();
  }
}
