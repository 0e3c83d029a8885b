// A listening party beside a voice room: everyone in the room hears the same track at the same
// moment. The server keeps the state (track, position_ms at updated_at on its clock, playing or
// paused, host); this page estimates its clock's offset from the server's, NTP-like: it asks for
// the state ("sync") now and then, and takes the server_time of the answer with the shortest round
// trip as read at the middle of that trip (until then, the median of the updates' server_time as
// they arrive). It keeps its <audio> where the server says playback is: drift under 150 ms is nudged
// away with playbackRate 0.95–1.05 (no audible jump), more is a seek. Tests read
// window.smartcParty: {audio, drift(), state}.
import { get } from "./api.js";
import { fillText, h } from "./dom.js";
import { Op } from "./gateway.js";
import { Player } from "./player.js";

const TICK_MS = 100;
const SYNC_EVERY_MS = 5000;
const OFFSET_SAMPLES = 10;
// Right after joining (a busy moment: the answers' round trips are long and lopsided), a sync every
// second for a while, so that a short trip is among them early; then one every SYNC_EVERY_MS.
const FIRST_SYNCS = 10;
// Past this drift, seek: a 5% nudge closes 50 ms a second, so it only keeps small drift under 100 ms
// within a couple of seconds; a seek (aimed ahead by what seeks took so far) lands within tens of ms.
const SEEK_OVER_S = 0.15;
const SETTLE_MS = 400; // after a seek or a start, how long before measuring where it landed
// Where a seek landed further off than this, seek once more with the lead just learnt (a nudge
// would take a second or two to close it), at most twice in a row.
const RESEEK_OVER_S = 0.04;
const MAX_RESEEKS = 2;
const STILL_S = 0.01; // under this drift, play at normal speed
const GAIN = 1.5; // playbackRate change per second of drift (then clamped)
const MAX_NUDGE = 0.05;
const PICKER_QUEUE = 10; // the tracks after the picked one that play next

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
}

export class PartyPlayer {
  /** `room`: the page's VoiceRoom (its ids and whether it is in the call); `gateway`: its socket. */
  constructor(room, gateway) {
    this.room = room;
    this.gateway = gateway;
    this.root = document.getElementById("party");
    const ds = this.root.dataset;
    this.canStart = ds.canStart === "true";
    this.canModerate = ds.canModerate === "true";
    this.i18n = ds;
    this.audio = document.getElementById("party-audio");
    this.el = {
      now: document.getElementById("party-now"), wave: document.getElementById("party-waveform"),
      time: document.getElementById("party-time"), unlock: document.getElementById("party-unlock"),
      toggle: document.getElementById("party-toggle"), next: document.getElementById("party-next"),
      stop: document.getElementById("party-stop"), start: document.getElementById("party-start"),
      tracks: document.getElementById("party-tracks"), error: document.getElementById("party-error"),
      controls: document.getElementById("party-controls"),
    };
    this.state = null; // the party as the server last said, or null
    this.offsets = []; // (server clock − this clock) from updates as they arrive, ms
    this.pings = []; // {offset, rtt} from the answers to this page's syncs
    this.syncs = new Map(); // nonce → when that sync left
    this.syncCount = 0;
    this.loaded = null; // id of the track on the audio element
    this.loading = null;
    // Plays the party's track and draws its waveform; the waveform does not seek by itself: a host's
    // click is sent to the server (onWaveClick), which moves everyone.
    this.player = new Player({ audio: this.audio, container: this.el.wave, height: 64, interact: false,
      vendor: { wavesurfer: this.root.dataset.wavesurfer, hls: this.root.dataset.hls } });
    this.blocked = false; // the browser refused play() until a click
    this.starting = null; // a play() not settled yet
    this.seekLead = 0.1; // seconds a seek lands behind target (learnt from each seek)
    this.reseeks = 0;
    this.seekFrom = null;
    this.seekStarts = false; // that seek went with a play(): where it lands says nothing of seeks
    this.lastDrift = null;
  }

