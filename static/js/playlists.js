// Playlists: the track page's "Add to playlist" control (one of your playlists, or a new one), and
// on a playlist page its owner's reordering (drag and drop, or the up/down buttons), removal and
// deletion. Every change goes through the playlists API; the page shows what the server answered.
import { send } from "./api.js";
import { fillText, h } from "./dom.js";
import { onPage } from "./page.js";

function addControl(box) {
  const status = document.getElementById("playlist-status");
  const trackId = Number(box.dataset.trackId);
  /** Add the track to playlist `playlistId`; its answer (the playlist), or null once the error shows. */
  const add = async (playlistId) => {
    let playlist;
    try {
      playlist = await send("POST", `/api/playlists/${playlistId}/tracks`, { track_id: trackId });
    } catch (err) {
      status.textContent = err.message || box.dataset.failed;
      return null;
    }
    status.textContent = fillText(box.dataset.added, { title: playlist.title });
    return playlist;
  };
  box.querySelector("#my-playlists").addEventListener("click", async (e) => {
    const button = e.target.closest(".add-to");
    if (button) await add(button.dataset.playlistId);
  });
  const form = box.querySelector("#new-playlist");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    let created;
    try {
      created = await send("POST", "/api/playlists", { title: form.elements.title.value,
        is_public: form.elements.is_public.checked });
    } catch (err) {
      status.textContent = err.message || box.dataset.failed;
      return;
    }
    const data = await add(created.id);
    if (!data) return;
    form.reset();
    box.querySelector("#my-playlists").append(h("li", {},
      h("button", { type: "button", class: "link add-to", dataset: { playlistId: String(data.id) }, text: data.title })));
  });
}

function ownerControls(page) {
  const list = document.getElementById("playlist-entries");
  const error = document.getElementById("playlist-error");
  const id = page.dataset.playlistId;
  const fail = (err) => {
    error.textContent = err.message || page.dataset.failed;
    error.hidden = false;
  };
  const queueSource = document.getElementById("playlist-queue");
  const syncQueue = (data) => { // "Play" plays the playlist as it is now
    queueSource.textContent = JSON.stringify(data.entries.map((e) => e.track));
    [...list.children].forEach((li, i) => { li.querySelector(".entry-play").dataset.startIndex = String(i); });
  };
  async function saveOrder() {
    const ids = [...list.querySelectorAll("[data-entry-id]")].map((li) => Number(li.dataset.entryId));
    let data;
    try {
      data = await send("PUT", `/api/playlists/${id}/order`, { entry_ids: ids });
    } catch (err) {
      return fail(err);
    }
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
      let data;
      try {
        data = await send("DELETE", `/api/playlists/${id}/tracks/${row.dataset.trackId}`);
      } catch (err) {
        return fail(err);
      }
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
    try {
      await send("DELETE", `/api/playlists/${id}`);
    } catch (err) {
      return fail(err);
    }
    window.location.assign("/stream");
  });
}

onPage("#add-to-playlist", addControl);
onPage("#playlist", (page) => {
  if (page.dataset.owner === "true") ownerControls(page);
});
