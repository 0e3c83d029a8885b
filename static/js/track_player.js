// A track's player: wavesurfer.js (from npm) draws the peaks the media pipeline stored, over an
// <audio> element that plays the HLS ladder natively where the browser can, through hls.js where it
// has Media Source but no native HLS, and the progressive stream (HTTP Range) otherwise or when HLS
// fails. Clicking the
// waveform seeks; so do the arrow keys on it.

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

function fallBack(track) {
  // Back to the progressive stream, at the same position.
  const at = audio.currentTime;
  audio.src = track.stream_url;
  audio.currentTime = at;
}

async function attachHls(track) {
  if (!track.hls_url) return;
  if (audio.canPlayType("application/vnd.apple.mpegurl")) {
    audio.addEventListener("error", () => fallBack(track), { once: true });
    audio.src = track.hls_url;
    return;
  }
  const { default: Hls } = await import(page.dataset.hls);
  if (!Hls.isSupported()) return;
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    hls.destroy();
    fallBack(track);
  });
  hls.loadSource(track.hls_url);
  hls.attachMedia(audio);
}

async function start() {
  const track = JSON.parse(document.getElementById("track-data").textContent);
  const container = document.getElementById("waveform");
  const button = document.getElementById("play");
  const time = document.getElementById("time");
  const total = clock(track.duration_ms / 1000);
  const [{ default: WaveSurfer }, peaks] = await Promise.all([
    import(page.dataset.wavesurfer),
    fetch(track.peaks_url).then((r) => r.json()),
  ]);
  await attachHls(track);
  const wave = WaveSurfer.create({
    container, media: audio, peaks: [normalisedPeaks(peaks)], duration: track.duration_ms / 1000,
    height: 96, barWidth: 2, barGap: 1, barRadius: 1, waveColor: "#6d7280", progressColor: "#5865f2",
    cursorColor: "#f2f3f5", normalize: true, interact: true,
  });
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

if (page && audio) start();
