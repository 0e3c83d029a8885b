// Small progressive enhancements; every page works without JavaScript.
import { momentText } from "./dom.js";
import { onPage } from "./page.js";

// Turbo Drive follows links only: a form is posted as a plain page load, as without JavaScript
// (Django answers a form with errors with a 200 page, which Turbo would not show).
if (window.Turbo) window.Turbo.config.forms.mode = "off";

// Ask before destructive actions.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.classList.contains("danger") && !button.dataset.confirmed) {
    const label = button.textContent.trim();
    if (!window.confirm(`${label}?`)) event.preventDefault();
  }
});

onPage("body", (body) => {
  // Moments the server wrote in its own time zone, shown in the reader's.
  for (const node of body.querySelectorAll("time[data-local-time]")) {
    const date = new Date(node.getAttribute("datetime"));
    if (!Number.isNaN(date.getTime())) node.textContent = momentText(date);
  }

  // A select that applies itself (the language picker); its form still has a button without JS.
  for (const select of body.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }

  // Colours chosen by members (roles): set through the DOM, since the Content-Security-Policy
  // refuses inline style attributes.
  for (const el of body.querySelectorAll("[data-color]")) el.style.color = el.dataset.color;
  for (const el of body.querySelectorAll("[data-background]")) el.style.background = el.dataset.background;
});

// Copy an invite link with one click.
onPage("#invite-link", (invite) => {
  invite.addEventListener("click", () => {
    invite.select();
    navigator.clipboard?.writeText(invite.value).catch(() => {});
  });
});

// The installable app's service worker (apps/pwa, /sw.js): the shell and the offline page without
// a network, and Web Push. It never stores a page, an API answer or a medium.
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}
