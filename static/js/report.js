// Reporting: one dialog (templates/moderation/report_dialog.html) for messages, tracks, track
// comments and members. Buttons carry data-report-type and data-report-id; the chat page calls
// openReport() from its message actions.
import { send } from "./api.js";
import { onPage } from "./page.js";

let dialog = null; // the page's (page.js)
let target = null;

function show(text, isError) {
  const status = document.getElementById("report-status");
  status.textContent = text;
  status.classList.toggle("form-error", isError);
  status.hidden = !text;
}

export function openReport(type, id, guildId = null) {
  if (!dialog) return;
  target = { type, id: Number(id), guild_id: guildId ? Number(guildId) : null };
  document.getElementById("report-form").reset();
  document.getElementById("report-submit").disabled = false;
  show("", false);
  dialog.showModal();
}

async function submit(event) {
  event.preventDefault();
  if (!target) return;
  const form = event.target;
  const body = { ...target, reason: form.reason.value, details: form.details.value.trim() };
  try {
    await send("POST", "/api/reports", body);
  } catch (err) {
    show(err.message || dialog.dataset.failed, true);
    return;
  }
  show(dialog.dataset.sent, false);
  document.getElementById("report-submit").disabled = true;
  setTimeout(() => dialog.close(), 2500);
}

onPage("#report-dialog", (root, signal) => {
  dialog = root;
  signal.addEventListener("abort", () => { dialog = null; });
  document.getElementById("report-form").addEventListener("submit", submit);
  document.getElementById("report-cancel").addEventListener("click", () => root.close());
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-report-type]");
    if (!button) return;
    event.preventDefault();
    openReport(button.dataset.reportType, button.dataset.reportId, button.dataset.reportGuild);
  }, { signal });
});
