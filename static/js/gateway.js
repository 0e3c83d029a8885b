// The client side of the WebSocket gateway (/ws/gateway/): one socket, heartbeats, sequence
// numbers, and reconnection with backoff. After a reconnect it fetches, over REST, the messages of
// the open channel that were sent while the socket was down, and hands them to the same
// MESSAGE_CREATE handlers, so a page never silently misses a message.
import { get } from "./api.js";

export const Op = Object.freeze({
  DISPATCH: 0, HEARTBEAT: 1, PRESENCE_UPDATE: 3, TYPING: 4, SEND_MESSAGE: 6, ACK: 7, REQUEST_MEMBERS: 8, ERROR: 9,
  HELLO: 10, HEARTBEAT_ACK: 11, VOICE_STATE_UPDATE: 12, VOICE_SIGNAL: 13, REQUEST_VOICE_STATES: 14,
  LISTENING_PARTY: 15,
});

// Close codes after which trying again cannot help.
const FATAL_CLOSE_CODES = new Set([4003, 4010]);
// Too many frames (4008) or too many sockets of this account on the node (4013): wait, then retry.
const PAUSE_CLOSE_CODES = new Set([4008, 4013]);
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const CATCH_UP_PAGE = 100;

export class Gateway {
  /**
   * @param {object} [options]
   * @param {string} [options.url] the socket URL; defaults to /ws/gateway/ on this host.
   * @param {() => ({channelId: number, afterId: number} | null)} [options.catchUp]
   *   where to look for missed messages after a reconnect (the open channel and its newest message).
   */
  constructor({ url, catchUp } = {}) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = url || `${scheme}://${location.host}/ws/gateway/`;
    this.catchUp = catchUp || null;
    this.handlers = new Map();
    this.socket = null;
    this.seq = null;
    this.state = "idle"; // idle | connecting | open | closed (fatal)
    this.attempt = 0;
    this.everReady = false;
    this.heartbeatTimer = null;
    this.reconnectTimer = null;
    this.awaitingAck = false;
    this.stopped = false;
    // The shell's parts (tab_gateway.js) share the page's socket rather than open a second one.
    document.dispatchEvent(new CustomEvent("smartc:gateway", { detail: this }));
  }

  /** Call `handler(data, frame)` for a dispatch type ("MESSAGE_CREATE"...) or a life-cycle event:
   *  "state" (new state), "error" (op 9 data), "reconnected", "fatal" (close event). */
  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(handler);
    return () => this.handlers.get(event).delete(handler);
  }

  emit(event, data, frame) {
    for (const handler of this.handlers.get(event) || []) {
      try {
        handler(data, frame);
      } catch (err) {
        console.error(`gateway handler for ${event} failed`, err);
      }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }

  get isOpen() {
    return this.state === "open" && this.socket?.readyState === WebSocket.OPEN;
  }

  connect() {
    if (!Gateway.current) {
      // The tab's socket, for modules of every page (the activity bell) that listen on whichever one the page opened.
      Gateway.current = this;
      document.dispatchEvent(new CustomEvent("smartc:gateway", { detail: this }));
    }
    this.stopped = false;
    clearTimeout(this.reconnectTimer);
    this.setState("connecting");
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event));
    // An error is always followed by a close event; the close handler does the work.
  }

  /** Stop for good (page unload, logout). */
  close() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    this.socket?.close(1000);
  }

  /** Send a client op; false when the socket is not usable (callers then fall back to REST). */
  send(op, d) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify({ op, d }));
    return true;
  }

  receive(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    switch (frame.op) {
      case Op.HELLO:
        this.startHeartbeat(frame.d?.heartbeat_interval || 40000);
        break;
      case Op.HEARTBEAT_ACK:
        this.awaitingAck = false;
        break;
      case Op.HEARTBEAT: // the server may ask for one right away
        this.heartbeat();
        break;
      case Op.ERROR:
        this.emit("error", frame.d || {}, frame);
        break;
      case Op.DISPATCH:
        if (typeof frame.s === "number" && (this.seq === null || frame.s > this.seq)) this.seq = frame.s;
        if (frame.t === "READY") this.ready(frame);
        else this.emit(frame.t, frame.d, frame);
        break;
      default:
        break;
    }
  }

  ready(frame) {
    const reconnected = this.everReady;
    this.everReady = true;
    this.attempt = 0;
    this.setState("open");
    this.emit("READY", frame.d, frame);
    if (reconnected) this.emit("reconnected", frame.d, frame);
    // Also on the first READY: a message sent between the page's history request and this
    // subscription would otherwise be missed.
    this.fetchMissed();
  }

  startHeartbeat(interval) {
    this.stopHeartbeat();
    this.awaitingAck = false;
    // The first beat is jittered so a server restart is not followed by every client at once.
    const first = Math.round(interval * Math.random());
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeat();
      this.heartbeatTimer = setInterval(() => this.heartbeat(), interval);
    }, first);
  }

  stopHeartbeat() {
    clearTimeout(this.heartbeatTimer);
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  heartbeat() {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    if (this.awaitingAck) {
      // No answer to the last beat: the connection is a zombie. Drop it and start again.
      this.socket.close(4000);
      return;
    }
    this.awaitingAck = true;
    this.socket.send(JSON.stringify({ op: Op.HEARTBEAT, d: this.seq }));
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.stopHeartbeat();
    this.socket = null;
    if (this.stopped) {
      this.setState("idle");
      return;
    }
    if (FATAL_CLOSE_CODES.has(event.code)) {
      this.setState("closed");
      this.emit("fatal", event);
      return;
    }
    this.scheduleReconnect(PAUSE_CLOSE_CODES.has(event.code) ? 5000 : 0);
  }

  scheduleReconnect(extraDelay = 0) {
    this.setState("connecting");
    // Exponential backoff with full jitter: 1 s, 2 s, 4 s... up to 30 s.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = extraDelay + BACKOFF_MIN_MS / 2 + Math.random() * ceiling;
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Messages of the open channel newer than the last one shown, replayed as MESSAGE_CREATE. */
  async fetchMissed() {
    const where = this.catchUp?.();
    if (!where || !where.channelId) return;
    let after = where.afterId || 0;
    for (let pages = 0; pages < 20; pages += 1) {
      let page;
      try {
        page = await get(`/api/channels/${where.channelId}/messages?after=${after}&limit=${CATCH_UP_PAGE}`);
      } catch {
        return;
      }
      for (const message of page) this.emit("MESSAGE_CREATE", message, { t: "MESSAGE_CREATE", replayed: true });
      if (page.length < CATCH_UP_PAGE) return;
      after = page[page.length - 1].id;
    }
  }
}
