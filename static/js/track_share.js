// Its uploader's share panel on a track's page (templates/tracks/public/share_panel.html): who may
// hear the track (GET/PUT /api/tracks/{id}/sharing), its secret link and a reset of it (POST
// /api/tracks/{id}/secret: the old link stops working), and the embed's iframe code. On a guild's
// track page, MANAGE_GUILD's switch allowing public tracks (PUT /api/guilds/{id}/track-settings).
import { errorMessage, get, send } from "./api.js";
import { onPage } from "./page.js";

let panel = null; // the page's (page.js)

function show(sharing) {
  const origin = window.location.origin;
  document.getElementById("share-audience").value = sharing.audience;
  document.getElementById("share-link").hidden = sharing.audience !== "unlisted";
  document.getElementById("share-secret-url").value = origin + sharing.secret_url;
  document.getElementById("share-embed-row").hidden = sharing.audience === "guild";
  const embed = sharing.audience === "unlisted" ? sharing.secret_embed_url : sharing.embed_url;
  document.getElementById("share-embed").value =
    `<iframe width="600" height="166" src="${origin}${embed}" frameborder="0" allow="autoplay"></iframe>`;
}

async function start() {
  const base = `/api/tracks/${panel.dataset.trackId}`;
  const status = document.getElementById("share-status");
  const act = async (call) => {
    try {
      show(await call());
      status.textContent = "";
    } catch (err) {
      status.textContent = errorMessage(err.detail) || err.message || panel.dataset.failed;
    }
  };
  document.getElementById("share-audience").addEventListener("change", (e) =>
    act(() => send("PUT", `${base}/sharing`, { audience: e.target.value })));
  document.getElementById("share-reset").addEventListener("click", () => act(() => send("POST", `${base}/secret`)));
  await act(() => get(`${base}/sharing`));
}

function policy(form) {
  const status = document.getElementById("guild-track-policy-status");
  form.elements.allow_public.addEventListener("change", async (e) => {
    try {
      const saved = await send("PUT", form.dataset.url, { allow_public: e.target.checked });
      e.target.checked = saved.allow_public;
      status.textContent = "";
    } catch (err) {
      e.target.checked = !e.target.checked;
      status.textContent = errorMessage(err.detail) || err.message || form.dataset.failed;
    }
  });
}

onPage("#share-panel", (root) => {
  panel = root;
  start();
});
onPage("#guild-track-policy", policy);