  start() {
    const g = this.gateway;
    g.on("LISTENING_PARTY_UPDATE", (d) => this.mine(d) && this.onUpdate(d));
    g.on("VOICE_READY", (d) => {
      if (d.channel_id !== this.room.channelId) return;
      this.onUpdate({ party: d.listening_party, server_time: d.server_time });
      for (let i = 0; i < FIRST_SYNCS; i++) setTimeout(() => this.room.joined && this.sync(), 100 + i * 1000);
    });
    g.on("error", (d) => d?.ref === Op.LISTENING_PARTY && this.showError(d.message));
    this.el.unlock.addEventListener("click", () => this.unlock());
    this.el.toggle.addEventListener("click", () => this.send({ action: this.state?.playing ? "pause" : "play" }));
    this.el.next.addEventListener("click", () => this.send({ action: "next" }));
    this.el.stop.addEventListener("click", () => this.send({ action: "stop" }));
    this.el.start.addEventListener("click", () => this.pick());
    this.el.tracks.addEventListener("click", (e) => this.onPicked(e));
    this.el.wave.addEventListener("click", (e) => this.onWaveClick(e));
    this.audio.addEventListener("ended", () => {
      // Every page reports it; the server moves on once, for everyone (the host's tab may be asleep).
      if (this.state?.queue.length) this.send({ action: "ended", track_id: this.state.track_id });
    });
    setInterval(() => this.tick(), TICK_MS);
    setInterval(() => this.room.joined && this.sync(), SYNC_EVERY_MS);
    window.smartcParty = this;
    this.render();
  }

  mine(d) {
    return d.guild_id === this.room.guildId && d.channel_id === this.room.channelId;
  }

  // --- the server's state and clock -------------------------------------------------------------

  send(d) {
    this.showError("");
    this.gateway.send(Op.LISTENING_PARTY, d);
  }

  sync() {
    const nonce = `party-sync-${++this.syncCount}`;
    if (this.syncs.size > OFFSET_SAMPLES) this.syncs.clear(); // answers lost with a dropped socket
    this.syncs.set(nonce, Date.now());
    this.gateway.send(Op.LISTENING_PARTY, { action: "sync", nonce });
  }

  onUpdate(d) {
    const now = Date.now();
    const sent = this.syncs.get(d.nonce);
    if (sent !== undefined) {
      // The answer to this page's sync: the server read its clock about the middle of the trip.
      this.syncs.delete(d.nonce);
      this.pings.push({ offset: d.server_time - (sent + now) / 2, rtt: now - sent });
      if (this.pings.length > OFFSET_SAMPLES) this.pings.shift();
    } else {
      this.offsets.push(d.server_time - now);
      if (this.offsets.length > OFFSET_SAMPLES) this.offsets.shift();
    }
    this.state = d.party;
    if (this.state && this.loaded !== this.state.track_id) this.load(this.state.track);
    if (!this.state) this.unload();
    this.render();
  }

  offset() {
    if (!this.pings.length) return median(this.offsets);
    // The shortest trip bounds the error best: at most half of it.
    return this.pings.reduce((best, p) => (p.rtt < best.rtt ? p : best)).offset;
  }

  /** Where the party's playback is now, in seconds (null without a party). */
  target() {
    const p = this.state;
    if (!p) return null;
    let ms = p.position_ms;
    if (p.playing) ms += Date.now() + this.offset() - p.updated_at;
    return Math.min(Math.max(ms, 0), p.track.duration_ms) / 1000;
  }

  /** The audio's distance from the party's position, in ms (positive: ahead), as last measured. */
  drift() {
    return this.lastDrift === null ? null : this.lastDrift * 1000;
  }

  isHost() {
    return !!this.state && this.state.host_id === this.room.userId;
  }

  // --- the audio element -------------------------------------------------------------------------

  async load(track) {
    this.loaded = track.id;
    this.unloadMedia();
    const loading = (this.loading = this.player.load(track, { markReady: false })
      .catch((err) => console.warn("party: no waveform", err)));
    await loading;
    if (this.loading === loading) this.loading = null;
  }

  unloadMedia() {
    this.player.unload();
    this.audio.pause();
    this.audio.playbackRate = 1;
  }

  unload() {
    if (this.loaded === null) return;
    this.loaded = null;
    this.unloadMedia();
    this.audio.removeAttribute("src");
    this.audio.load();
    this.lastDrift = null;
  }

