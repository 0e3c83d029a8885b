// The autocomplete list of a message box: typing "@", "#" or ":" (at the start of a word) offers
// members and roles, channels or emoji (Suggestions says which). The list is a listbox the textarea
// points at (aria-controls, aria-activedescendant), so a screen reader follows the choice while the
// focus stays in the text. Keyboard: Up/Down choose, Enter or Tab insert, Escape closes the list
// (and only the list). Pointer and touch: a tap inserts, and the keyboard of a phone stays up.
import { h } from "../dom.js";
import { glyph } from "../emoji.js";

const TRIGGER = /(?:^|[\s([{>])([@#:])([^\s@#:]{0,32})$/u;
const DEBOUNCE_MS = 120;
let lists = 0;

export class Autocomplete {
  /** Offers suggestions for `textarea`; the list shows above `box` (positioned: the composer form). */
  constructor(page, textarea, box) {
    this.page = page;
    this.sources = page.suggestions;
    this.input = textarea;
    this.listId = `autocomplete-${++lists}`;
    this.el = h("ul", { class: "autocomplete", id: this.listId, role: "listbox", hidden: true });
    box.append(this.el);
    this.items = [];
    this.active = 0;
    this.at = null; // {start, end} of the "@query" being completed
    this.dismissed = null; // the word whose list Escape closed (typing on opens it again)
    this.seq = 0;
    this.timer = null;
    this.insertWhenReady = false; // Enter or Tab came before the list caught up with the typing
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", this.listId);
    this.bind();
  }

  get isOpen() {
    return !this.el.hidden;
  }

  bind() {
    const input = this.input;
    input.addEventListener("focus", () => this.sources.prefetch(), { once: true });
    input.addEventListener("input", () => this.schedule());
    input.addEventListener("click", () => this.schedule());
    input.addEventListener("keyup", (event) => {
      if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) this.schedule();
    });
    input.addEventListener("blur", () => this.close());
    // Capture, and stopped here: the keys the list uses never reach the composer (Enter would send).
    input.addEventListener("keydown", (event) => this.onKey(event), { capture: true });
    // Keep the focus (and a phone's keyboard) in the text while a choice is tapped.
    for (const type of ["pointerdown", "mousedown"]) this.el.addEventListener(type, (event) => event.preventDefault());
    this.el.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) this.insert(Number(option.dataset.index));
    });
    this.el.addEventListener("mousemove", (event) => {
      const option = event.target.closest('[role="option"]');
      if (option && Number(option.dataset.index) !== this.active) this.select(Number(option.dataset.index));
    });
  }

  onKey(event) {
    if (!this.isOpen || event.isComposing) return;
    const n = this.items.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      this.select((this.active + (event.key === "ArrowDown" ? 1 : -1) + n) % n);
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
      const word = this.word();
      if (word && (word.start !== this.at?.start || word.query !== this.at?.query)) {
        // The list shows what an earlier keystroke asked for: take the first of the fresh one.
        clearTimeout(this.timer);
        this.insertWhenReady = true;
        this.suggest(word);
      } else {
        this.insert(this.active);
      }
    } else if (event.key === "Escape") {
      this.dismissed = this.at ? `${this.at.start}:${this.at.query}` : null;
      this.close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  /** Look at the word before the caret again, soon (a burst of typing asks once). */
  schedule() {
    clearTimeout(this.timer);
    const word = this.word();
    if (!word || word.start !== this.at?.start) {
      this.seq++;
      this.close();
    }
    if (!word) return;
    this.timer = setTimeout(() => this.suggest(word), word.trigger === "@" && word.query ? DEBOUNCE_MS : 0);
  }

  /** The "@query", "#query" or ":query" ending at the caret, or null. */
  word() {
    const { input } = this;
    if (input.selectionStart !== input.selectionEnd) return null;
    const end = input.selectionStart;
    const match = input.value.slice(0, end).match(TRIGGER);
    if (!match) {
      this.dismissed = null;
      return null;
    }
    const start = end - match[2].length - 1;
    if (this.dismissed === `${start}:${match[2]}`) return null;
    this.dismissed = null;
    return { trigger: match[1], query: match[2], start, end };
  }

  async suggest(word) {
    const seq = ++this.seq;
    let found;
    try {
      found = await this.sources.find(word.trigger, word.query);
    } catch {
      found = { items: [] }; // no suggestions this time; typing goes on as usual
    }
    if (seq !== this.seq || document.activeElement !== this.input) return;
    this.at = word;
    const insertNow = this.insertWhenReady;
    this.show(found.heading, found.items);
    if (insertNow && this.items.length) this.insert(0);
  }

  show(heading, items) {
    this.items = items;
    if (!items.length) {
      this.close();
      return;
    }
    this.el.setAttribute("aria-label", heading);
    this.el.replaceChildren(h("li", { class: "autocomplete-heading", role: "presentation", text: heading }),
      ...items.map((item, i) => this.option(item, i)));
    this.el.hidden = false;
    this.select(0);
  }

  option(item, index) {
    let icon;
    if (item.kind === "emoji") icon = glyph(item.emoji, { named: true });
    else if (item.kind === "channel") icon = h("span", { class: "autocomplete-icon", "aria-hidden": "true", text: "#" });
    else icon = h("span", { class: `autocomplete-icon avatar${item.kind === "user" ? "" : " role"}`, "aria-hidden": "true",
      text: item.kind === "user" ? item.label.slice(0, 1).toUpperCase() : "@" });
    const label = h("span", { class: "autocomplete-label", text: item.label });
    if (item.color) label.style.color = item.color; // through the DOM: the CSP refuses style attributes
    return h("li", {
      role: "option", id: `${this.listId}-${index}`, class: `autocomplete-option kind-${item.kind}`,
      dataset: { index: String(index) }, "aria-selected": "false",
    }, icon, label, item.detail ? h("span", { class: "autocomplete-detail muted", text: item.detail }) : null);
  }

  select(index) {
    this.active = index;
    for (const option of this.el.querySelectorAll('[role="option"]')) {
      const on = Number(option.dataset.index) === index;
      option.setAttribute("aria-selected", on ? "true" : "false");
      if (on) option.scrollIntoView({ block: "nearest" });
    }
    this.input.setAttribute("aria-activedescendant", `${this.listId}-${index}`);
  }

  /** Put the chosen suggestion in place of the word being typed, and a space after it. */
  insert(index) {
    const item = this.items[index];
    const at = this.at;
    if (!item || !at) return;
    const { input } = this;
    const after = input.value.slice(at.end);
    const text = `${item.insert}${after.startsWith(" ") ? "" : " "}`;
    input.value = input.value.slice(0, at.start) + text + after;
    const caret = at.start + text.length + (after.startsWith(" ") ? 1 : 0);
    input.setSelectionRange(caret, caret);
    this.sources.choose(item);
    this.close();
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true })); // the composer sizes itself, says "typing"
  }

  close() {
    this.el.hidden = true;
    this.insertWhenReady = false;
    this.items = [];
    this.at = null;
    this.input.removeAttribute("aria-activedescendant");
  }
}
