// The player bar at the bottom of every signed-in page: one Player (player.js) over a queue. It is
// a permanent element (data-turbo-permanent): Turbo Drive (page.js) keeps this very node, and its
// <audio> playing, from page to page, so this module builds it once per visit. Playing a playlist fills the queue; "add to queue" buttons append to it; the bar goes on to
// the next queued track when one ends. The queue is kept in sessionStorage, so a reload (or another
// page of the same tab) finds it again, paused at its current track.
//
// Buttons anywhere on the page drive it through data attributes (no import needed):
//   data-queue-add + data-track-id      append the track to the queue
//   data-play-now + data-track-id       play the track now (after the current one in the queue)
//   data-play-queue + data-queue-source the id of a json_script list of tracks: the queue becomes that
//                   list and plays from data-start-index (0 unless given)
import { get, send } from "./api.js";
import { h } from "./dom.js";
import { onPage } from "./page.js";
import { Player, clock } from "./player.js";

const KEY = "smartc-queue";
const bar = document.getElementById("player-bar");

function saved() {
  try {
    const data = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (data && Array.isArray(data.tracks)) return { tracks: data.tracks, index: Number(data.index) || 0 };
  } catch { /* a damaged entry is an empty queue */ }
  return { tracks: [], index: 0 };
}

class PlayerBar {
  constructor(root) {
    this.root = root;
    this.audio = root.querySelector("audio");
    this.player = new Player({ audio: this.audio, container: root.querySelector(".bar-wave"), height: 36 });
    this.list = root.querySelector(".bar-queue-list");
    this.button = root.querySelector(".bar-play");
    this.counted = null; // the track whose play was counted for this load
    ({ tracks: this.tracks, index: this.index } = saved());
    this.player.bindButton(this.button);
    this.button.addEventListener("click", () => this.toggle());
    root.querySelector(".bar-next").addEventListener("click", () => this.go(this.index + 1));
    root.querySelector(".bar-prev").addEventListener("click", () => this.previous());
    root.querySelector(".bar-clear").addEventListener("click", () => this.clear());
    this.list.addEventListener("click", (e) => this.onQueueClick(e));
    this.audio.addEventListener("ended", () => {
      if (this.index + 1 < this.tracks.length) this.go(this.index + 1);
    });
    this.audio.addEventListener("timeupdate", () => this.showTime());
    this.audio.addEventListener("play", () => this.countPlay());
    document.addEventListener("click", (e) => this.onPageClick(e));
    if (this.tracks.length) this.show({ play: false });
  }

  save() {
    sessionStorage.setItem(KEY, JSON.stringify({ tracks: this.tracks, index: this.index }));
  }

  get current() {
    return this.tracks[this.index] || null;
  }

  /** Make the queue `tracks` and play from `start`. */
  replace(tracks, start = 0) {
    this.tracks = tracks.filter((t) => t && t.stream_url);
    this.index = Math.min(Math.max(start, 0), Math.max(this.tracks.length - 1, 0));
    this.show({ play: true });
  }

  append(track) {
    if (!track?.stream_url) return;
    this.tracks.push(track);
    if (this.tracks.length === 1) {
      this.index = 0;
      this.show({ play: false });
    } else {
      this.save();
      this.renderQueue();
    }
  }

  /** Play `track` now (a list's inline play button): right after the current one; the current one pauses or resumes. */
  playNow(track) {
    if (!track?.stream_url) return;
    if (this.current?.id === track.id && this.player.track) {
      this.player.playPause();
      return;
    }
    this.tracks.splice(this.tracks.length ? this.index + 1 : 0, 0, track);
    this.go(this.tracks.length === 1 ? 0 : this.index + 1);
  }

  go(index) {
    if (index < 0 || index >= this.tracks.length) return;
    this.index = index;
    this.show({ play: true });
  }

