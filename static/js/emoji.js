// Emoji as SmaRTC draws them. The glyphs ship with the app (Twemoji SVGs from npm's
// @discordapp/twemoji, served as static files), so an emoji never shows as an empty box on a machine
// without an emoji font; text stays unicode everywhere (messages, reactions, the API) and the
// glyphs are drawn at render time. The emoji data comes from npm's emojibase-data: names, keywords
// and groups in the page's language, and Discord-style :shortcodes: (iamcal's, in English), which
// the picker and the composer's autocomplete search. It loads once, on first use.
import twemoji from "../vendor/twemoji/twemoji.esm.js";
import { get } from "./api.js";

const GLYPHS = new URL("../vendor/twemoji/svg/", import.meta.url).href;
const DATA = new URL("../vendor/emojibase/", import.meta.url).href;
const DATA_LANGS = new Set(["en", "fr"]); // the languages served (settings.LANGUAGES)
const NEWEST_GLYPHS = 16; // the newest Emoji version the glyph set draws (emojibase's `version`)
const COMPONENT_GROUP = 2; // skin tones and hair styles alone: parts of emoji, not emoji to pick
const NOT_DRAWN = ".emoji, textarea";
const JUMBO_MAX = 27; // a message of only emoji, up to this many, shows them large (as Discord does)
const SHORTCODE = /:([a-z0-9_+-]{2,60}):/gi;
const CODE_SPAN = /(```[\s\S]*?```|`[^`\n]*`)/;

/** The file of `emoji`'s glyph (Twemoji names a file by its code points, without FE0F unless the
 *  emoji is a ZWJ sequence). */
export function glyphUrl(emoji) {
  const points = twemoji.convert.toCodePoint(emoji.includes("\u200d") ? emoji : emoji.replace(/\ufe0f/g, ""));
  return `${GLYPHS}${points}.svg`;
}

/** An <img> of `emoji`. Its alt is the emoji itself (copying the text keeps it), or "" when the
 *  element around it names it; an emoji the set has no glyph for falls back to the text. */
export function glyph(emoji, { named = false, lazy = false } = {}) {
  const img = document.createElement("img");
  img.className = "emoji";
  img.alt = named ? "" : emoji;
  img.draggable = false;
  img.decoding = "async";
  if (lazy) img.loading = "lazy"; // a long grid fetches only the glyphs scrolled to
  const bare = `${GLYPHS}${twemoji.convert.toCodePoint(emoji.replace(/\ufe0f/g, ""))}.svg`;
  img.addEventListener("error", () => {
    if (img.src !== bare) img.src = bare; // a few sequences are filed without their FE0F (👁️‍🗨️)
    else img.replaceWith(emoji);
  });
  img.src = glyphUrl(emoji);
  return img;
}

/** Emoji found in `text`: [emoji, offset] pairs. */
function findEmoji(text) {
  const found = [];
  twemoji.replace(text, (match, ...rest) => {
    found.push([match, rest[rest.length - 2]]);
    return match;
  });
  return found;
}

/** Draw the emoji in the text under `root` as glyphs (in code too: never an empty box). */
export function emojify(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (twemoji.test(node.nodeValue) && !node.parentElement?.closest(NOT_DRAWN)) nodes.push(node);
  }
  for (const node of nodes) {
    const text = node.nodeValue;
    const frag = document.createDocumentFragment();
    let at = 0;
    for (const [emoji, offset] of findEmoji(text)) {
      if (offset > at) frag.append(text.slice(at, offset));
      frag.append(glyph(emoji));
      at = offset + emoji.length;
    }
    if (at < text.length) frag.append(text.slice(at));
    node.replaceWith(frag);
  }
  return root;
}

/** Whether `text` is only emoji (and spaces), few enough to show large. */
export function onlyEmoji(text) {
  const found = findEmoji(text);
  return found.length > 0 && found.length <= JUMBO_MAX && !twemoji.replace(text, () => "").trim();
}

/** Lower case, no accents: what a search compares ("Visage réjoui" finds "visage rejoui"). */
export function fold(text) {
  return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
}

const fromHexcode = (hex) => String.fromCodePoint(...hex.split("-").map((x) => parseInt(x, 16)));

/** The fully-qualified form of an emojibase entry, as keyboards type it and reactions store it:
 *  an emoji shown as emoji by default (type 1) without the FE0F emojibase adds (👍, not 👍 + FE0F),
 *  one shown as text by default (❤, ☺) with it. */
function qualified(e) {
  return e.type === 1 ? fromHexcode(e.hexcode) : e.emoji;
}

const words = (text) => fold(text).split(/[^a-z0-9+]+/).filter(Boolean);

/** The emoji data: emoji in order, by group, searchable by name, keyword and shortcode. */
export class EmojiSet {
  constructor(data, messages, shortcodes) {
    this.groups = messages.groups.filter((g) => g.order !== COMPONENT_GROUP)
      .map((g) => ({ id: g.order, label: g.message.charAt(0).toUpperCase() + g.message.slice(1) }));
    this.list = [];
    this.byEmoji = new Map();
    this.byCode = new Map();
    for (const e of data) {
      if (e.group === undefined || e.group === COMPONENT_GROUP || e.version > NEWEST_GLYPHS) continue;
      const emoji = qualified(e);
      const codes = [].concat(shortcodes[e.hexcode] ?? []);
      const item = {
        emoji, label: e.label, group: e.group, order: e.order, codes,
        name: fold(e.label), nameWords: words(e.label), words: [...words(e.label), ...(e.tags || []).flatMap(words)],
      };
      this.list.push(item);
      for (const form of new Set([emoji, e.emoji, emoji.replace(/\ufe0f/g, "")])) this.byEmoji.set(form, item);
      for (const skin of e.skins || []) {
        if (!(skin.version > NEWEST_GLYPHS)) this.byEmoji.set(fromHexcode(skin.hexcode), { ...item, emoji: fromHexcode(skin.hexcode), label: skin.label });
      }
      for (const code of codes) if (!this.byCode.has(code)) this.byCode.set(code, emoji);
    }
    this.list.sort((a, b) => a.order - b.order);
  }

  /** The emoji of group `id`, in order. */
  group(id) {
    return this.list.filter((e) => e.group === id);
  }

  /** What we know of `emoji` (its name and shortcodes), or null. */
  about(emoji) {
    return this.byEmoji.get(emoji) || this.byEmoji.get(emoji.replace(/\ufe0f/g, "")) || null;
  }

  /** Emoji matching `query`, best first: a shortcode, then a name, then a keyword; each word of the
   *  query must start a word of the emoji's name or keywords. */
  search(query, limit = 50) {
    const q = fold(query).replace(/^:+|:+$/g, "").trim();
    if (!q) return [];
    const parts = q.split(/[\s_]+/).filter(Boolean);
    const ranked = [];
    for (const e of this.list) {
      const rank = this.rank(e, q, parts);
      if (rank !== null) ranked.push([rank, e]);
    }
    // Equals by rank: the shorter shortcode first (":ta" offers :taco: before :tangerine:), then in order.
    const shortest = (e) => Math.min(99, ...e.codes.filter((c) => c.includes(q)).map((c) => c.length));
    ranked.sort((a, b) => a[0] - b[0] || shortest(a[1]) - shortest(b[1]) || a[1].order - b[1].order);
    return ranked.slice(0, limit).map(([, e]) => e);
  }

  rank(e, q, parts) {
    if (e.codes.includes(q) || e.name === q) return 0;
    if (e.codes.some((c) => c.startsWith(q))) return 1;
    if (e.name.startsWith(q)) return 2;
    if (parts.every((p) => e.nameWords.some((w) => w.startsWith(p)))) return 3;
    if (parts.every((p) => e.words.some((w) => w.startsWith(p)))) return 4;
    if (e.name.includes(q) || e.codes.some((c) => c.includes(q))) return 5;
    return null;
  }

  /** `text` with each known :shortcode: turned into its emoji, except inside code (as Discord's
   *  client does before sending: the server and every other client see unicode). */
  replaceShortcodes(text) {
    return text.split(CODE_SPAN).map((part, i) => (i % 2 ? part
      : part.replace(SHORTCODE, (whole, code) => this.byCode.get(code.toLowerCase()) || whole))).join("");
  }
}

let loading = null;

/** The emoji data in the page's language (loaded once; a failed load is tried again next time). */
export function loadEmoji(lang = document.documentElement.lang) {
  const code = DATA_LANGS.has(lang?.slice(0, 2)) ? lang.slice(0, 2) : "en";
  if (!loading) {
    loading = Promise.all([
      get(`${DATA}${code}/data.json`), get(`${DATA}${code}/messages.json`), get(`${DATA}en/shortcodes/iamcal.json`),
    ]).then(([data, messages, shortcodes]) => new EmojiSet(data, messages, shortcodes));
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}
