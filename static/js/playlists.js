// Playlists: the track page's "Add to playlist" control (one of your playlists, or a new one), and
// on a playlist page its owner's reordering (drag and drop, or the up/down buttons), removal and
// deletion. Every change goes through the playlists API; the page shows what the server answered.
import { csrfToken, fillText, h } from "./dom.js";

async function send(method, url, body) {
  const response = await fetch(url, {
    method, headers: { "X-CSRFToken": csrfToken(), Accept: "application/json", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { ok: response.ok, data };
}

function addControl(box) {
  const status = document.getElementById("playlist-status");
  const trackId = Number(box.dataset.trackId);
  const added = (ok, data) => {
    status.textContent = ok ? fillText(box.dataset.added, { title: data.title }) : data?.error?.message || box.dataset.failed;
  };
  box.querySelector("#my-playlists").addEventListener("click", async (e) => {
    const button = e.target.closest(".add-to");
    if (!button) return;
    const { ok, data } = await send("POST", `/api/playlists/${button.dataset.playlistId}/tracks`, { track_id: trackId });
    added(ok, data);
  });
  const form = box.querySelector("#new-playlist");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const created = await send("POST", "/api/playlists", { title: form.elements.title.value,
      is_public: form.elements.is_public.checked });
    if (!created.ok) return added(false, created.data);
    const { ok, data } = await send("POST", `/api/playlists/${created.data.id}/tracks`, { track_id: trackId });
    added(ok, data);
    if (!ok) return;
    form.reset();
    box.querySelector("#my-playlists").append(h("li", {},
      h("button", { type: "button", class: "link add-to", dataset: { playlistId: String(data.id) }, text: data.title })));
  });
}

function ownerControls(page) {
  const list = document.getElementById("playlist-entries");
  const error = document.getElementById("playlist-error");
  const id = page.dataset.playlistId;
  const fail = (data) => {
    error.textContent = data?.error?.message || page.dataset.failed;
    error.hidden = false;
  };
  const queueSource = document.getElementById("playlist-queue");
  const syncQueue = (data) => { // "Play" plays the playlist as it is now
    queueSource.textContent = JSON.stringify(data.entries.map((e) => e.track));
    [...list.children].forEach((li, i) => { li.querySelector(".entry-play").dataset.startIndex = String(i); });
  };
  async function saveOrder() {
    const ids = [...list.querySelectorAll("[data-entry-id]")].map((li) => Number(li.dataset.entryId));
    const { ok, data } = await send("PUT", `/api/playlists/${id}/order`, { entry_ids: ids });
    if (!ok) return fail(data);
    error.hidden = true;
    syncQueue(data);
  }
  list.addEventListener("click", async (e) => {
    const row = e.target.closest("[data-entry-id]");
    if (!row) return;
    if (e.target.closest(".entry-up") && row.previousElementSibling) {
      row.previousElementSibling.before(row);
      await saveOrder();
    } else if (e.target.closest(".entry-down") && row.nextElementSibling) {
      row.nextElementSibling.after(row);
      await saveOrder();
    } else if (e.target.closest(".entry-remove")) {
      const { ok, data } = await send("DELETE", `/api/playlists/${id}/tracks/${row.dataset.trackId}`);
      if (!ok) return fail(data);
      row.remove();
      syncQueue(data);
    }
  });
  let dragged = null;
  list.addEventListener("dragstart", (e) => {
    dragged = e.target.closest("[data-entry-id]");
    dragged?.classList.add("dragging");
  });
  list.addEventListener("dragover", (e) => {
    const over = e.target.closest("[data-entry-id]");
    if (!dragged || !over || over === dragged) return;
    e.preventDefault();
    const box = over.getBoundingClientRect();
    if (e.clientY > box.top + box.height / 2) over.after(dragged);
    else over.before(dragged);
  });
  list.addEventListener("dragend", async () => {
    dragged?.classList.remove("dragging");
    dragged = null;
    await saveOrder();
  });
  document.getElementById("delete-playlist")?.addEventListener("click", async (e) => {
    if (!window.confirm(e.target.dataset.confirm)) return;
    const { ok, data } = await send("DELETE", `/api/playlists/${id}`);
    if (ok) window.location.assign("/stream");
    else fail(data);
  });
}

const box = document.getElementById("add-to-playlist");
if (box) addControl(box);
const page = document.getElementById("playlist");
if (page && page.dataset.owner === "true") ownerControls(page);
