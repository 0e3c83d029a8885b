// One audio player for every place a track plays: the track page, the player bar and the embeds in
// chat. wavesurfer.js (from npm) draws the peaks the media pipeline stored, over an <audio> element
// that plays the HLS ladder natively where the browser can, through hls.js where it has Media Source
// but no native HLS, and the progressive stream (HTTP Range) otherwise or when HLS fails.
//
// The vendor modules' URLs come from the page (an element with data-wavesurfer, data-hls and
// data-regions, written with {% static %}), so they follow the static files' storage. One sound at
// a time: when any player starts, every other <audio> on the page pauses.
import { get } from "./api.js";

const SEEK_STEP_S = 5;

export function clock(seconds) {
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

export function vendorUrls() {
  const d = document.querySelector("[data-wavesurfer]")?.dataset || {};
  return { wavesurfer: d.wavesurfer, hls: d.hls, regions: d.regions };
}

const peaksCache = new Map(); // peaks_url → Promise of the normalised peaks (a page may draw a track twice)

function loadPeaks(url) {
  if (!peaksCache.has(url)) {
    peaksCache.set(url, get(url).then(normalisedPeaks));
  }
  return peaksCache.get(url);
}

// The nonce of the page this tab first loaded: its Content-Security-Policy is the one in force for
// the whole visit (Turbo Drive swaps pages under it; each later page's meta tells its own nonce).
const CSP_NONCE = document.querySelector('meta[name="csp-nonce"]')?.content || document.querySelector("script[nonce]")?.nonce;

document.addEventListener("play", (e) => {
  for (const media of document.querySelectorAll("audio")) if (media !== e.target && !media.paused) media.pause();
}, true);

export class Player {
  /** `audio` plays; `container` (optional) gets the waveform; `height` is the waveform's in px. */
  constructor({ audio, container = null, height = 96, vendor = vendorUrls(), interact = true }) {
    this.audio = audio;
    this.container = container;
    this.height = height;
    this.interact = interact; // false: clicking the waveform does not seek (a listening party's guests)
    this.vendor = vendor;
    this.track = null;
    this.wave = null;
    this.hls = null;
  }

  /** Play `track` (an /api/tracks/{id} answer) from `at` seconds, starting at once when `play`; draw its
   * waveform, then mark the container `data-ready` (unless the caller does that itself). `lazy` loads
   * no audio until play() is called (a page of embeds fetches only the peaks). */
  async load(track, { at = 0, play = false, lazy = false, markReady = true } = {}) {
    this.unload();
    this.track = track;
    this.attached = false;
    this.startAt = at;
    const peaks = this.container ? loadPeaks(track.peaks_url) : null;
    if (!lazy) {
      await this.attach(track);
      if (this.track !== track) return;
      if (play) this.play();
    }
    if (!this.container) return;
    const { default: WaveSurfer } = await import(this.vendor.wavesurfer);
    if (this.track !== track) return; // another track was loaded meanwhile
    this.wave = WaveSurfer.create({
      container: this.container, media: this.audio, peaks: [await peaks], duration: track.duration_ms / 1000,
      height: this.height, barWidth: 2, barGap: 1, barRadius: 1, waveColor: "#6d7280", progressColor: "#5865f2",
      cursorColor: "#f2f3f5", normalize: true, interact: this.interact,
      // wavesurfer styles its shadow DOM with a <style>: the page's CSP nonce lets it apply.
      cspNonce: CSP_NONCE,
    });
    if (markReady) this.container.dataset.ready = "true";
  }

  /** Stop drawing and loading the current track (the audio element keeps its last source). */
  unload() {
    this.track = null;
    this.hls?.destroy();
    this.hls = null;
    this.wave?.destroy();
    this.wave = null;
  }

  async attach(track) {
    this.attached = true;
    if (this.startAt > 0) this.seekWhenReady(this.startAt);
    this.startAt = 0;
    const audio = this.audio;
    const fallBack = () => { // back to the progressive stream, at the same position
      const at = audio.currentTime;
      audio.src = track.stream_url;
      audio.currentTime = at;
    };
    if (track.hls_url && audio.canPlayType("application/vnd.apple.mpegurl")) {
      audio.addEventListener("error", fallBack, { once: true });
      audio.src = track.hls_url;
      return;
    }
    const Hls = track.hls_url && this.vendor.hls ? (await import(this.vendor.hls)).default : null;
    if (this.track !== track) return;
    if (!Hls?.isSupported()) {
      audio.src = track.stream_url;
      return;
    }
    const hls = new Hls();
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      hls.destroy();
      if (this.hls === hls) this.hls = null;
      fallBack();
    });
    hls.loadSource(track.hls_url);
    hls.attachMedia(audio);
    this.hls = hls;
  }

  seekWhenReady(seconds) {
    const go = () => { this.audio.currentTime = seconds; };
    if (this.audio.readyState >= 1) go();
    else this.audio.addEventListener("loadedmetadata", go, { once: true });
  }

  async play() {
    const track = this.track;
    if (track && !this.attached) {
      await this.attach(track);
      if (this.track !== track) return;
    }
    await this.audio.play().catch(() => {}); // a refused autoplay leaves the button to the user
  }

  playPause() {
    return this.audio.paused ? this.play() : this.audio.pause();
  }

  seek(seconds) {
    const end = this.track ? this.track.duration_ms / 1000 : this.audio.duration;
    const at = Math.min(Math.max(seconds, 0), end || 0);
    if (this.wave) this.wave.setTime(at);
    else this.audio.currentTime = at;
  }

  /** The arrow keys seek on `node` (the waveform, a slider). */
  keys(node) {
    node.addEventListener("keydown", (e) => {
      const step = { ArrowRight: SEEK_STEP_S, ArrowLeft: -SEEK_STEP_S }[e.key];
      if (step === undefined) return;
      e.preventDefault();
      this.seek(this.audio.currentTime + step);
    });
  }

  /** Keep a play button's symbol and label in step with the audio. */
  bindButton(button) {
    const label = () => {
      button.textContent = this.audio.paused ? "\u25b6" : "\u275a\u275a";
      button.setAttribute("aria-label", this.audio.paused ? button.dataset.play : button.dataset.pause);
    };
    this.audio.addEventListener("play", label);
    this.audio.addEventListener("pause", label);
    label();
  }
}
