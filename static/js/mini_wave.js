// Mini waveforms of track lists (stream, trending, profiles, tags): each `.mini-wave` is drawn, once
// it scrolls into view, as SVG bars from the track's stored peaks (the same peaks.json the player
// reads). An inline play button beside it plays the track in the player bar (data-play-now).
import { get } from "./api.js";
import { onPage } from "./page.js";
import { normalisedPeaks } from "./player.js";

const BARS = 64;
const SVG = "http://www.w3.org/2000/svg";

function bars(peaks) {
  const out = [];
  const per = peaks.length / BARS;
  for (let i = 0; i < BARS; i++) {
    let top = 0;
    for (let j = Math.floor(i * per); j < Math.max(Math.floor((i + 1) * per), Math.floor(i * per) + 1); j++) {
      top = Math.max(top, peaks[j] || 0);
    }
    out.push(top);
  }
  return out;
}

async function draw(svg) {
  const json = await get(svg.dataset.peaksUrl).catch(() => null);
  if (!json?.data) return;
  const heights = bars(normalisedPeaks(json));
  const nodes = heights.map((v, i) => {
    const rect = document.createElementNS(SVG, "rect");
    const height = Math.max(1, Math.round(v * 24));
    rect.setAttribute("x", String(i * 3));
    rect.setAttribute("y", String(12 - height / 2));
    rect.setAttribute("width", "2");
    rect.setAttribute("height", String(height));
    return rect;
  });
  svg.replaceChildren(...nodes);
  svg.dataset.drawn = "true";
}

onPage(".mini-wave[data-peaks-url]", (_first, signal) => {
  const seen = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      seen.unobserve(entry.target);
      draw(entry.target);
    }
  }, { rootMargin: "200px" });
  for (const svg of document.querySelectorAll(".mini-wave[data-peaks-url]")) seen.observe(svg);
  signal.addEventListener("abort", () => seen.disconnect());
});
