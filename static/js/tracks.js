// A guild's tracks page: the upload form (a real progress bar, errors shown beside the form with
// what was typed kept) and the list, which follows the uploader's tracks through the media
// pipeline live (TRACK_UPDATE on the gateway).
import { get, upload } from "./api.js";
import { h } from "./dom.js";
import { onPage } from "./page.js";
import { pageGateway } from "./tab_gateway.js";

// The page shown now (page.js sets them as it mounts).
let form = null;
let list = null;

function stateText(state, reason) {
  if (state === "failed") return `${list.dataset.stateFailed}: ${reason}`;
  return list.dataset[`state${state[0].toUpperCase()}${state.slice(1)}`] || state;
}

function duration(ms) {
  const total = Math.round((ms || 0) / 1000);
  const [hours, minutes, seconds] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const mm = hours ? String(minutes).padStart(2, "0") : String(minutes);
  return `${hours ? `${hours}:` : ""}${mm}:${String(seconds).padStart(2, "0")}`;
}

// How far along the pipeline a state is: an answer or event that arrives late (the upload's 201
// after the worker already made the track ready) never puts the list back to an older state.
const STEPS = ["probe", "waveform", "renditions", "artwork"];
function rank(state, step) {
  if (state === "ready" || state === "failed") return STEPS.length + 2;
  if (state === "processing") return 1 + Math.max(0, STEPS.indexOf(step || ""));
  return 0;
}

function newer(row, state, step) {
  return !row || rank(state, step) >= rank(row.dataset.state, row.dataset.step);
}

function item(track) {
  const ready = track.state === "ready";
  const cover = track.cover_urls?.["96"];
  return h("li", { class: "track-item", dataset: { trackId: String(track.id), state: track.state, step: track.step || "" } },
    cover ? h("img", { class: "track-cover", src: cover, alt: "", width: 48, height: 48 })
      : h("span", { class: "track-cover placeholder", "aria-hidden": "true", text: "\u266b" }),
    h("span", { class: "track-text" },
      ready ? h("a", { class: "track-title", href: track.page_url, text: track.title })
        : h("span", { class: "track-title", text: track.title }),
      track.held ? h("small", { class: "track-held", text: list.dataset.held }) : null,
      h("small", { class: "muted" },
        h("a", { class: "track-artist", href: track.owner.profile_url, text: track.owner.display_name }),
        track.genre ? ` · ${track.genre}` : "")),
    h("span", { class: "track-actions" }, ready ? h("button", { type: "button", class: "link queue-add",
      "data-queue-add": true, dataset: { trackId: String(track.id) }, title: list.dataset.queueTitle,
      text: `+ ${list.dataset.queue}` }) : null),
    h("span", { class: "track-state", dataset: { state: track.state },
      text: ready ? duration(track.duration_ms) : stateText(track.state, track.failure_reason) }));
}

function show(track) {
  const old = list.querySelector(`[data-track-id="${track.id}"]`);
  if (!newer(old, track.state, track.step)) return;
  const fresh = item(track);
  if (old) old.replaceWith(fresh);
  else {
    list.querySelector(".empty")?.remove();
    list.prepend(fresh);
  }
}

async function refresh(id) {
  const track = await get(`/api/tracks/${id}`).catch(() => null);
  if (track) show(track);
}

/** The upload goes with the page (`signal`, page.js), as it did with a full page load. */
async function submit(event, signal) {
  event.preventDefault();
  const status = document.getElementById("upload-status");
  const progress = document.getElementById("upload-progress");
  const button = form.querySelector("button[type=submit]");
  const file = form.elements.file.files[0];
  status.classList.remove("form-error");
  if (file && file.size > Number(form.dataset.maxBytes) * 1024 * 1024) {
    status.textContent = form.dataset.tooLarge;
    status.classList.add("form-error");
    return;
  }
  progress.hidden = false;
  progress.value = 0;
  button.disabled = true;
  status.textContent = form.dataset.uploading;
  let track;
  try {
    track = await upload(form.dataset.url, new FormData(form), {
      onProgress: (loaded, total) => { progress.value = Math.round((loaded / total) * 100); },
      signal,
    });
  } catch (err) {
    if (signal.aborted) return;
    button.disabled = false;
    progress.hidden = true;
    status.textContent = err.message || form.dataset.failed;
    status.classList.add("form-error");
    return;
  }
  button.disabled = false;
  progress.value = 100;
  status.textContent = form.dataset.processing;
  show(track);
  form.reset();
}

onPage("#tracks", (_page, signal) => {
  form = document.getElementById("track-upload");
  list = document.getElementById("track-list");
  form?.addEventListener("submit", (event) => submit(event, signal));
  if (form) form.querySelector("button[type=submit]").disabled = false; // the upload is handled from now on
  const gateway = pageGateway(signal);
  gateway.on("TRACK_UPDATE", (d) => {
    // A ready track, a held one (moderation) or one not listed yet is fetched whole again.
    if (d.state === "ready" || d.held || !list.querySelector(`[data-track-id="${d.id}"]`)) refresh(d.id);
    else {
      const row = list.querySelector(`[data-track-id="${d.id}"]`);
      if (!newer(row, d.state, d.step)) return;
      Object.assign(row.dataset, { state: d.state, step: d.step || "" });
      const state = row.querySelector(".track-state");
      state.dataset.state = d.state;
      state.textContent = stateText(d.state, d.failure_reason);
    }
  });
  gateway.on("TRACK_DELETE", (d) => list.querySelector(`[data-track-id="${d.id}"]`)?.remove());
});
