// A track's page: its player (player.js) with the waveform; clicking the waveform seeks, so do the
// arrow keys on it, and `?t=SECONDS` in the address starts there (the links chat messages carry).
//
// The social layer: like and repost toggles, one play counted when playback first starts, and
// timestamped comments shown as markers on the waveform (wavesurfer's regions plugin) and as a
// list under it. A new comment takes the player's position; other members' comments arrive live
// (TRACK_COMMENT_CREATE / TRACK_COMMENT_DELETE on the gateway).
import { send } from "./api.js";
import { flag, h } from "./dom.js";
import { onPage } from "./page.js";
import { Player, clock } from "./player.js";
import { pageGateway } from "./tab_gateway.js";

async function start(audio, signal) {
  const track = JSON.parse(document.getElementById("track-data").textContent);
  const container = document.getElementById("waveform");
  const button = document.getElementById("play");
  const time = document.getElementById("time");
  const total = clock(track.duration_ms / 1000);
  const player = new Player({ audio, container });
  const [{ default: RegionsPlugin }] = await Promise.all([import(player.vendor.regions),
    player.load(track, { markReady: false })]);
  const wave = player.wave;
  const regions = wave.registerPlugin(RegionsPlugin.create());
  social(track, regions, wave, audio, signal);
  container.dataset.ready = "true";
  button.addEventListener("click", () => player.playPause());
  player.bindButton(button);
  audio.addEventListener("timeupdate", () => {
    time.textContent = `${clock(audio.currentTime)} / ${total}`;
    container.setAttribute("aria-valuenow", String(Math.round(audio.currentTime * 1000)));
  });
  player.keys(container);
  const at = Number(new URLSearchParams(window.location.search).get("t"));
  if (at > 0) player.seekWhenReady(Math.min(at, track.duration_ms / 1000));
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

function social(track, regions, wave, audio, signal) {
  const list = document.getElementById("comment-list");
  const form = document.getElementById("comment-form");
  const page = document.getElementById("track-page");
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

  // The commenter's avatar marks the moment (styled here: regions live in the waveform's shadow DOM).
  // A comment past the end (the audio was replaced by a shorter one) is kept and marked at the end.
  function addMarker(comment) {
    const author = comment.author || {};
    const content = author.avatar ? h("img", { src: author.avatar, alt: "" })
      : h("span", { text: (author.display_name || "?").slice(0, 1) });
    content.className = "comment-marker";
    content.title = `${author.display_name || ""}: ${comment.body}`;
    Object.assign(content.style, { width: "16px", height: "16px", borderRadius: "50%", objectFit: "cover",
      display: "grid", placeItems: "center", background: "#f0b232", color: "#111", fontSize: "10px",
      marginTop: "auto", transform: "translateX(-8px)" });
    regions.addRegion({ id: `comment-${comment.id}`, start: Math.min(comment.position_ms, track.duration_ms) / 1000,
      color: "#f0b232", drag: false, resize: false, content });
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
      const deleted = await send("DELETE", `/api/tracks/${track.id}/comments/${del.dataset.commentId}`)
        .then(() => true, () => false);
      if (deleted) removeComment(Number(del.dataset.commentId));
    }
  });

  for (const id of ["like", "repost"]) {
    const button = document.getElementById(id);
    button.addEventListener("click", async () => {
      const on = button.getAttribute("aria-pressed") !== "true";
      const counts = await send(on ? "PUT" : "DELETE", button.dataset.url).catch(() => null);
      if (counts) showCounts(counts);
    });
  }

  let counted = false;
  audio.addEventListener("play", async () => {
    if (counted) return;
    counted = true;  // once per page: the server counts one play per listener per day anyway
    const counts = await send("POST", `/api/tracks/${track.id}/plays`).catch(() => null);
    if (counts) showCounts(counts);
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
      let comment;
      try {
        comment = await send("POST", form.dataset.url, { body, position_ms: position() });
      } catch (err) {
        error.textContent = err.message || form.dataset.failed;
        error.hidden = false;
        return;
      }
      error.hidden = true;
      form.reset();
      addComment(comment);
      const count = document.getElementById("comment-count");
      count.textContent = String(list.children.length);
    });
  }

  const gateway = pageGateway(signal);
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
}

onPage("#track-page", (_page, signal) => {
  const audio = document.getElementById("audio");
  if (audio) start(audio, signal);
});
