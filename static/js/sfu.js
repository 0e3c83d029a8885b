// A voice/video room through the Janus SFU (its VideoRoom plugin), spoken over Janus's WebSocket API.
// The server decides who is in: it joins the room for this page, as a publisher under the user's id
// (so a feed maps to a tile), and hands over that Janus session, its publisher handle and private
// id, and the token Janus wants on every request. This page claims the session, publishes on the
// handle, and attaches one subscriber handle per other participant's feed (a subscription shows
// the private id of this page's publisher). Janus announces feeds as they come (`publishers`) and
// go (`unpublished`, `leaving`); those already there when the session was claimed come from the
// room's participant list.

const PLUGIN = "janus.plugin.videoroom";
const KEEPALIVE_MS = 25_000; // under Janus's session_timeout (60 s)
const REQUEST_TIMEOUT_MS = 20_000;

let counter = 0;
const transactionId = () => `t${Date.now().toString(36)}${(counter++).toString(36)}`;

/** Janus's WebSocket API: requests matched to their answers by transaction, events by handle. */
class JanusSocket {
  constructor(url, token) {
    this.url = url;
    this.token = token; // Janus refuses any request without it (the server takes it back when we leave)
    this.pending = new Map(); // transaction → {resolve, reject, ack}
    this.handlers = new Map(); // handle id → function(message)
    this.sessionId = null;
    this.onclose = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      const ws = (this.ws = new WebSocket(this.url, "janus-protocol"));
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("janus: the WebSocket did not open"));
      ws.onclose = () => {
        for (const p of this.pending.values()) p.reject(new Error("janus: the WebSocket closed"));
        this.pending.clear();
        clearInterval(this.keepalive);
        this.onclose?.();
      };
      ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    });
  }

  receive(msg) {
    const waiting = msg.transaction && this.pending.get(msg.transaction);
    if (waiting) {
      // A plugin request is acked first; its answer is the event with the same transaction.
      if (msg.janus === "ack" && waiting.async) return;
      this.pending.delete(msg.transaction);
      if (msg.janus === "error") waiting.reject(new Error(msg.error?.reason || "janus error"));
      else waiting.resolve(msg);
      return;
    }
    if (msg.sender) this.handlers.get(msg.sender)?.(msg);
  }

  request(message, { async = false } = {}) {
    const transaction = transactionId();
    const full = { ...message, transaction, token: this.token };
    if (this.sessionId && !full.session_id) full.session_id = this.sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new Error(`janus: no answer to ${message.janus}`));
      }, REQUEST_TIMEOUT_MS);
      const done = (fn) => (value) => {
        clearTimeout(timer);
        fn(value);
      };
      this.pending.set(transaction, { resolve: done(resolve), reject: done(reject), async });
      this.ws.send(JSON.stringify(full));
    });
  }

  /** Take over the session the server opened for this page (its events come here from now on). */
  async claim(sessionId) {
    await this.request({ janus: "claim", session_id: sessionId });
    this.sessionId = sessionId;
    this.keepalive = setInterval(() => {
      if (this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({ janus: "keepalive", session_id: this.sessionId, token: this.token,
                                      transaction: transactionId() }));
      }
    }, KEEPALIVE_MS);
  }

  async attach(onEvent) {
    const answer = await this.request({ janus: "attach", plugin: PLUGIN });
    const handleId = answer.data.id;
    this.handlers.set(handleId, onEvent);
    return handleId;
  }

  /** A VideoRoom request whose answer is an event: returns {data, jsep}; a plugin error throws. */
  async message(handleId, body, jsep) {
    const msg = { janus: "message", handle_id: handleId, body };
    if (jsep) msg.jsep = jsep;
    const answer = await this.request(msg, { async: true });
    const data = answer.plugindata?.data || {};
    if (data.error_code) {
      const err = new Error(data.error || "videoroom error");
      err.code = data.error_code;
      throw err;
    }
    return { data, jsep: answer.jsep };
  }

  trickle(handleId, candidate) {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ janus: "trickle", session_id: this.sessionId, handle_id: handleId, token: this.token,
                                  candidate: candidate || { completed: true }, transaction: transactionId() }));
  }

  close() {
    clearInterval(this.keepalive);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      if (this.sessionId) {
        this.ws.send(JSON.stringify({ janus: "destroy", session_id: this.sessionId, token: this.token,
                                      transaction: transactionId() }));
      }
      this.ws.close();
    }
  }
}

/**
 * This page's part in a Janus room. `subscribers` (feed id → RTCPeerConnection) and `streams`
 * (feed id → MediaStream) are what voice.js draws tiles from; `onchange` tells it to redraw and
 * `onerror` that the SFU call failed (kicked, refused or the socket lost).
 */
export class SfuCall {
  constructor({ url, room, token, feed, session, handle, private_id: privateId, local, video, iceServers, icePolicy,
                onchange, onerror }) {
    Object.assign(this, { url, room, feed, session, privateId, local, video, onchange, onerror });
    this.rtcConfig = { iceServers: iceServers || [], iceTransportPolicy: icePolicy || "all" };
    this.socket = new JanusSocket(url, token);
    this.publisherHandle = handle;
    this.publisher = null; // RTCPeerConnection sending this browser's tracks
    this.subscribers = new Map();
    this.streams = new Map();
    this.handles = new Map(); // feed id → subscriber handle id
    this.closed = false;
  }

