// The one HTTP client of the page modules. Every request to the API goes through here: JSON in and
// out, the CSRF token on writes, a timeout, the API's error shape `{"error": {"code", "message",
// "fields", ...}}` turned into an ApiError, and retries only where they are safe: a GET, or a POST
// whose body carries an idempotency nonce (`idempotent: true`: the server answers a repeated nonce
// with what it stored the first time, never a copy). Retries follow a network failure or a 5xx; a
// 503 with Retry-After waits as long as the server asks. Uploads with progress go through upload().

const TIMEOUT_MS = 30_000;
// Waits before each new try: a read gives up after a few seconds, a nonce-carrying write after about 15 s.
const READ_RETRY_MS = [500, 1500];
const WRITE_RETRY_MS = [500, 1000, 2000, 4000, 8000];
const MAX_RETRY_AFTER_S = 10; // a longer wait asked for is an outage: say so rather than hang
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

/** A fresh idempotency nonce for a write that may be sent more than once. */
export function newNonce() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** The words an error shape (an API error body, or a gateway error frame) gives a user: a field's
 *  own messages say more than "Some fields are invalid."; "" when it gives none. */
export function errorMessage(error) {
  if (!error || typeof error !== "object") return "";
  const fields = Object.values(error.fields && typeof error.fields === "object" ? error.fields : {})
    .flat().filter((m) => typeof m === "string");
  if (fields.length && (error.code === "validation_failed" || !error.message)) return fields.join(" ");
  return typeof error.message === "string" ? error.message : "";
}

/**
 * A request that did not succeed. `status` is the HTTP status, 0 when no answer came (`code` then
 * says "network", "timeout" or "aborted"); `message` the server's words ("" when it gave none);
 * `fields` its field errors; `retryAfter` the seconds it asked to wait (Retry-After), or null;
 * `detail` the whole error object it answered (extra keys such as `timed_out_until`), or null.
 */
export class ApiError extends Error {
  constructor({ status = 0, code = "", message = "", fields = {}, retryAfter = null, detail = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
    this.detail = detail;
  }

  /** No answer from the server: offline, refused or timed out (not a refusal it explained). */
  get unreachable() {
    return this.status === 0 && this.code !== "aborted";
  }
}

function retryAfterSeconds(header, error) {
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(0, seconds);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, (at - Date.now()) / 1000);
  }
  return typeof error?.retry_after === "number" ? error.retry_after : null;
}

/** The ApiError for an answer with `status`, its parsed body `data` and its Retry-After header. */
function answerError(status, data, retryAfter) {
  const error = data && typeof data === "object" && data.error && typeof data.error === "object" ? data.error : null;
  return new ApiError({
    status, code: error?.code || `http_${status}`, message: errorMessage(error),
    fields: error?.fields && typeof error.fields === "object" ? error.fields : {},
    retryAfter: retryAfterSeconds(retryAfter, error), detail: error,
  });
}

function sameOrigin(url) {
  try {
    return new URL(url, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ApiError({ code: "aborted" }));
    const stop = () => {
      clearTimeout(timer);
      reject(new ApiError({ code: "aborted" }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    signal?.addEventListener("abort", stop, { once: true });
  });
}

async function attempt(url, { method, json, body, headers, timeout, keepalive, signal }) {
  const sent = { Accept: "application/json", ...headers };
  // The token goes only to this site: never to the storage a media URL may point at.
  if (!SAFE_METHODS.has(method) && sameOrigin(url)) sent["X-CSRFToken"] = csrfToken();
  let payload = body;
  if (json !== undefined) {
    sent["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  }
  const control = new AbortController();
  let timedOut = false;
  const timer = timeout ? setTimeout(() => {
    timedOut = true;
    control.abort();
  }, timeout) : null;
  const stop = () => control.abort();
  signal?.addEventListener("abort", stop, { once: true });
  try {
    let response;
    try {
      response = await fetch(url, { method, headers: sent, body: payload, credentials: "same-origin", keepalive,
        signal: control.signal });
    } catch {
      throw new ApiError({ code: timedOut ? "timeout" : signal?.aborted ? "aborted" : "network" });
    }
    let data = null;
    if (response.status !== 204) data = await response.json().catch(() => null);
    if (timedOut) throw new ApiError({ code: "timeout" });
    if (!response.ok) throw answerError(response.status, data, response.headers.get("Retry-After"));
    return data;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
  }
}

/** How long to wait before trying `err` again, or null when trying again cannot help. */
function retryDelay(err, scheduled) {
  if (err.code === "aborted" || (err.status !== 0 && err.status < 500)) return null;
  if (err.status === 503 && err.retryAfter !== null) {
    return err.retryAfter > MAX_RETRY_AFTER_S ? null : Math.max(scheduled, err.retryAfter * 1000);
  }
  return scheduled;
}

/**
 * Send a request and answer its JSON body (null for 204 or a body that is not JSON); throws an
 * ApiError for anything but a 2xx. Options: `method` ("GET"), `json` (a body sent as JSON), `body`
 * (any other body), `headers`, `timeout` (ms, per try), `keepalive`, `signal`, `idempotent` (a write
 * that may be repeated), `retry` (false: one try, even for a GET).
 */
export async function request(url, options = {}) {
  const { method = "GET", idempotent = false, retry = true, timeout = TIMEOUT_MS, signal } = options;
  let delays = [];
  if (retry) delays = SAFE_METHODS.has(method) ? READ_RETRY_MS : idempotent ? WRITE_RETRY_MS : [];
  for (let tries = 0; ; tries += 1) {
    try {
      return await attempt(url, { ...options, method, timeout, signal });
    } catch (err) {
      const wait = tries < delays.length ? retryDelay(err, delays[tries]) : null;
      if (wait === null || signal?.aborted) throw err;
      await sleep(wait, signal);
    }
  }
}

export function get(url, options = {}) {
  return request(url, { ...options, method: "GET" });
}

/** A write: `json` (optional) is the body. */
export function send(method, url, json, options = {}) {
  return request(url, { ...options, method, json });
}

/**
 * POST `form` (a FormData) with its upload's progress: `onProgress(loaded, total)` as bytes leave.
 * Answers the JSON body; throws an ApiError as request() does (code "aborted" once `signal` aborts).
 * Never retried: an upload is not idempotent.
 */
export function upload(url, form, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(answerError(xhr.status, xhr.response, xhr.getResponseHeader("Retry-After")));
    });
    xhr.addEventListener("error", () => reject(new ApiError({ code: "network" })));
    xhr.addEventListener("abort", () => reject(new ApiError({ code: "aborted" })));
    if (signal?.aborted) return reject(new ApiError({ code: "aborted" }));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}
