// A track's edit page: while a new audio file is processed, its state follows the pipeline live
// (TRACK_UPDATE of the replacement), and once the track has taken the new audio the page says so.
import { Gateway } from "./gateway.js";

const page = document.getElementById("edit-page");
const status = document.getElementById("replacement-state");
if (page && status && status.dataset.state !== "failed") {
  const trackId = Number(page.dataset.trackId);
  const replacementId = Number(status.dataset.replacementId);
  const gateway = new Gateway();
  gateway.on("TRACK_UPDATE", (d) => {
    if (d.id === replacementId) {
      status.dataset.state = d.state;
      if (d.state === "failed") status.textContent = `${status.dataset.failed} ${d.failure_reason}`;
    } else if (d.id === trackId && d.state === "ready") {
      status.dataset.state = "ready";
      status.textContent = status.dataset.done;
    }
  });
  gateway.connect();
  window.addEventListener("pagehide", () => gateway.close());
}
