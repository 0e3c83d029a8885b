// The webhooks of a channel on its settings page (MANAGE_WEBHOOKS): list, create, rename, give a new
// URL, delete, all through /api/channels/{id}/webhooks and /api/webhooks/{id}. A webhook's URL holds
// its token, which the server shows only when it is made: it appears once, to be copied.
import { get, send } from "./api.js";
import { h } from "./dom.js";

const root = document.getElementById("webhooks");

if (root) {
  const t = root.dataset;
  const base = `/api/channels/${t.channelId}/webhooks`;
  const list = document.getElementById("webhook-list");
  const errorLine = document.getElementById("webhook-error");

  const fail = (err) => {
    errorLine.textContent = err?.message || t.failed;
    errorLine.hidden = false;
  };

  const showUrl = (hook) => {
    document.getElementById("webhook-secret-note").textContent = t.urlOnce;
    const field = document.getElementById("webhook-secret-url");
    field.value = hook.url;
    document.getElementById("webhook-secret").hidden = false;
    field.select();
  };

  const row = (hook) => {
    const name = h("input", { value: hook.name, maxlength: "80", "aria-label": t.nameLabel, class: "webhook-name" });
    const act = (label, handler) => {
      const button = h("button", { type: "button", class: "link", text: label });
      button.addEventListener("click", () => handler().catch(fail));
      return button;
    };
    return h("li", { class: "webhook", dataset: { id: String(hook.id) } }, name,
      act(t.rename, async () => {
        await send("PATCH", `/api/webhooks/${hook.id}`, { name: name.value });
        await load();
      }),
      act(t.regenerate, async () => {
        if (!window.confirm(t.confirmRegenerate)) return;
        showUrl(await send("POST", `/api/webhooks/${hook.id}/token`));
      }),
      act(t.delete, async () => {
        if (!window.confirm(t.confirmDelete)) return;
        await send("DELETE", `/api/webhooks/${hook.id}`);
        await load();
      }));
  };

  async function load() {
    errorLine.hidden = true;
    const hooks = await get(base);
    list.replaceChildren(...(hooks.length ? hooks.map(row) : [h("li", { class: "muted", text: t.empty })]));
  }

  document.getElementById("webhook-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("webhook-name");
    try {
      showUrl(await send("POST", base, { name: input.value }));
      input.value = "";
      await load();
    } catch (err) {
      fail(err);
    }
  });

  load().catch(fail);
}
