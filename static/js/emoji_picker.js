// The emoji picker: every emoji by group (one tab each, the ones used lately first), a search by
// name or keyword in the page's language or by :shortcode:, and a preview of the one under the
// pointer or the focus. One picker serves the page: reactions and the composer open it next to
// their button, saying what to do with the emoji chosen. Keyboard: typing searches, the arrows move
// through the grid, Enter picks (in the search box: the first match), Escape closes and gives the
// focus back to the button that opened it. Shift+click picks and keeps the picker open.
import { h } from "./dom.js";
import { glyph, loadEmoji } from "./emoji.js";

const RECENT_KEY = "smartc.emoji.recent";
const RECENT_MAX = 24;
const FIRST_RECENT = ["👍", "❤️", "😂", "😮", "😢", "🎉", "👀", "🔥"];
const COLUMNS = 8; // as .emoji-grid's CSS lays them out
const SEARCH_LIMIT = 120;
const RECENT = "recent";
// The emoji on each group's tab (emojibase's group numbers).
const GROUP_ICONS = { [RECENT]: "🕘", 0: "😀", 1: "👋", 3: "🐻", 4: "🍔", 5: "✈️", 6: "⚽", 7: "💡", 8: "🔣", 9: "🏁" };

function readRecent() {
  try {
    const stored = JSON.parse(localStorage.getItem(RECENT_KEY) || "null");
    if (Array.isArray(stored) && stored.every((e) => typeof e === "string")) return stored.slice(0, RECENT_MAX);
  } catch {
    // an unreadable list starts over
  }
  return [...FIRST_RECENT];
}

export class EmojiPicker {
  /** `el` is the (hidden) dialog to fill; `t` the translated words (emojiSearch, emojiNone,
   *  emojiRecent, emojiLoading); `signal` (page.js) ends its document listener with the page. */
  constructor(el, t, signal) {
    this.el = el;
    this.signal = signal;
    this.t = t;
    this.set = null;
    this.tab = RECENT;
    this.onPick = null;
    this.opener = null;
    this.pickWhenLoaded = false; // Enter in the search box before the emoji data came
    this.search = h("input", {
      type: "search", class: "emoji-search", placeholder: t.emojiSearch, "aria-label": t.emojiSearch,
      autocomplete: "off", spellcheck: "false",
    });
    this.tabs = h("div", { class: "emoji-tabs" });
    this.heading = h("p", { class: "emoji-heading", id: `${el.id}-heading` });
    this.grid = h("div", { class: "emoji-grid", role: "group", "aria-labelledby": this.heading.id });
    this.status = h("p", { class: "emoji-status muted", role: "status" });
    this.preview = h("div", { class: "emoji-preview", "aria-hidden": "true" });
    el.tabIndex = -1;
    el.append(this.search, this.tabs, this.heading, this.grid, this.status, this.preview);
    this.bind();
  }

  get isOpen() {
    return !this.el.hidden;
  }

