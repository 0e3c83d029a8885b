// A track's player: wavesurfer.js (from npm) draws the peaks the media pipeline stored, over an
// <audio> element that plays the HLS ladder natively where the browser can, through hls.js where it
// has Media Source but no native HLS, and the progressive stream (HTTP Range) otherwise or when HLS
// fails. Clicking the
// waveform seeks; so do the arrow keys on it.
//
// The social layer: like and repost toggles, one play counted when playback first starts, and
// timestamped comments shown as markers on the waveform (wavesurfer's regions plugin) and as a
// list under it. A new comment takes the player's position; other members' comments arrive live
// (TRACK_COMMENT_CREATE / TRACK_COMMENT_DELETE on the gateway).
import { csrfToken, flag, h } from "./dom.js";
import { Gateway } from "./gateway.js";

const page = document.getElementById("track-page");
const audio = document.getElementById("audio");
const SEEK_STEP_S = 5;

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** audiowaveform JSON (interleaved min/max integers) → one channel of 0..1 peaks. */
export function normalisedPeaks(json) {
  const scale = 2 ** ((json.bits || 8) - 1);
  const out = new Float32Array(json.length);
  for (let i = 0; i < json.length; i++) {
    out[i] = Math.min(1, Math.max(Math.abs(json.data[2 * i]), Math.abs(json.data[2 * i + 1])) / scale);
  }
  return out;
}

function fallBack(media, track) {
  // Back to the progressive stream, at the same position.
  const at = media.currentTime;
  media.src = track.stream_url;
  media.currentTime = at;
}

/** Play `track` (its payload) on the `media` element over HLS where the browser can (natively, or
 *  through hls.js loaded from `hlsModule`), else its progressive stream. Returns the hls.js
 *  instance, if one was made (its owner destroys it before loading another track). */
export async function attachHls(media, track, hlsModule) {
  if (!track.hls_url) return null;
  if (media.canPlayType("application/vnd.apple.mpegurl")) {
    media.addEventListener("error", () => fallBack(media, track), { once: true });
    media.src = track.hls_url;
    return null;
  }
  const { default: Hls } = await import(hlsModule);
  if (!Hls.isSupported()) return null;
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    hls.destroy();
    fallBack(media, track);
  });
  hls.loadSource(track.hls_url);
  hls.attachMedia(media);
  return hls;
}

async function start() {
  const track = JSON.parse(document.getElementById("track-data").textContent);
  const container = document.getElementById("waveform");
  const button = document.getElementById("play");
  const time = document.getElementById("time");
  const total = clock(track.duration_ms / 1000);
  const [{ default: WaveSurfer }, { default: RegionsPlugin }, peaks] = await Promise.all([
    import(page.dataset.wavesurfer),
    import(page.dataset.regions),
    fetch(track.peaks_url).then((r) => r.json()),
  ]);
  await attachHls(audio, track, page.dataset.hls);
  const wave = WaveSurfer.create({
    container, media: audio, peaks: [normalisedPeaks(peaks)], duration: track.duration_ms / 1000,
    height: 96, barWidth: 2, barGap: 1, barRadius: 1, waveColor: "#6d7280", progressColor: "#5865f2",
    cursorColor: "#f2f3f5", normalize: true, interact: true,
  });
  const regions = wave.registerPlugin(RegionsPlugin.create());
  social(track, regions, wave);
  container.dataset.ready = "true";
  const label = () => {
    button.textContent = audio.paused ? "\u25b6" : "\u275a\u275a";
    button.setAttribute("aria-label", audio.paused ? button.dataset.play : button.dataset.pause);
  };
  button.addEventListener("click", () => wave.playPause());
  audio.addEventListener("play", label);
  audio.addEventListener("pause", label);
  audio.addEventListener("timeupdate", () => {
    time.textContent = `${clock(audio.currentTime)} / ${total}`;
    container.setAttribute("aria-valuenow", String(Math.round(audio.currentTime * 1000)));
  });
  container.addEventListener("keydown", (e) => {
    const step = { ArrowRight: SEEK_STEP_S, ArrowLeft: -SEEK_STEP_S }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    wave.setTime(Math.min(Math.max(audio.currentTime + step, 0), track.duration_ms / 1000));
  });
}

