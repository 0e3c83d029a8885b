// Small DOM helpers shared by the page modules. Text goes in through textContent; attributes are
// set one by one, never through innerHTML.

export function flag(value) {
  return value === "true";
}

/** Fill "{name}" placeholders; values become <strong> nodes when `bold`, text otherwise. */
export function fill(template, values, { bold = false } = {}) {
  const frag = document.createDocumentFragment();
  const parts = template.split(/(\{\w+\})/);
  for (const part of parts) {
    const key = part.match(/^\{(\w+)\}$/)?.[1];
    if (key && key in values) {
      if (bold) {
        const strong = document.createElement("strong");
        strong.textContent = String(values[key]);
        frag.append(strong);
      } else {
        frag.append(String(values[key]));
      }
    } else if (part) {
      frag.append(part);
    }
  }
  return frag;
}

export function fillText(template, values) {
  return fill(template, values).textContent;
}

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

// What a quote shows in place of a spoiler (as apps/chat/markdown.py's SPOILER_MASK).
export const SPOILER_MASK = "\u2588".repeat(5);

/** A rendered (server-sanitised) message as one line of plain text, as the server's markdown.quote
 *  makes it: for reply quotes and DM previews. Mentions by name, no markdown signs, spoilers masked. */
export function quoteText(html, limit = 200) {
  const doc = new DOMParser().parseFromString(html || "", "text/html"); // inert: nothing runs or loads
  for (const spoiler of doc.body.querySelectorAll(".spoiler")) spoiler.replaceWith(SPOILER_MASK);
  for (const block of doc.body.querySelectorAll("br, blockquote, pre")) block.before(" ");
  for (const block of doc.body.querySelectorAll("blockquote, pre")) block.after(" ");
  return doc.body.textContent.split(/\s+/).filter(Boolean).join(" ").slice(0, limit);
}

/** A moment soon to come in the reader's time zone and language: its time today, else its date and time. */
export function momentText(date, lang = document.documentElement.lang || navigator.language) {
  const sameDay = date.toDateString() === new Date().toDateString();
  const options = sameDay ? { hour: "2-digit", minute: "2-digit" } : { dateStyle: "short", timeStyle: "short" };
  return new Intl.DateTimeFormat(lang, options).format(date);
}

/** Grow a textarea with its text (a CSS max-height caps it, then it scrolls). */
export function autosize(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${textarea.scrollHeight}px`;
}

/** `submit()` instead of a page load, from the form's button or Enter in `textarea` (Shift+Enter
 *  starts a new line; Enter that ends an IME composition does not send). */
export function onSubmit(form, textarea, submit) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
}