  bind() {
    this.search.addEventListener("input", () => this.draw());
    this.search.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        this.choices()[0]?.focus();
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (!this.set && this.search.value.trim()) this.pickWhenLoaded = true; // the search has no data yet
        else this.pickFirst(event.shiftKey);
      }
    });
    this.tabs.addEventListener("click", (event) => {
      const tab = event.target.closest(".emoji-tab");
      if (!tab) return;
      this.tab = tab.dataset.group === RECENT ? RECENT : Number(tab.dataset.group);
      this.search.value = "";
      this.draw();
      this.grid.scrollTop = 0;
    });
    this.grid.addEventListener("click", (event) => {
      const choice = event.target.closest(".emoji-choice");
      if (choice) this.pick(choice.dataset.emoji, event.shiftKey);
    });
    this.grid.addEventListener("keydown", (event) => this.moveInGrid(event));
    const show = (event) => {
      const choice = event.target.closest?.(".emoji-choice");
      if (choice) this.showPreview(choice.dataset.emoji);
    };
    this.grid.addEventListener("mouseover", show);
    this.grid.addEventListener("focusin", show);
    this.el.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      event.stopPropagation();
      this.close();
    });
    document.addEventListener("click", (event) => {
      // The path as dispatched: a tab or a choice redrawn by the click is no longer in the picker.
      const path = event.composedPath();
      if (!this.isOpen || path.includes(this.el) || (this.opener && path.includes(this.opener))) return;
      this.close({ restoreFocus: false });
    }, { signal: this.signal });
  }

  /** Open next to `anchor`; `onPick(emoji)` is told the emoji chosen. Opening it again from the
   *  same button closes it. */
  open(anchor, { label, onPick }) {
    if (this.isOpen && this.opener === anchor) {
      this.close();
      return;
    }
    if (this.isOpen) this.close({ restoreFocus: false });
    this.opener = anchor;
    this.onPick = onPick;
    this.el.setAttribute("aria-label", label);
    anchor.setAttribute("aria-expanded", "true");
    this.search.value = "";
    this.tab = RECENT;
    this.el.hidden = false;
    this.draw();
    this.place(anchor);
    // On a touch screen the search box waits for a tap: focused, it would bring the keyboard up.
    if (matchMedia("(pointer: coarse)").matches) this.el.focus();
    else this.search.focus();
    if (!this.set) {
      loadEmoji().then((set) => {
        this.set = set;
        if (!this.isOpen) return;
        this.draw();
        if (this.pickWhenLoaded) this.pickFirst();
      }, () => {
        this.status.textContent = this.t.failed || "";
        this.status.hidden = false;
      });
    }
  }

  pickFirst(keepOpen = false) {
    this.pickWhenLoaded = false;
    const first = this.choices()[0];
    if (first) this.pick(first.dataset.emoji, keepOpen);
  }

  /** Close; whether it was open. The focus goes back to the button that opened it. */
  close({ restoreFocus = true } = {}) {
    this.pickWhenLoaded = false;
    if (!this.isOpen) return false;
    this.el.hidden = true;
    const opener = this.opener;
    this.opener = null;
    this.onPick = null;
    // Focused while still marked open: a message's action bar shows only then or on focus.
    if (restoreFocus && opener?.isConnected) opener.focus({ preventScroll: true });
    opener?.setAttribute("aria-expanded", "false");
    return true;
  }

  place(anchor) {
    const box = this.el.offsetParent?.getBoundingClientRect() || { top: 0, left: 0, width: innerWidth, height: innerHeight };
    const at = anchor.getBoundingClientRect();
    const width = this.el.offsetWidth;
    const height = this.el.offsetHeight;
    let top = at.bottom - box.top + 4;
    if (top + height > box.height) top = at.top - box.top - height - 4;
    this.el.style.top = `${Math.max(4, top)}px`;
    this.el.style.left = `${Math.max(4, Math.min(at.right - box.left - width, box.width - width - 4))}px`;
  }

  pick(emoji, keepOpen = false) {
    const recent = [emoji, ...readRecent().filter((e) => e !== emoji)].slice(0, RECENT_MAX);
    try {
      localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
    } catch {
      // private mode: the list is not kept, nothing else changes
    }
    const onPick = this.onPick;
    if (!keepOpen) this.close();
    onPick?.(emoji);
  }

  choices() {
    return [...this.grid.querySelectorAll(".emoji-choice")];
  }

  /** The arrows move through the grid, row by row; up from the first row goes back to the search. */
  moveInGrid(event) {
    const choices = this.choices();
    const at = choices.indexOf(document.activeElement);
    if (at < 0) return;
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -COLUMNS, ArrowDown: COLUMNS }[event.key];
    let next;
    if (step !== undefined) next = at + step;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = choices.length - 1;
    else {
      if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) this.search.focus(); // typing searches
      return;
    }
    event.preventDefault();
    if (next < 0 && event.key === "ArrowUp") this.search.focus();
    else choices[Math.max(0, Math.min(choices.length - 1, next))].focus();
  }

  drawTabs() {
    const groups = [{ id: RECENT, label: this.t.emojiRecent }, ...(this.set?.groups || [])];
    const searching = Boolean(this.search.value.trim());
    this.tabs.replaceChildren(...groups.map((g) => h("button", {
      type: "button", class: "emoji-tab", dataset: { group: String(g.id) }, title: g.label, "aria-label": g.label,
      "aria-pressed": !searching && g.id === this.tab ? "true" : "false",
    }, glyph(GROUP_ICONS[g.id] || "⭐", { named: true }))));
  }

  /** The grid for the search typed, else for the tab chosen. */
  draw() {
    this.drawTabs();
    const query = this.search.value.trim();
    let emoji;
    let heading;
    if (query) {
      emoji = this.set ? this.set.search(query, SEARCH_LIMIT).map((e) => e.emoji) : [];
      heading = this.t.emojiSearch;
    } else if (this.tab === RECENT) {
      emoji = readRecent();
      heading = this.t.emojiRecent;
    } else {
      emoji = this.set ? this.set.group(this.tab).map((e) => e.emoji) : [];
      heading = this.set?.groups.find((g) => g.id === this.tab)?.label || "";
    }
    this.heading.textContent = heading;
    this.grid.replaceChildren(...emoji.map((e) => this.choice(e)));
    if (!this.set && (query || this.tab !== RECENT)) this.status.textContent = this.t.emojiLoading;
    else this.status.textContent = emoji.length ? "" : this.t.emojiNone;
    this.status.hidden = !this.status.textContent;
    this.showPreview(emoji[0]);
  }

  choice(emoji) {
    const about = this.set?.about(emoji);
    const label = about?.label || emoji;
    const title = about?.codes[0] ? `:${about.codes[0]}:` : label;
    return h("button", {
      type: "button", class: "emoji-choice", dataset: { emoji }, title, "aria-label": label,
    }, glyph(emoji, { named: true, lazy: true }));
  }

  showPreview(emoji) {
    if (!emoji) {
      this.preview.replaceChildren();
      return;
    }
    const about = this.set?.about(emoji);
    this.preview.replaceChildren(glyph(emoji, { named: true }),
      h("span", { class: "emoji-preview-name" }, h("strong", { text: about?.label || "" }),
        h("span", { class: "muted", text: about?.codes.length ? `:${about.codes[0]}:` : "" })));
  }
}
