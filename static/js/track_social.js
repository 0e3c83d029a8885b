// A profile's follow button: PUT or DELETE /api/users/{id}/follow, and the follower count it returns.
import { csrfToken } from "./dom.js";

const button = document.getElementById("follow");

button?.addEventListener("click", async () => {
  const on = button.getAttribute("aria-pressed") !== "true";
  const response = await fetch(button.dataset.url, {
    method: on ? "PUT" : "DELETE", headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
  });
  if (!response.ok) return;
  const state = await response.json();
  button.setAttribute("aria-pressed", String(state.following));
  button.textContent = state.following ? button.dataset.unfollow : button.dataset.follow;
  document.getElementById("follower-count").textContent = String(state.followers);
});
