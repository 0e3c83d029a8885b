// What a message shows under its text: the sender's rich embeds (a webhook's build report, say) and
// the link previews the server made. Texts go in as text; a description and field values come
// rendered and sanitised by the server (markdown + nh3). Images are only ever the server's WebP
// copies (`proxy_url`), never the sender's URLs; the colour bar is a CSS custom property set here,
// as the CSP refuses style attributes.
import { h } from "../dom.js";
import { emojify } from "../emoji.js";

const SAFE_URL = /^https?:\/\//i;

function link(url, props, ...children) {
  if (!url || !SAFE_URL.test(url)) return h("span", props, ...children);
  return h("a", { ...props, href: url, target: "_blank", rel: "noopener noreferrer nofollow" }, ...children);
}

function image(src, cls) {
  return src ? h("img", { class: cls, src, alt: "", loading: "lazy" }) : null;
}

function rendered(html, cls) {
  const node = h("div", { class: cls });
  node.innerHTML = html; // sanitised server-side (nh3)
  return emojify(node);
}

function colour(node, value) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffff) return;
  node.classList.add("has-color");
  node.style.setProperty("--embed-color", `#${value.toString(16).padStart(6, "0")}`);
}

function renderOne(e, t) {
  const box = h("article", { class: `embed embed-${e.type === "rich" ? "rich" : "link"}` });
  colour(box, e.color);
  const main = h("div", { class: "embed-main" });
  if (e.provider?.name) main.append(h("div", { class: "embed-provider", text: e.provider.name }));
  if (e.author?.name) {
    main.append(h("div", { class: "embed-author" }, image(e.author.proxy_icon_url, "embed-author-icon"),
      link(e.author.url, { class: "embed-author-name", text: e.author.name })));
  }
  if (e.title) main.append(link(e.url, { class: "embed-title", text: e.title }));
  if (e.description_html) main.append(rendered(e.description_html, "embed-description"));
  else if (e.description) main.append(h("div", { class: "embed-description", text: e.description }));
  if (e.fields?.length) {
    const fields = h("div", { class: "embed-fields" });
    for (const f of e.fields) {
      fields.append(h("div", { class: f.inline ? "embed-field inline" : "embed-field" },
        h("div", { class: "embed-field-name", text: f.name }), rendered(f.value_html, "embed-field-value")));
    }
    main.append(fields);
  }
  const shown = e.type === "rich" ? e.image?.proxy_url : null;
  if (shown) main.append(image(shown, "embed-image"));
  if (e.type === "video" && e.thumbnail?.proxy_url) {
    // A player is shown as its thumbnail that opens the link: no third-party frame runs here.
    main.append(link(e.url, { class: "embed-video", title: t.playVideo, "aria-label": t.playVideo },
      image(e.thumbnail.proxy_url, "embed-image"), h("span", { class: "embed-play", "aria-hidden": "true", text: "▶" })));
  }
  if (e.footer?.text) {
    main.append(h("div", { class: "embed-footer" }, image(e.footer.proxy_icon_url, "embed-footer-icon"),
      h("span", { text: e.footer.text })));
  }
  box.append(main);
  if (e.type !== "video" && e.thumbnail?.proxy_url) box.append(image(e.thumbnail.proxy_url, "embed-thumbnail"));
  return box;
}

/** The embeds of message `m` (null when it has none); `canSuppress` offers to remove its previews. */
export function renderEmbeds(m, t, { canSuppress = false } = {}) {
  const embeds = m.embeds || [];
  if (!embeds.length) return null;
  const box = h("div", { class: "msg-embeds" });
  for (const e of embeds) box.append(renderOne(e, t));
  if (canSuppress && embeds.some((e) => e.type !== "rich")) {
    box.append(h("button", { type: "button", class: "link embed-suppress", dataset: { action: "suppress-embeds" },
      text: t.removePreviews }));
  }
  return box;
}