async function send(method, url, body) {
  const response = await fetch(url, {
    method, headers: { "X-CSRFToken": csrfToken(), Accept: "application/json", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { ok: response.ok, data };
}

function showCounts(counts) {
  for (const name of ["like", "repost", "play", "comment"]) {
    const node = document.getElementById(`${name}-count`);
    if (node && counts[`${name}_count`] !== undefined) node.textContent = String(counts[`${name}_count`]);
  }
  if (counts.liked !== undefined) document.getElementById("like").setAttribute("aria-pressed", String(counts.liked));
  if (counts.reposted !== undefined) {
    document.getElementById("repost").setAttribute("aria-pressed", String(counts.reposted));
  }
}

function social(track, regions, wave) {
  const list = document.getElementById("comment-list");
  const form = document.getElementById("comment-form");
  const me = Number(page.dataset.userId);
  const canManage = flag(page.dataset.canManage);

  const markerOf = (comment) => regions.getRegions().find((r) => r.id === `comment-${comment.id}`);
  const deleteButton = (comment) => h("button", { type: "button", class: "comment-delete link",
    text: list.dataset.delete, dataset: { commentId: String(comment.id) } });

  function fillRow(row, comment) {
    row.querySelector(".comment-time").textContent = clock(comment.position_ms / 1000);
    if ((comment.author.id === me || canManage) && !row.querySelector(".comment-delete")) {
      row.append(deleteButton(comment));
    }
  }

  function addMarker(comment) {
    regions.addRegion({ id: `comment-${comment.id}`, start: comment.position_ms / 1000, color: "#f0b232",
      drag: false, resize: false });
  }

  function addComment(comment) {
    if (list.querySelector(`[data-comment-id="${comment.id}"]`)) return;
    const row = h("li", { class: "comment", dataset: { commentId: String(comment.id), position: String(comment.position_ms) } },
      h("button", { type: "button", class: "comment-time link", dataset: { seek: String(comment.position_ms) } }),
      h("a", { class: "comment-author", href: comment.author.profile_url, text: comment.author.display_name }),
      h("span", { class: "comment-body", text: comment.body }));
    fillRow(row, comment);
    const after = [...list.children].find((li) => Number(li.dataset.position) > comment.position_ms);
    list.insertBefore(row, after || null);
    if (!markerOf(comment)) addMarker(comment);
  }

  function removeComment(id) {
    list.querySelector(`[data-comment-id="${id}"]`)?.remove();
    markerOf({ id })?.remove();
  }

  const initial = JSON.parse(document.getElementById("comments-data").textContent);
  for (const comment of initial) fillRow(list.querySelector(`[data-comment-id="${comment.id}"]`), comment);
  // A region added before the waveform knows its duration is clamped to 0: wait for it.
  const placeInitial = () => {
    for (const comment of initial) {
      if (!markerOf(comment) && list.querySelector(`[data-comment-id="${comment.id}"]`)) addMarker(comment);
    }
  };
  if (wave.getDuration() > 0) placeInitial();
  else wave.once("ready", placeInitial);

  list.addEventListener("click", async (e) => {
    const seek = e.target.closest("[data-seek]");
    if (seek) wave.setTime(Number(seek.dataset.seek) / 1000);
    const del = e.target.closest(".comment-delete");
    if (del) {
      const { ok } = await send("DELETE", `/api/tracks/${track.id}/comments/${del.dataset.commentId}`);
      if (ok) removeComment(Number(del.dataset.commentId));
    }
  });

  for (const id of ["like", "repost"]) {
    const button = document.getElementById(id);
    button.addEventListener("click", async () => {
      const on = button.getAttribute("aria-pressed") !== "true";
      const { ok, data } = await send(on ? "PUT" : "DELETE", button.dataset.url);
      if (ok) showCounts(data);
    });
  }

  let counted = false;
  audio.addEventListener("play", async () => {
    if (counted) return;
    counted = true;  // once per page: the server counts one play per listener per day anyway
    const { ok, data } = await send("POST", `/api/tracks/${track.id}/plays`);
    if (ok) showCounts(data);
  });

  if (form) {
    const at = document.getElementById("comment-at");
    const error = document.getElementById("comment-error");
    const position = () => Math.min(Math.round(audio.currentTime * 1000), track.duration_ms);
    audio.addEventListener("timeupdate", () => { at.textContent = clock(audio.currentTime); });
    audio.addEventListener("seeked", () => { at.textContent = clock(audio.currentTime); });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = form.elements.body.value.trim();
      if (!body) return;
      const { ok, data } = await send("POST", form.dataset.url, { body, position_ms: position() });
      if (!ok) {
        const fields = Object.values(data?.error?.fields || {}).flat();
        error.textContent = fields.length ? fields.join(" ") : data?.error?.message || form.dataset.failed;
        error.hidden = false;
        return;
      }
      error.hidden = true;
      form.reset();
      addComment(data);
      const count = document.getElementById("comment-count");
      count.textContent = String(list.children.length);
    });
  }

  const gateway = new Gateway();
  gateway.on("TRACK_COMMENT_CREATE", (d) => {
    if (d.track_id !== track.id) return;
    addComment(d);
    document.getElementById("comment-count").textContent = String(list.children.length);
  });
  gateway.on("TRACK_COMMENT_DELETE", (d) => {
    if (d.track_id !== track.id) return;
    removeComment(d.id);
    document.getElementById("comment-count").textContent = String(list.children.length);
  });
  gateway.connect();
  window.addEventListener("pagehide", () => gateway.close());
}

if (page && audio) start();
