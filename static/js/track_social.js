// A profile's follow button: PUT or DELETE /api/users/{id}/follow, and the follower count it returns.
import { send } from "./api.js";
import { onPage } from "./page.js";

onPage("#follow", (button) => button.addEventListener("click", async () => {
  const on = button.getAttribute("aria-pressed") !== "true";
  const state = await send(on ? "PUT" : "DELETE", button.dataset.url).catch(() => null);
  if (!state) return;
  button.setAttribute("aria-pressed", String(state.following));
  button.textContent = state.following ? button.dataset.unfollow : button.dataset.follow;
  document.getElementById("follower-count").textContent = String(state.followers);
}));