  async start() {
    const s = this.socket;
    s.onclose = () => !this.closed && this.fail(new Error("janus: the connection was lost"));
    await s.open();
    s.handlers.set(this.publisherHandle, (msg) => this.onPublisherEvent(msg));
    await s.claim(this.session);
    await this.publish();
    const { data } = await s.message(this.publisherHandle, { request: "listparticipants", room: this.room });
    for (const p of data.participants || []) if (p.publisher) this.subscribe(p.id);
  }

  async publish() {
    const pc = (this.publisher = new RTCPeerConnection(this.rtcConfig));
    pc.onicecandidate = ({ candidate }) => this.socket.trickle(this.publisherHandle, candidate?.toJSON());
    pc.onconnectionstatechange = () => this.onchange?.();
    for (const track of this.local?.getTracks() || []) pc.addTrack(track, this.local);
    // A video slot even with the camera off, so turning it on or sharing the screen later is a
    // replaceTrack (sendVideo), with no renegotiation with Janus.
    if (this.video && !this.local?.getVideoTracks().length) pc.addTransceiver("video", { direction: "sendonly" });
    await pc.setLocalDescription();
    const { jsep } = await this.socket.message(this.publisherHandle, { request: "publish" },
                                               { type: "offer", sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription(jsep);
  }

  /** Every RTCPeerConnection of this call: the publisher's and the subscribers'. */
  connections() {
    return [this.publisher, ...this.subscribers.values()].filter(Boolean);
  }

  /** Renewed TURN credentials, for the connections this call opens from now on. */
  setIceServers(iceServers) {
    this.rtcConfig = { ...this.rtcConfig, iceServers };
  }

  /** Send `track` (camera, screen, or null for nothing) as this participant's published video. */
  async sendVideo(track) {
    const transceiver = this.publisher?.getTransceivers().find((t) => t.receiver.track.kind === "video");
    if (!transceiver || transceiver.sender.track === track) return;
    try {
      await transceiver.sender.replaceTrack(track);
    } catch (err) {
      console.error("sfu: could not send the video", err);
    }
  }

  onPublisherEvent(msg) {
    if (msg.janus === "trickle") return this.publisher?.addIceCandidate(msg.candidate).catch(() => {});
    if (msg.janus === "hangup" && !this.closed) return this.fail(new Error("janus: hung up"));
    const data = msg.plugindata?.data;
    if (!data) return;
    for (const p of data.publishers || []) this.subscribe(p.id);
    const gone = data.unpublished ?? data.leaving;
    if (gone === "ok") {
      if (!this.closed) this.fail(new Error("janus: this participant was taken out of the room"));
    } else if (gone !== undefined) {
      this.unsubscribe(gone);
    }
  }

  async subscribe(feed) {
    if (this.closed || feed === this.feed || this.handles.has(feed)) return;
    this.handles.set(feed, null);
    const s = this.socket;
    try {
      const handle = await s.attach((msg) => this.onSubscriberEvent(feed, msg));
      this.handles.set(feed, handle);
      const { jsep } = await s.message(handle, {
        request: "join", ptype: "subscriber", room: this.room, streams: [{ feed }], private_id: this.privateId,
      });
      if (!this.handles.has(feed)) return; // it left meanwhile
      const pc = new RTCPeerConnection(this.rtcConfig);
      const stream = new MediaStream();
      this.subscribers.set(feed, pc);
      this.streams.set(feed, stream);
      pc.onicecandidate = ({ candidate }) => s.trickle(handle, candidate?.toJSON());
      pc.ontrack = ({ track }) => {
        stream.addTrack(track);
        this.onchange?.();
      };
      pc.onconnectionstatechange = () => this.onchange?.();
      await pc.setRemoteDescription(jsep);
      await pc.setLocalDescription();
      await s.message(handle, { request: "start" }, { type: "answer", sdp: pc.localDescription.sdp });
      this.onchange?.();
    } catch (err) {
      console.error(`sfu: could not subscribe to feed ${feed}`, err);
      this.unsubscribe(feed);
    }
  }

  onSubscriberEvent(feed, msg) {
    if (msg.janus === "trickle") this.subscribers.get(feed)?.addIceCandidate(msg.candidate).catch(() => {});
  }

  unsubscribe(feed) {
    const handle = this.handles.get(feed);
    this.handles.delete(feed);
    if (handle) this.socket.handlers.delete(handle);
    this.subscribers.get(feed)?.close();
    this.subscribers.delete(feed);
    this.streams.delete(feed);
    this.onchange?.();
  }

  fail(err) {
    this.stop();
    this.onerror?.(err);
  }

  stop() {
    if (this.closed) return;
    this.closed = true;
    for (const feed of [...this.handles.keys()]) this.unsubscribe(feed);
    this.publisher?.close();
    this.publisher = null;
    this.socket.close();
  }
}
