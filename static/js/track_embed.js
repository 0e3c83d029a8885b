// A track linked in a chat message (`/tracks/{id}` of this site, or an unlisted track's secret link
// `/tracks/{id}/s/{secret}`, absolute or relative, optionally `?t=SECONDS`) gets a player card under the message: cover, title, artist, the stored waveform
// and a play button that starts at `t`. Whether the viewer may hear it is the API's answer: a 404
// from /api/tracks/{id} (not a member of the track's guild, or not ready) shows nothing at all.
// One request per track and page, however many messages link it.
//
// In a channel, the card also offers "Comment at m:ss": a timestamped comment on the track and a
// message in this channel linking that moment (POST /api/tracks/{id}/comments with channel_id).
import { get, send } from "./api.js";
import { fillText, h } from "./dom.js";
import { Player, clock } from "./player.js";

const MAX_EMBEDS = 3; // per message
const TRACK_PATH = /^\/tracks\/(\d+)(?:\/s\/([\w-]+))?\/?$/;
// Relative links are plain text in a message (only http(s) links become <a>): find them in the text.
const TRACK_TEXT = /(?:^|[\s(<])((?:https?:\/\/[^\s/<>]+)?\/tracks\/\d+(?:\/s\/[\w-]+)?\/?(?:\?t=\d+)?)(?=$|[\s)>.,!?;:])/g;
const known = new Map(); // "id/secret" → Promise of its payload, or null when the viewer cannot hear it

function words() {
  return document.getElementById("track-embed-i18n")?.dataset || {};
}

function trackFor(id, secret) {
  const key = `${id}/${secret}`;
  if (!known.has(key)) {
    const query = secret ? `?secret=${encodeURIComponent(secret)}` : "";
    known.set(key, get(`/api/tracks/${id}${query}`).then((t) => (t && t.state === "ready" ? t : null))
      .catch(() => null));
  }
  return known.get(key);
}

/** The (track id, start second) pairs a message's content links, in order, once each. */
export function linkedTracks(node) {
  const found = new Map();
  const consider = (raw) => {
    let url;
    try {
      url = new URL(raw, window.location.origin);
    } catch {
      return;
    }
    const match = url.pathname.match(TRACK_PATH);
    if (!match || url.origin !== window.location.origin || found.has(match[1])) return;
    const t = Number(url.searchParams.get("t"));
    found.set(match[1], { id: Number(match[1]), secret: match[2] || "", at: Number.isFinite(t) && t > 0 ? t : 0 });
  };
  for (const a of node.querySelectorAll("a[href]")) consider(a.getAttribute("href"));
  for (const m of node.textContent.matchAll(TRACK_TEXT)) consider(m[1]);
  return [...found.values()].slice(0, MAX_EMBEDS);
}

function card(track, at, channelId) {
  const t = words();
  const cover = track.cover_urls?.["96"];
  const link = at ? `${track.page_url}?t=${at}` : track.page_url;
  const button = h("button", { type: "button", class: "play-button embed-play", dataset: { play: t.play, pause: t.pause },
    "aria-label": t.play, text: "\u25b6" });
  const wave = h("div", { class: "embed-wave" });
  const time = h("span", { class: "time embed-time", text: `${clock(at)} / ${clock(track.duration_ms / 1000)}` });
  const audio = h("audio", { preload: "none" });
  const box = h("div", { class: "track-embed", dataset: { trackId: String(track.id) } },
    cover ? h("img", { class: "embed-cover", src: cover, alt: "", width: 64, height: 64 })
      : h("span", { class: "embed-cover track-cover placeholder", "aria-hidden": "true", text: "\u266b" }),
    h("div", { class: "embed-main" },
      h("a", { class: "embed-title track-title", href: link, text: track.title }), " ",
      h("a", { class: "embed-artist muted", href: track.owner.profile_url, text: track.owner.display_name }),
      h("div", { class: "embed-row" }, button, wave, time), audio));
  const player = new Player({ audio, container: wave, height: 40 });
  button.addEventListener("click", () => player.playPause());
  audio.addEventListener("timeupdate", () => {
    time.textContent = `${clock(audio.currentTime)} / ${clock(track.duration_ms / 1000)}`;
  });
  player.bindButton(button);
  player.load(track, { at, lazy: true });
  const tools = h("div", { class: "embed-tools" }, h("button", { type: "button", class: "link queue-add",
    "data-queue-add": true, dataset: { trackId: String(track.id) }, text: `+ ${t.queue}` }));
  box.querySelector(".embed-main").append(tools);
  if (channelId && t.commentAt) tools.append(commentForm(track, audio, channelId, at));
  return box;
}

function commentForm(track, audio, channelId, at) {
  const t = words();
  const position = () => Math.min(Math.round((audio.currentTime || at) * 1000), track.duration_ms);
  const label = () => fillText(t.commentAt, { time: clock(position() / 1000) });
  const toggle = h("button", { type: "button", class: "link embed-comment-toggle", text: label() });
  const input = h("input", { name: "body", maxlength: 1000, required: true, autocomplete: "off",
    "aria-label": t.commentLabel });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h("form", { class: "embed-comment", hidden: true }, input,
    h("button", { type: "submit", class: "button", text: t.post }));
  audio.addEventListener("timeupdate", () => { toggle.textContent = label(); });
  toggle.addEventListener("click", () => {
    form.hidden = !form.hidden;
    if (!form.hidden) input.focus();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    try {
      await send("POST", `/api/tracks/${track.id}/comments`, { body, position_ms: position(), channel_id: channelId });
    } catch (err) {
      error.textContent = err.message || t.failed;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    form.reset();
    form.hidden = true;
  });
  return h("div", {}, toggle, form, error);
}

/** Append player cards for the tracks `node` (a message's rendered content) links. */
export function attachTrackEmbeds(node, channelId = null) {
  const links = linkedTracks(node);
  if (!links.length) return;
  const holder = h("div", { class: "track-embeds" });
  node.append(holder);
  for (const { id, secret, at } of links) {
    const slot = h("div", { class: "track-embed-slot" });
    holder.append(slot);
    trackFor(id, secret).then((track) => {
      if (track) slot.replaceWith(card(track, Math.min(at, Math.floor(track.duration_ms / 1000)), channelId));
      else slot.remove();
    });
  }
}
