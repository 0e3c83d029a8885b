// A moderator's warnings, told to the warned member: the page lists those not yet read (rendered by
// the server in #warning-notices), MEMBER_WARNING adds one live, and "Got it" marks it read without
// leaving the page (MEMBER_WARNING_ACK removes it from the member's other tabs).
import { send } from "./api.js";
import { fillText, h } from "./dom.js";

// The page's box: Turbo Drive (page.js) brings a new one with each page.
const notices = () => document.getElementById("warning-notices");

function notice(warningId) {
  return notices()?.querySelector(`.warning-notice[data-warning-id="${warningId}"]`) || null;
}

function render(box, d) {
  const form = h("form", { method: "post", action: `/warnings/${d.id}/seen` },
    h("button", { type: "submit", class: "small", text: box.dataset.ok }));
  return h("section", { class: "warning-notice", role: "alert", dataset: { warningId: String(d.id) } },
    h("p", {}, h("strong", { text: fillText(box.dataset.title, { guild: d.guild_name }) }), " ",
      h("span", { class: "warning-reason", text: d.reason })),
    form);
}

async function acknowledge(event) {
  const form = event.target.closest(".warning-notice form");
  if (!form) return;
  event.preventDefault();
  try {
    await send("POST", form.action);
  } catch (err) {
    if (err.status !== 404) {
      form.submit(); // the plain form still works
      return;
    }
  }
  form.closest(".warning-notice").remove();
}

document.addEventListener("submit", (event) => {
  if (notices()?.contains(event.target)) acknowledge(event);
});

/** Show the warnings that arrive on a gateway while the page is open. */
export function attachWarnings(gateway) {
  gateway.on("MEMBER_WARNING", (d) => {
    const box = notices();
    if (!box || !d?.id || notice(d.id)) return;
    box.append(render(box, d));
  });
  gateway.on("MEMBER_WARNING_ACK", (d) => notice(d?.id)?.remove());
}
