// Small progressive enhancements; every page works without JavaScript.

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