  /** Every tick: bring the audio to where the party is. */
  tick() {
    const a = this.audio;
    if (!this.room.joined || !this.state) {
      if (!a.paused) a.pause();
      return;
    }
    if (this.loading || this.loaded !== this.state.track_id) return;
    const target = this.target();
    this.el.time.textContent = `${clock(target)} / ${clock(this.state.track.duration_ms / 1000)}`;
    if (a.seeking || a.readyState < 1) return;
    const drift = a.currentTime - target;
    if (!this.state.playing || target >= this.state.track.duration_ms / 1000) {
      if (!a.paused) a.pause();
      a.playbackRate = 1;
      if (Math.abs(drift) > STILL_S * 5) a.currentTime = target;
      this.lastDrift = drift;
      return;
    }
    if (a.paused) {
      if (this.blocked || this.starting) return;
      this.seekTo(target + this.seekLead, { starting: true });
      this.startPlay();
      return;
    }
    if (a.readyState < 3) return; // waiting for data: its position does not move
    this.lastDrift = drift;
    if (this.seekFrom !== null) {
      if (this.starting || Date.now() - this.seekFrom < SETTLE_MS) {
        a.playbackRate = 1;
        return;
      }
      // A seek lands behind by as long as it took: aim that much further ahead next time. Not a
      // start's: the audio stood still until play() went through (long on a busy machine), which a
      // seek while playing does not wait for; its miss is put right by a seek that learns.
      if (!this.seekStarts) this.seekLead = Math.min(1, Math.max(0, this.seekLead - drift));
      this.seekFrom = null;
      if (Math.abs(drift) > RESEEK_OVER_S && this.reseeks < MAX_RESEEKS) {
        this.reseeks += 1;
        this.seekTo(target + this.seekLead);
        return;
      }
      this.reseeks = 0;
    }
    if (Math.abs(drift) > SEEK_OVER_S) {
      a.playbackRate = 1;
      this.seekTo(target + this.seekLead);
    } else if (Math.abs(drift) < STILL_S) {
      a.playbackRate = 1;
    } else {
      a.playbackRate = Math.min(1 + MAX_NUDGE, Math.max(1 - MAX_NUDGE, 1 - drift * GAIN));
    }
  }

  seekTo(seconds, { starting = false } = {}) {
    this.seekFrom = Date.now();
    this.seekStarts = starting;
    this.audio.currentTime = Math.min(seconds, this.state.track.duration_ms / 1000);
  }

  unlock() {
    // play() inside the click, which is what lets it through; the tick leaves it alone meanwhile.
    this.blocked = false;
    const target = this.target();
    if (target !== null && this.state.playing) this.seekTo(target + this.seekLead, { starting: true });
    this.startPlay();
    this.render();
  }

  startPlay() {
    // Only the latest play() counts: one the tick started before the click is refused after the
    // click's own play() went through, and must not bring the button back.
    const attempt = this.audio.play();
    this.starting = attempt;
    attempt.then(() => {
      if (this.starting !== attempt) return;
      this.starting = null;
      this.blocked = false;
      if (this.seekFrom !== null) this.seekFrom = Date.now(); // it lands from here on
      this.render();
    }, (err) => {
      if (this.starting !== attempt) return;
      this.starting = null;
      if (err.name === "NotAllowedError") {
        this.blocked = true;
        this.render();
      }
    });
  }

  // --- controls ----------------------------------------------------------------------------------

  onWaveClick(e) {
    if (!this.state || !(this.isHost() || this.canModerate)) return;
    const box = this.el.wave.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
    this.send({ action: "seek", position_ms: Math.round(fraction * this.state.track.duration_ms) });
  }

  async pick() {
    const list = this.el.tracks;
    if (!list.hidden) {
      list.hidden = true;
      return;
    }
    const all = await get(`/api/guilds/${this.room.guildId}/tracks`).catch(() => []);
    const tracks = all.filter((t) => t.state === "ready");
    list.replaceChildren(...tracks.map((t) => h("li", {},
      h("button", { type: "button", class: "link", dataset: { trackId: String(t.id) },
                    text: `${t.title} · ${clock(t.duration_ms / 1000)}` }))));
    if (!tracks.length) list.append(h("li", { class: "muted", text: this.i18n.noTracks }));
    list.hidden = false;
  }

  onPicked(e) {
    const button = e.target.closest("button[data-track-id]");
    if (!button) return;
    const ids = [...this.el.tracks.querySelectorAll("button[data-track-id]")].map((b) => Number(b.dataset.trackId));
    const at = ids.indexOf(Number(button.dataset.trackId));
    this.send({ action: "start", track_id: ids[at], queue: ids.slice(at + 1, at + 1 + PICKER_QUEUE) });
    this.el.tracks.hidden = true;
  }

  // --- drawing -----------------------------------------------------------------------------------

  render() {
    const p = this.state;
    const joined = this.room.joined;
    this.root.hidden = !joined;
    this.root.dataset.party = p ? (p.playing ? "playing" : "paused") : "none";
    const controls = !!p && (this.isHost() || this.canModerate);
    this.el.controls.hidden = !controls;
    this.el.toggle.textContent = p?.playing ? this.i18n.pause : this.i18n.play;
    this.el.next.hidden = !p?.queue.length;
    this.el.start.hidden = !!p || !this.canStart;
    if (p) this.el.tracks.hidden = true;
    this.el.unlock.hidden = !(p && this.blocked);
    this.el.wave.hidden = !p;
    this.el.time.hidden = !p;
    this.el.now.textContent = p ? fillText(this.i18n.nowPlaying, { title: p.track.title, host: this.room.nameOf(p.host_id) })
      : "";
  }

  showError(text) {
    this.el.error.textContent = text || "";
    this.el.error.hidden = !text;
  }
}
