// Small progressive enhancements; every page works without JavaScript.
import { momentText } from "./dom.js";

// Moments the server wrote in its own time zone, shown in the reader's.
for (const node of document.querySelectorAll("time[data-local-time]")) {
  const date = new Date(node.getAttribute("datetime"));
  if (!Number.isNaN(date.getTime())) node.textContent = momentText(date);
}

// Ask before destructive actions.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.classList.contains("danger") && !button.dataset.confirmed) {
    const label = button.textContent.trim();
    if (!window.confirm(`${label}?`)) event.preventDefault();
  }
});

// Copy an invite link with one click.
const invite = document.getElementById("invite-link");
if (invite) {
  invite.addEventListener("click", () => {
    invite.select();
    navigator.clipboard?.writeText(invite.value).catch(() => {});
  });
}
