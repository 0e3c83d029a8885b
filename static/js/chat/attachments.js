// Attachments on the channel page: the composer's file button and drops on the message list, one
// upload per file (XHR, for its progress events) into a tray above the composer, and how a
// message's files are shown: images as their thumbnail (a click opens the original), other files
// as a download card. Names and sizes go in through textContent only.

import { upload } from "../api.js";
import { h } from "../dom.js";

const MAX_FILES = 10;
const THUMB_BOX = 400; // the server's thumbnails fit 400×400

function fileIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "attach-card-icon");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "28");
  svg.setAttribute("height", "28");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V9h5.5L13 3.5z");
  svg.append(path);
  return svg;
}

/** The size a thumbnail is shown at: inside the 400×400 box, aspect kept, never enlarged. */
function fitted(width, height) {
  if (!width || !height) return { width: THUMB_BOX, height: THUMB_BOX * 0.75 };
  const scale = Math.min(1, THUMB_BOX / width, THUMB_BOX / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export class Attachments {
  /** @param {{channelId: number, lang: string, scroller: HTMLElement}} page the chat page */
  constructor(page) {
    this.page = page;
    this.channelId = page.channelId;
    const words = document.getElementById("attach-i18n");
    this.t = { ...(words?.dataset || {}) };
    this.maxBytes = Number(this.t.maxBytes || 0);
    this.canAttach = Boolean(document.getElementById("attach-input"));
    this.tray = document.getElementById("attach-tray");
    this.items = []; // {file, state: "uploading"|"done"|"error", payload, upload (its AbortController), node}
    this.sizeFormat = new Intl.NumberFormat(page.lang, { maximumFractionDigits: 1 });
  }

  start() {
    if (!this.canAttach) return;
    const input = document.getElementById("attach-input");
    input.addEventListener("change", () => {
      this.addFiles(input.files);
      input.value = "";
    });
    const zone = this.page.scroller;
    let depth = 0;
    const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
    zone.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth += 1;
      zone.classList.add("drop-target");
    });
    zone.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    zone.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) zone.classList.remove("drop-target");
    });
    zone.addEventListener("drop", (event) => {
      depth = 0;
      zone.classList.remove("drop-target");
      if (!event.dataTransfer?.files?.length) return;
      event.preventDefault();
      this.addFiles(event.dataTransfer.files);
    });
  }

  // --- the tray of uploads ----------------------------------------------------------------------

  addFiles(files) {
    for (const file of files) {
      if (this.items.length >= MAX_FILES) {
        this.page.toast(this.t.tooMany);
        break;
      }
      this.upload(file);
    }
    this.page.composer.setError("");
    this.page.composer.input?.focus();
  }

  async upload(file) {
    const item = { file, state: "uploading", payload: null, upload: null };
    const bar = h("progress", { class: "attach-progress", max: "100", value: "0" });
    const percent = h("span", { class: "attach-percent", text: "0%" });
    const status = h("span", { class: "attach-status", role: "status" });
    item.node = this.trayItem(item, "uploading", bar, percent, status);
    item.bar = bar;
    this.items.push(item);
    this.paintTray();

    if (this.maxBytes && file.size > this.maxBytes) {
      this.fail(item, this.t.tooBig);
      return;
    }
    item.upload = new AbortController();
    const form = new FormData();
    form.append("file", file, file.name);
    let payload;
    try {
      payload = await upload(`/api/channels/${this.channelId}/attachments`, form, {
        signal: item.upload.signal,
        onProgress: (loaded, total) => {
          const value = Math.floor((loaded / total) * 100);
          bar.value = value;
          percent.textContent = `${value}%`;
        },
      });
    } catch (err) {
      if (err.code === "aborted") return; // removed from the tray
      this.fail(item, err.unreachable ? this.t.network : err.message || this.t.failed);
      return;
    }
    if (!payload?.id) {
      this.fail(item, this.t.failed);
      return;
    }
    item.state = "done";
    item.payload = payload;
    bar.value = 100;
    percent.textContent = "100%";
    item.node.classList.replace("uploading", "done");
    status.textContent = this.t.uploaded;
    this.page.composer.input?.focus();
  }

  /** A file's line in the tray: its name and size, `parts`, and the button that takes it out. */
  trayItem(item, state, ...parts) {
    const remove = h("button", { type: "button", class: "icon-button attach-remove", title: this.t.remove,
      "aria-label": this.t.remove, text: "×" });
    remove.addEventListener("click", () => this.drop(item));
    return h("li", { class: `attach-item ${state}` },
      h("span", { class: "attach-name", text: item.file.name }),
      h("span", { class: "attach-size muted", text: this.formatSize(item.file.size) }),
      ...parts, remove);
  }

  fail(item, message) {
    item.state = "error";
    item.node.classList.remove("uploading", "done");
    item.node.classList.add("error");
    item.node.querySelector(".attach-status").textContent = message;
    item.node.querySelector(".attach-status").setAttribute("role", "alert");
  }

  drop(item) {
    if (item.state === "uploading") item.upload?.abort();
    this.items = this.items.filter((i) => i !== item);
    item.node.remove();
    this.paintTray();
  }

  paintTray() {
    if (!this.tray) return;
    for (const item of this.items) if (item.node.parentNode !== this.tray) this.tray.append(item.node);
    this.tray.hidden = this.items.length === 0;
  }

  /** True while a file is still on its way: the message waits for it. */
  busy() {
    return this.items.some((i) => i.state === "uploading");
  }

  count() {
    return this.items.filter((i) => i.state === "done").length;
  }

  /** The uploaded files' payloads, leaving the tray empty (failed ones are dropped with it). */
  take() {
    const done = this.items.filter((i) => i.state === "done").map((i) => i.payload);
    for (const item of [...this.items]) this.drop(item);
    return done;
  }

  /** Put back files whose message was refused, so nothing uploaded is lost. */
  restore(payloads) {
    for (const payload of payloads) {
      const item = { file: { name: payload.filename, size: payload.size }, state: "done", payload };
      item.node = this.trayItem(item, "done", h("span", { class: "attach-status", text: this.t.uploaded }));
      this.items.push(item);
    }
    this.paintTray();
  }

  // --- a message's files ------------------------------------------------------------------------

  /** The files of message `m`, or nothing when it has none. */
  render(m) {
    const files = m.attachments || [];
    if (!files.length) return null;
    const box = h("div", { class: "msg-attachments" });
    for (const a of files) box.append(a.width ? this.renderImage(a) : this.renderFile(a));
    return box;
  }

  renderImage(a) {
    const size = fitted(a.width, a.height);
    const link = h("a", { class: "attach-image", href: a.url, target: "_blank", rel: "noopener",
      title: a.filename, "data-attachment-id": String(a.id), "data-state": a.state });
    link.style.width = `${size.width}px`;
    link.style.height = `${size.height}px`;
    if (a.thumbnail_url) {
      link.append(h("img", { class: "attach-thumb", src: a.thumbnail_url, alt: a.filename, loading: "lazy",
        width: String(size.width), height: String(size.height) }));
    } else if (a.state === "failed") {
      return this.renderFile(a);
    } else {
      link.append(h("span", { class: "attach-processing", text: this.t.processing }));
    }
    return link;
  }

  renderFile(a) {
    return h("a", { class: "attach-card", href: a.url, download: a.filename, "data-attachment-id": String(a.id) },
      fileIcon(),
      h("span", { class: "attach-card-text" },
        h("span", { class: "attach-card-name", text: a.filename }),
        h("span", { class: "attach-card-size muted", text: this.formatSize(a.size) })));
  }

  formatSize(bytes) {
    const units = ["B", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${this.sizeFormat.format(value)} ${units[unit]}`;
  }
}
