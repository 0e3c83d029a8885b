// The full mesh: one RTCPeerConnection per other participant. Signaling goes through the gateway
// (op 13, relayed by the server to the one addressed session); each pair negotiates with the
// "perfect negotiation" pattern, the lower user id being the polite peer. Turning the camera on or
// off and sharing the screen add and remove video senders, so each renegotiates through that same
// pattern; a connection that fails or stays disconnected, or a network change, restarts ICE the
// same way.
import { Op } from "../gateway.js";

const DISCONNECTED_GRACE_MS = 3000; // a "disconnected" connection often recovers alone; past this, restart ICE

export class Mesh {
  /** `room`: the VoiceRoom (its ids, ICE servers, quality step, local media and gateway). */
  constructor(room) {
    this.room = room;
    this.peers = new Map(); // user id → RTCPeerConnection
    // user id → {polite, makingOffer, ignoreOffer, chain, stream, screen, camera, screenSender, negotiations,
    // restarts, iceTimer}: `stream` is what the peer sends from its microphone and camera, `screen` its
    // screen share; `camera` and `screenSender` are this page's senders to it.
    this.links = new Map();
  }

  /** The connection to `userId`, made (and offered to) when there is none yet. */
  peer(userId) {
    if (this.peers.has(userId)) return this.peers.get(userId);
    const room = this.room;
    const pc = new RTCPeerConnection({ iceServers: room.iceServers, iceTransportPolicy: room.icePolicy });
    const link = { polite: room.userId < userId, makingOffer: false, ignoreOffer: false, chain: Promise.resolve(),
                   stream: new MediaStream(), screen: null, camera: null, screenSender: null, negotiations: 0,
                   restarts: 0, iceTimer: null };
    this.peers.set(userId, pc);
    this.links.set(userId, link);
    const send = (d) => room.gateway.send(Op.VOICE_SIGNAL, { to: userId, ...d });
    pc.onnegotiationneeded = async () => {
      try {
        link.makingOffer = true;
        trimCodecs(pc);
        await pc.setLocalDescription();
        send({ type: pc.localDescription.type, sdp: pc.localDescription.sdp });
      } catch (err) {
        console.error("voice: could not make an offer", err);
      } finally {
        link.makingOffer = false;
      }
    };
    pc.onsignalingstatechange = () => {
      if (pc.signalingState !== "stable") return;
      link.negotiations += 1;
      // A sender added by this negotiation has encodings only now: cap it like the others.
      if (room.quality) room.applyQuality(room.quality, [pc]);
      room.render();
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) send({ type: "candidate", candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => {
      const [stream] = streams;
      if (!stream) {
        link.stream.addTrack(track);
      } else if (stream === link.stream || track.kind === "audio" || stream.getAudioTracks().length > 0) {
        link.stream = stream; // the microphone's stream, with the camera while it is on
      } else {
        link.screen = stream;
      }
      // A renegotiation that stops a sender takes its track out of the stream.
      if (stream) stream.onremovetrack = () => room.render();
      track.onunmute = () => room.render();
      room.render();
    };
    pc.oniceconnectionstatechange = () => {
      clearTimeout(link.iceTimer);
      if (pc.iceConnectionState === "failed") {
        this.restartIce(userId);
      } else if (pc.iceConnectionState === "disconnected") {
        link.iceTimer = setTimeout(() => pc.iceConnectionState === "disconnected" && this.restartIce(userId),
                                   DISCONNECTED_GRACE_MS);
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected" && room.quality) room.applyQuality(room.quality, [pc]);
      room.render();
    };
    const local = room.media.stream;
    for (const track of local?.getAudioTracks() || []) pc.addTrack(track, local);
    this.syncSenders(pc, link);
    return pc;
  }

  /** New ICE credentials and candidates for this peer: the offer that follows (negotiationneeded)
   * goes through perfect negotiation like any other, so both sides restarting at once is fine. */
  restartIce(userId) {
    const pc = this.peers.get(userId);
    if (!pc || pc.signalingState === "closed") return;
    this.links.get(userId).restarts += 1;
    pc.restartIce();
  }

  restartAll() {
    for (const id of this.peers.keys()) this.restartIce(id);
  }

  /** A VOICE_SIGNAL from a participant of the room (the caller checked that). */
  onSignal(d) {
    const pc = this.peer(d.from);
    const link = this.links.get(d.from);
    // One chain per peer: a candidate is never added before the description it belongs to.
    link.chain = link.chain.then(() => this.handleSignal(pc, link, d)).catch((err) => {
      console.error("voice: signal failed", err);
    });
  }

  async handleSignal(pc, link, d) {
    if (d.type === "candidate") {
      try {
        await pc.addIceCandidate(d.candidate);
      } catch (err) {
        if (!link.ignoreOffer) throw err;
      }
      return;
    }
    const collision = d.type === "offer" && (link.makingOffer || pc.signalingState !== "stable");
    link.ignoreOffer = !link.polite && collision;
    if (link.ignoreOffer) return;
    await pc.setRemoteDescription({ type: d.type, sdp: d.sdp });
    if (d.type === "offer") {
      trimCodecs(pc);
      await pc.setLocalDescription();
      this.room.gateway.send(Op.VOICE_SIGNAL, { to: d.from, type: "answer", sdp: pc.localDescription.sdp });
    }
  }

  close(userId) {
    this.peers.get(userId)?.close();
    clearTimeout(this.links.get(userId)?.iceTimer);
    this.peers.delete(userId);
    this.links.delete(userId);
  }

  closeAll() {
    for (const id of [...this.peers.keys()]) this.close(id);
  }

  /** Bring every connection's senders in line with what this page sends now. */
  syncAll() {
    for (const [id, pc] of this.peers) this.syncSenders(pc, this.links.get(id));
  }

  syncSenders(pc, link) {
    const media = this.room.media;
    this.sendTrack(pc, link, "camera", media.cameraTrack(), media.stream);
    // Its own stream, so the other side tells the screen from the camera (the camera's stream has the microphone).
    this.sendTrack(pc, link, "screenSender", media.screenTrack(), media.screen);
  }

  /** Send `track` on this link's sender `slot`, or stop sending there. Adding, removing or
   * re-enabling a sender changes its transceiver's direction, which fires negotiationneeded. */
  sendTrack(pc, link, slot, track, stream) {
    if (pc.signalingState === "closed") return;
    const sender = link[slot];
    if (!track) {
      if (sender?.track) pc.removeTrack(sender);
      return;
    }
    if (sender?.track === track) return;
    if (!sender) {
      link[slot] = pc.addTrack(track, stream);
      return;
    }
    // A sender taken off earlier: reuse its m-line rather than add one per toggle.
    const transceiver = pc.getTransceivers().find((t) => t.sender === sender);
    sender.replaceTrack(track).catch((err) => console.error("voice: could not send the track", err));
    sender.setStreams(stream);
    transceiver.direction = transceiver.direction === "inactive" ? "sendonly" : "sendrecv";
  }
}

/** The ladder step: cap each video sender's bitrate, resolution and frame rate, and audio's bitrate. */
export async function capSenders(connections, step) {
  for (const pc of connections) {
    for (const sender of pc.getSenders()) {
      const track = sender.track;
      if (!track) continue;
      const params = sender.getParameters();
      if (!params.encodings || params.encodings.length === 0) continue; // not negotiated yet
      for (const enc of params.encodings) {
        if (track.kind === "video") {
          const height = track.getSettings().height || step.max_height;
          enc.maxBitrate = step.max_bitrate;
          enc.scaleResolutionDownBy = Math.max(1, height / step.max_height);
          enc.maxFramerate = step.max_framerate;
        } else {
          enc.maxBitrate = step.audio_bitrate;
        }
      }
      try {
        await sender.setParameters(params);
      } catch (err) {
        console.warn("voice: could not apply the quality step", err);
      }
    }
  }
}

// Chromium offers some 30 video payload types (every H.264 profile, VP9 profiles 0–3, AV1, FEC), about
// 5 KB of SDP per video m-line: with the camera and a screen share an offer outgrew the signaling
// limit (RTC_MAX_SDP_BYTES). These are the codecs every current browser decodes, with retransmission.
let videoCodecs = null;
const trimmed = new WeakSet();

function keptVideoCodecs() {
  const keep = (c) => {
    const fmtp = c.sdpFmtpLine || "";
    switch (c.mimeType.toLowerCase()) {
      case "video/vp8":
      case "video/rtx":
        return true;
      case "video/vp9":
        return !/profile-id=[1-9]/.test(fmtp);
      case "video/av1":
        return !/profile=[1-9]/.test(fmtp);
      case "video/h264": // constrained baseline, what Safari sends
        return /packetization-mode=1/.test(fmtp) && /profile-level-id=42e01f/.test(fmtp);
      default:
        return false;
    }
  };
  return (RTCRtpReceiver.getCapabilities?.("video")?.codecs || []).filter(keep);
}

/** Offer and answer only the kept video codecs, on every video m-line of `pc` (once each). */
function trimCodecs(pc) {
  videoCodecs = videoCodecs || keptVideoCodecs();
  for (const t of pc.getTransceivers()) {
    if (trimmed.has(t) || t.receiver.track.kind !== "video" || !videoCodecs.length) continue;
    trimmed.add(t);
    try {
      t.setCodecPreferences(videoCodecs);
    } catch (err) {
      console.warn("voice: the browser kept its own codec list", err);
    }
  }
}
