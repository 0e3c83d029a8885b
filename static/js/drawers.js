// Phone widths (static/css/phone.css): the guild rail with the channel list slides in from the
// left, the member list from the right. Each opens by its button in the top bar or by a swipe
// from its edge of the screen, and closes by the button, a swipe back, a tap on the shade behind
// it, Escape, or a link followed inside it. A closed drawer is inert (no tab stop, no screen
// reader) while the phone layout is on; on wider screens they are columns and this does nothing.

const PHONE = "(max-width: 720px)";
const NARROW = "(max-width: 900px)"; // the member list is a drawer up to here
const EDGE_PX = 28; // a swipe starts this close to the screen's edge
const SWIPE_PX = 56; // and goes at least this far, more sideways than up or down

class Drawer {
  constructor(side, button, panels, media) {
    this.side = side;
    this.button = button;
    this.panels = panels;
    this.media = media;
    this.open = false;
  }

  get active() {
    return this.panels.length > 0 && this.media.matches;
  }

  set(open, { focus = true } = {}) {
    this.open = open && this.active;
    document.body.classList.toggle(`drawer-${this.side}-open`, this.open);
    this.button?.setAttribute("aria-expanded", String(this.open));
    this.sync();
    if (!focus) return;
    if (this.open) this.panels.find((p) => p.querySelector("a, button, select"))?.querySelector("a, button, select")?.focus();
    else this.button?.focus();
  }

  /** Inert while closed in the phone layout; a plain column otherwise. */
  sync() {
    for (const panel of this.panels) panel.inert = this.active && !this.open;
    if (this.button) this.button.hidden = this.panels.length === 0;
  }
}

export class Drawers {
  constructor() {
    const phone = window.matchMedia(PHONE);
    const narrow = window.matchMedia(NARROW);
    const byId = (...ids) => ids.map((id) => document.getElementById(id)).filter(Boolean);
    this.left = new Drawer("nav", document.getElementById("drawer-nav-toggle"), byId("guild-rail", "channel-sidebar"), phone);
    this.right = new Drawer("members", document.getElementById("drawer-members-toggle"), byId("member-list"), narrow);
    this.backdrop = document.getElementById("drawer-backdrop");
    this.media = [phone, narrow];
    this.touch = null;
  }

  /** Bind this page's drawers; `signal` (page.js) ends the document-wide listeners with the page. */
  start(signal) {
    const both = [this.left, this.right];
    for (const drawer of both) {
      drawer.sync();
      drawer.button?.addEventListener("click", () => this.toggle(drawer));
      for (const panel of drawer.panels) {
        // A link followed from a drawer (a channel, a guild) closes it, also when the page is kept.
        panel.addEventListener("click", (event) => {
          if (drawer.open && event.target.closest("a[href]")) drawer.set(false, { focus: false });
        });
      }
    }
    for (const media of this.media) {
      media.addEventListener("change", () => {
        for (const drawer of both) drawer.set(false, { focus: false });
      }, { signal });
    }
    this.backdrop?.addEventListener("click", () => this.closeAll());
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && (this.left.open || this.right.open)) this.closeAll();
    }, { signal });
    document.addEventListener("touchstart", (event) => this.onTouchStart(event), { passive: true, signal });
    document.addEventListener("touchend", (event) => this.onTouchEnd(event), { passive: true, signal });
    document.addEventListener("touchcancel", () => (this.touch = null), { passive: true, signal });
  }

  toggle(drawer) {
    const other = drawer === this.left ? this.right : this.left;
    if (other.open) other.set(false, { focus: false });
    drawer.set(!drawer.open);
    this.paintBackdrop();
  }

  closeAll() {
    const open = [this.left, this.right].filter((d) => d.open);
    for (const drawer of open) drawer.set(false);
    this.paintBackdrop();
  }

  paintBackdrop() {
    if (this.backdrop) this.backdrop.hidden = !(this.left.open || this.right.open);
  }

  onTouchStart(event) {
    const t = event.touches[0];
    this.touch = event.touches.length === 1 ? { x: t.clientX, y: t.clientY } : null;
  }

  onTouchEnd(event) {
    const start = this.touch;
    this.touch = null;
    const t = event.changedTouches[0];
    if (!start || !t) return;
    const dx = t.clientX - start.x;
    const dy = t.clientY - start.y;
    if (Math.abs(dx) < SWIPE_PX || Math.abs(dx) < 1.5 * Math.abs(dy)) return;
    const width = window.innerWidth;
    if (this.left.open && dx < 0) this.toggle(this.left);
    else if (this.right.open && dx > 0) this.toggle(this.right);
    else if (!this.left.open && !this.right.open) {
      if (dx > 0 && start.x <= EDGE_PX && this.left.active) this.toggle(this.left);
      else if (dx < 0 && start.x >= width - EDGE_PX && this.right.active) this.toggle(this.right);
    }
  }
}