  previous() {
    // Like every player: "previous" past the first seconds restarts the track.
    if (this.audio.currentTime > 3 || this.index === 0) this.player.seek(0);
    else this.go(this.index - 1);
  }

  toggle() {
    if (this.current && !this.player.track) this.show({ play: true });
    else this.player.playPause();
  }

  clear() {
    this.audio.pause();
    this.tracks = [];
    this.index = 0;
    this.player.track = null;
    sessionStorage.removeItem(KEY);
    this.root.hidden = true;
    document.body.classList.remove("has-player-bar");
  }

  async show({ play }) {
    this.save();
    this.renderQueue();
    const track = this.current;
    if (!track) return this.clear();
    this.root.hidden = false;
    document.body.classList.add("has-player-bar");
    const title = this.root.querySelector(".bar-title");
    title.textContent = track.title;
    title.href = track.page_url;
    const artist = this.root.querySelector(".bar-artist");
    artist.textContent = track.owner.display_name;
    artist.href = track.owner.profile_url;
    const cover = this.root.querySelector(".bar-cover");
    const art = track.cover_urls?.["96"];
    cover.hidden = !art;
    if (art) cover.src = art;
    this.root.dataset.trackId = String(track.id);
    this.showTime();
    await this.player.load(track, { play });
  }

  showTime() {
    const track = this.current;
    if (!track) return;
    this.root.querySelector(".bar-time").textContent =
      `${clock(this.audio.currentTime)} / ${clock(track.duration_ms / 1000)}`;
  }

  renderQueue() {
    this.root.querySelector(".bar-count").textContent = String(this.tracks.length);
    this.list.replaceChildren(...this.tracks.map((t, i) => h("li", { "aria-current": i === this.index ? "true" : null },
      h("button", { type: "button", class: "link bar-jump", dataset: { index: String(i) }, text: t.title }),
      h("small", { class: "muted", text: ` ${t.owner.display_name} ` }),
      h("button", { type: "button", class: "link bar-remove", dataset: { index: String(i) },
        "aria-label": this.list.dataset.remove, text: "\u00d7" }))));
  }

  onQueueClick(e) {
    const jump = e.target.closest(".bar-jump");
    if (jump) this.go(Number(jump.dataset.index));
    const remove = e.target.closest(".bar-remove");
    if (!remove) return;
    const i = Number(remove.dataset.index);
    if (i === this.index) {
      this.audio.pause();
      this.tracks.splice(i, 1);
      this.index = Math.min(i, this.tracks.length - 1);
      this.show({ play: false });
      return;
    }
    this.tracks.splice(i, 1);
    if (i < this.index) this.index -= 1;
    this.save();
    this.renderQueue();
  }

  async onPageClick(e) {
    const add = e.target.closest("[data-queue-add]");
    if (add) {
      e.preventDefault();
      const track = await get(`/api/tracks/${add.dataset.trackId}`).catch(() => null);
      if (track) this.append(track);
      return;
    }
    const now = e.target.closest("[data-play-now]");
    if (now) {
      e.preventDefault();
      const track = await get(`/api/tracks/${now.dataset.trackId}`).catch(() => null);
      if (track) this.playNow(track);
      return;
    }
    const playList = e.target.closest("[data-play-queue]");
    if (playList) {
      e.preventDefault();
      const source = document.getElementById(playList.dataset.queueSource);
      if (source) this.replace(JSON.parse(source.textContent), Number(playList.dataset.startIndex || 0));
    }
  }

  async countPlay() {
    const track = this.current;
    if (!track || this.counted === track) return;
    this.counted = track; // once per load: the server counts one play per listener per day anyway
    await send("POST", `/api/tracks/${track.id}/plays`).catch(() => {});
  }
}

if (bar) {
  new PlayerBar(bar);
  // Each page brings its own <body>: it makes room for the bar again.
  onPage("body", (body) => body.classList.toggle("has-player-bar", !bar.hidden));
}
