// Small progressive enhancements; every page works without JavaScript.

// Ask before destructive actions.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.classList.contains("danger") && !button.dataset.confirmed) {
    const label = button.textContent.trim();
    if (!window.confirm(`${label}?`)) event.preventDefault();
  }
});

// A select that applies itself (the language picker); its form still has a button without JS.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}

// Colours chosen by members (roles): set through the DOM, since the Content-Security-Policy
// refuses inline style attributes.
for (const el of document.querySelectorAll("[data-color]")) el.style.color = el.dataset.color;
for (const el of document.querySelectorAll("[data-background]")) el.style.background = el.dataset.background;

// Copy an invite link with one click.
const invite = document.getElementById("invite-link");
if (invite) {
  invite.addEventListener("click", () => {
    invite.select();
    navigator.clipboard?.writeText(invite.value).catch(() => {});
  });
}
