// Message search and the recent-mentions inbox, in one panel under the channel header.
// The server parses the filter words (from:, in:, has:, before:, after:) and answers snippets that
// are escaped text with <mark> around the matches; they are rebuilt here node by node all the same,
// so nothing but text and <mark> can reach the page. Clicking a result jumps to the message.

import { get } from "./api.js";
import { fillText, h } from "./dom.js";
import { emojify } from "./emoji.js";
import { onPage } from "./page.js";

const PAGE = 25;

/** The snippet as DOM: its text, and <mark> elements; any other markup becomes its text. */
export function snippetNodes(snippet) {
  const doc = new DOMParser().parseFromString(`<div>${snippet}</div>`, "text/html"); // inert: no scripts run
  const out = document.createDocumentFragment();
  for (const node of doc.body.firstChild?.childNodes || []) {
    if (node.nodeName === "MARK") out.append(h("mark", { text: node.textContent }));
    else out.append(node.textContent);
  }
  return out;
}

/** The text of a message's rendered (server-sanitised) HTML: mentions by name, no markdown signs. */
export function renderedText(m) {
  const doc = new DOMParser().parseFromString(m.content_html || "", "text/html"); // inert
  return doc.body.textContent || m.content;
}

/** Where a message lives: this page when it is this channel, else its channel's page opened around
 *  it (`url` when the caller has it: a DM's page is not under a guild). */
export function openMessage({ guildId, channelId, messageId, url }) {
  const chat = document.getElementById("chat");
  if (chat && Number(chat.dataset.channelId) === channelId) {
    document.dispatchEvent(new CustomEvent("smartc:jump", { detail: { channelId, messageId } }));
    return;
  }
  location.assign(url || `/guilds/${guildId}/channels/${channelId}?around=${messageId}`);
}

class SearchPanel {
  constructor(root) {
    this.root = root;
    this.t = { ...root.dataset };
    this.guildId = Number(root.dataset.guildId);
    this.form = document.getElementById("search-form");
    this.input = document.getElementById("search-input");
    this.panel = document.getElementById("search-panel");
    this.title = document.getElementById("search-panel-title");
    this.summary = document.getElementById("search-summary");
    this.list = document.getElementById("search-results");
    this.more = document.getElementById("search-more");
    this.mentionsToggle = document.getElementById("mentions-toggle");
    this.hint = this.panel.querySelector(".search-hint");
    this.mode = null; // "search" | "mentions"
    this.query = "";
    this.offset = 0;
    this.cursor = null;
    this.generation = 0; // answers to an older request are dropped
    this.lang = document.documentElement.lang || navigator.language;
    this.dateFormat = new Intl.DateTimeFormat(this.lang, { dateStyle: "medium", timeStyle: "short" });
  }

  start() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const q = this.input.value.trim();
      if (q) this.search(q);
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
    this.mentionsToggle.addEventListener("click", () => {
      if (this.mode === "mentions" && !this.panel.hidden) this.close();
      else this.mentions();
    });
    this.panel.querySelector(".search-close").addEventListener("click", () => this.close());
    this.more.addEventListener("click", () => this.loadMore());
    this.list.addEventListener("click", (event) => {
      const item = event.target.closest(".search-result");
      if (!item) return;
      const d = item.dataset;
      openMessage({ guildId: Number(d.guildId), channelId: Number(d.channelId), messageId: Number(d.id) });
    });
    this.list.addEventListener("keydown", (event) => {
      if ((event.key === "Enter" || event.key === " ") && event.target.closest(".search-result")) {
        event.preventDefault();
        event.target.closest(".search-result").click();
      }
    });
  }

  open(mode) {
    this.mode = mode;
    this.title.textContent = this.title.dataset[mode];
    this.hint.hidden = mode !== "search";
    this.panel.hidden = false;
    this.mentionsToggle.setAttribute("aria-expanded", String(mode === "mentions"));
    this.mentionsToggle.classList.toggle("active", mode === "mentions");
    this.list.replaceChildren();
    this.summary.textContent = "";
    this.more.hidden = true;
  }

  close() {
    this.panel.hidden = true;
    this.mode = null;
    this.mentionsToggle.setAttribute("aria-expanded", "false");
    this.mentionsToggle.classList.remove("active");
  }

  /** The words for a request that failed. */
  say(err) {
    return err.unreachable ? this.t.network : err.message || this.t.failed;
  }

  async search(q) {
    this.open("search");
    this.query = q;
    this.offset = 0;
    await this.loadMore();
  }

  async mentions() {
    this.open("mentions");
    this.cursor = null;
    await this.loadMore();
  }

  async loadMore() {
    const generation = ++this.generation;
    const mode = this.mode;
    this.more.hidden = true;
    try {
      if (mode === "search") {
        const params = new URLSearchParams({ q: this.query, limit: String(PAGE), offset: String(this.offset) });
        const data = await get(`/api/guilds/${this.guildId}/messages/search?${params}`);
        if (generation !== this.generation) return;
        this.offset += data.results.length;
        this.summary.textContent = this.countText(data);
        this.append(data.results, this.t.noResults);
        this.more.hidden = !(data.results.length === PAGE && this.offset < data.total);
      } else {
        const params = new URLSearchParams({ limit: String(PAGE) });
        if (this.cursor) params.set("before", String(this.cursor));
        const data = await get(`/api/users/@me/mentions?${params}`);
        if (generation !== this.generation) return;
        if (data.length) this.cursor = data[data.length - 1].id;
        this.append(data, this.t.noMentions);
        this.more.hidden = data.length < PAGE;
      }
    } catch (err) {
      if (generation !== this.generation) return;
      this.summary.textContent = "";
      this.list.replaceChildren(h("li", { class: "search-empty error", role: "alert", text: this.say(err) }));
    }
  }

  countText(data) {
    if (data.capped) return fillText(this.t.resultsCapped, { n: data.total.toLocaleString(this.lang) });
    if (data.total === 1) return this.t.resultsOne;
    return fillText(this.t.resultsMany, { n: data.total.toLocaleString(this.lang) });
  }

  append(results, emptyText) {
    if (!results.length && !this.list.children.length) {
      this.list.append(h("li", { class: "search-empty muted", text: emptyText }));
      return;
    }
    for (const m of results) this.list.append(this.renderResult(m));
  }

  renderResult(m) {
    const date = new Date(m.created_at);
    return h("li", {
      class: "search-result", tabindex: "0", role: "button",
      dataset: { id: String(m.id), channelId: String(m.channel.id), guildId: String(m.channel.guild_id) },
    },
    h("div", { class: "search-result-head" },
      h("span", { class: "msg-author", text: m.author?.display_name || this.t.deletedUser }),
      h("span", { class: "search-result-channel", text: `#${m.channel.name}` }),
      h("time", { class: "msg-time", datetime: m.created_at, text: this.dateFormat.format(date) })),
    // A search shows the matched words; the inbox shows the message as read, markdown applied.
    emojify(h("p", { class: "search-snippet" }, this.mode === "search" ? snippetNodes(m.snippet) : renderedText(m))));
  }
}

onPage("#search-tools", (root) => new SearchPanel(root).start());
