// The player of the public track page and of the embeds (templates/tracks/public/): one track
// (#track-data) or a playlist (#playlist-data, played in order), its waveform, play/pause, and one
// play counted per track when playback first starts, for signed-out listeners too. A track heard by
// its secret link sends that secret with the count (its addresses already carry it).
import { send } from "./api.js";
import { Player, clock } from "./player.js";

const root = document.getElementById("public-track");
const audio = document.getElementById("audio");

function data(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

async function start() {
  const single = data("track-data");
  const queue = single ? [single] : data("playlist-data") || [];
  if (!queue.length) return;
  const container = document.getElementById("waveform");
  const button = document.getElementById("play");
  const time = document.getElementById("time");
  const player = new Player({ audio, container, height: root.classList.contains("embed-player") ? 64 : 96 });
  const secret = root.dataset.secret;
  const counted = new Set();
  let index = 0;

  const show = () => {
    const total = clock(queue[index].duration_ms / 1000);
    time.textContent = `${clock(audio.currentTime)} / ${total}`;
    container.setAttribute("aria-valuenow", String(Math.round(audio.currentTime * 1000)));
  };
  const load = (i, play) => {
    index = i;
    container.dataset.ready = "false";
    return player.load(queue[i], { play });
  };

  button.addEventListener("click", () => player.playPause());
  player.bindButton(button);
  player.keys(container);
  audio.addEventListener("timeupdate", show);
  audio.addEventListener("play", async () => {
    const track = queue[index];
    if (counted.has(track.id)) return;
    counted.add(track.id); // the server counts one play per listener per day anyway
    const query = secret ? `?secret=${encodeURIComponent(secret)}` : "";
    const answer = await send("POST", `/api/tracks/${track.id}/plays${query}`).catch(() => null);
    const count = document.getElementById("play-count");
    if (answer && count) count.textContent = String(answer.play_count);
  });
  audio.addEventListener("ended", () => {
    if (index + 1 < queue.length) load(index + 1, true);
  });
  document.getElementById("embed-list")?.addEventListener("click", (e) => {
    const pick = e.target.closest("[data-index]");
    if (pick) load(Number(pick.dataset.index), true);
  });
  document.getElementById("comment-list")?.addEventListener("click", (e) => {
    const seek = e.target.closest("[data-seek]");
    if (seek) player.seek(Number(seek.dataset.seek) / 1000);
  });
  await load(0, false);
  const at = Number(new URLSearchParams(window.location.search).get("t"));
  if (at > 0) player.seekWhenReady(Math.min(at, queue[0].duration_ms / 1000));
}

if (root && audio) start();
