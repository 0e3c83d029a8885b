// Messages by keyboard. Each message is one tab stop: Tab goes from a message to the next, never
// through its buttons. On a message, Up and Down (Home, End) move to the others; Enter or Right goes
// into its own controls, its action bar first (shown while the message has the focus), then its
// links, files and reactions; Left and Right move among them and Escape (or Left from the first)
// comes back to the message. The skip links at the top of the page go to the messages or straight
// to the message box.

const CONTROLS = "a[href], button, input, select, textarea, audio[controls], video[controls], [tabindex]";
const OWN_KEYS = "input, textarea, select, audio, video, .msg-editor"; // keys there are theirs

/** Make `list`'s messages (and any drawn later) one tab stop each, moved between with the arrows. */
export function keyboardMessages(list, { hintId = "", signal } = {}) {
  let focused = null; // the id of the message the focus was last in, to find it again once redrawn

  const prepare = (msg) => {
    msg.tabIndex = 0;
    if (hintId) msg.setAttribute("aria-describedby", hintId);
    for (const control of msg.querySelectorAll(CONTROLS)) {
      if (!control.closest(".msg-editor")) control.tabIndex = -1;
    }
  };
  const prepareAll = (node) => {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const msg = node.closest(".msg");
    if (msg && list.contains(msg)) prepare(msg);
    else for (const m of node.querySelectorAll(".msg")) prepare(m);
  };
  for (const msg of list.querySelectorAll(".msg")) prepare(msg);

  new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) prepareAll(node);
    // A message redrawn while it had the focus (an edit, a reaction) keeps it.
    if (focused && (document.activeElement === document.body || !document.activeElement)) {
      document.getElementById(focused)?.focus({ preventScroll: true });
    }
  }).observe(list, { childList: true, subtree: true });

  document.addEventListener("focusin", (event) => {
    focused = list.contains(event.target) ? event.target.closest(".msg")?.id || null : null;
  }, { signal });
  list.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.target.closest(OWN_KEYS)) return;
    const msg = event.target.closest(".msg");
    if (!msg || !list.contains(msg)) return;
    const moved = event.target === msg ? onMessage(list, msg, event.key) : inControls(msg, event.target, event.key);
    if (moved) {
      event.preventDefault();
      moved.focus();
    }
  });
}

/** The visible controls of `msg`, its action bar first. */
function controls(msg) {
  const all = [...msg.querySelectorAll(CONTROLS)].filter((c) => c.getClientRects().length && !c.disabled
    && !c.closest(".msg-editor"));
  const inBar = (c) => Boolean(c.closest(".msg-actions"));
  return [...all.filter(inBar), ...all.filter((c) => !inBar(c))];
}

function sibling(msg, forward) {
  let node = forward ? msg.nextElementSibling : msg.previousElementSibling;
  while (node && !node.classList.contains("msg")) node = forward ? node.nextElementSibling : node.previousElementSibling;
  return node;
}

/** Where a key pressed on a message itself moves the focus, or null. */
function onMessage(list, msg, key) {
  const messages = () => list.querySelectorAll(".msg");
  switch (key) {
    case "ArrowUp": return sibling(msg, false);
    case "ArrowDown": return sibling(msg, true);
    case "Home": return messages()[0] || null;
    case "End": return [...messages()].pop() || null;
    case "Enter":
    case "ArrowRight": return controls(msg)[0] || null;
    default: return null;
  }
}

/** Where a key pressed on one of a message's controls moves the focus, or null. */
function inControls(msg, control, key) {
  if (key === "Escape") return msg;
  if (key !== "ArrowLeft" && key !== "ArrowRight") return null;
  const all = controls(msg);
  const at = all.indexOf(control);
  if (at < 0) return null;
  if (key === "ArrowLeft") return at === 0 ? msg : all[at - 1];
  return all[at + 1] || null;
}

/** The skip links: "#composer-input" focuses the message box, "#messages" the newest message. */
export function bindSkipLinks() {
  for (const link of document.querySelectorAll(".skip-link")) {
    link.addEventListener("click", (event) => {
      const target = document.querySelector(link.getAttribute("href"));
      if (!target) return;
      event.preventDefault();
      const newest = target.id === "messages" ? [...target.querySelectorAll(".message-list > .msg")].pop() : null;
      (newest || target).focus();
    });
  }
}
