// A voice/video room in the browser: a full mesh of RTCPeerConnections, one per other participant.
// Signaling goes through the gateway (op 13, relayed by the server to the one addressed session);
// each pair negotiates with the "perfect negotiation" pattern, the lower user id being the polite
// peer. Turning the camera on or off and sharing the screen add and remove video senders, so each
// renegotiates through that same pattern; a connection that fails or stays disconnected, or a network
// change, restarts ICE the same way. The server says how much each browser may send (the quality
// ladder) and this page applies it to every video sender with RTCRtpSender.setParameters. Past
// RTC_MESH_MAX the server switches the room to the Janus SFU (topology "sfu"): sfu.js then carries
// the media instead of the mesh. Tests read window.smartcVoice.peers (mesh) and
// window.smartcVoice.sfuSubscribers (SFU).
import { csrfToken, fillText, h } from "./dom.js";
import { Gateway, Op } from "./gateway.js";
import { Presence } from "./members.js";
import { SfuCall } from "./sfu.js";
import { PartyPlayer } from "./party.js";
import { Sidebar } from "./sidebar.js";

const SPEAKING_LEVEL = 0.02; // RMS of the waveform above which a participant shows as speaking
const SPEAKING_POLL_MS = 120;
const DISCONNECTED_GRACE_MS = 3000; // a "disconnected" connection often recovers alone; past this, restart ICE
const CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 } };

class VoiceRoom {
  constructor(root) {
    this.root = root;
    const ds = root.dataset;
    this.guildId = Number(ds.guildId);
    this.channelId = Number(ds.channelId);
    this.userId = Number(ds.userId);
    this.canSpeak = ds.canSpeak === "true";
    this.canVideo = ds.canVideo === "true";
    this.canMute = ds.canMuteMembers === "true";
    this.canMove = ds.canMoveMembers === "true";
    this.i18n = document.getElementById("voice-i18n").dataset;
    this.grid = root.querySelector("#voice-tiles");
    this.status = root.querySelector("#voice-status");
    this.buttons = {
      join: root.querySelector("#voice-join"), leave: root.querySelector("#voice-leave"),
      mute: root.querySelector("#voice-mute"), camera: root.querySelector("#voice-camera"),
      deafen: root.querySelector("#voice-deafen"), screen: root.querySelector("#voice-screen"),
    };
    this.states = new Map(); // user id → voice state, for this channel
    this.peers = new Map(); // user id → RTCPeerConnection
    // user id → {polite, makingOffer, ignoreOffer, chain, stream, screen, camera, screenSender, negotiations}:
    // `stream` is what the peer sends from its microphone and camera, `screen` its screen share;
    // `camera` and `screenSender` are this page's senders to it.
    this.links = new Map();
    this.local = null; // this browser's MediaStream while in the call: the microphone, and the camera while on
    this.screen = null; // the screen share's MediaStream while sharing
    this.topology = "mesh";
    this.sfu = null; // the SfuCall while the room goes through Janus
    this.joined = false;
    this.sessionId = null;
    this.iceServers = [];
    this.icePolicy = "all";
    this.iceRenewal = null; // the timer that renews the TURN credentials while in the call
    this.quality = null;
    this.selfMute = false;
    this.selfDeaf = false;
    this.selfVideo = false;
    this.selfStream = false;
    this.audio = null; // AudioContext for the speaking indicators
    this.meters = new Map(); // user id → analyser
  }

  start() {
    const g = (this.gateway = new Gateway());
    g.on("state", (state) => (this.root.dataset.gateway = state));
    g.on("READY", () => this.onReady());
    g.on("VOICE_STATES", (d) => d.guild_id === this.guildId && this.onStates(d.voice_states));
    g.on("VOICE_STATE_UPDATE", (d) => d.guild_id === this.guildId && this.onStateUpdate(d));
    g.on("VOICE_READY", (d) => this.onJoined(d));
    g.on("VOICE_SIGNAL", (d) => this.onSignal(d));
    g.on("VOICE_TOPOLOGY_UPDATE", (d) => d.channel_id === this.channelId && this.setTopology(d.topology, d.sfu));
    g.on("VOICE_QUALITY_UPDATE", (d) => d.channel_id === this.channelId && this.applyQuality(d.quality));
    g.on("error", (d) => this.onError(d));
    new Presence(g, this.guildId).start();
    new Sidebar(g, this.guildId).start();
    this.party = new PartyPlayer(this, g);
    this.party.start();
    this.buttons.join.addEventListener("click", () => this.join());
    this.buttons.leave.addEventListener("click", () => this.leave());
    this.buttons.mute.addEventListener("click", () => this.setFlags({ selfMute: !this.selfMute }));
    this.buttons.camera.addEventListener("click", () => this.setCamera(!this.selfVideo));
    this.buttons.screen.addEventListener("click", () => (this.screen ? this.stopScreen() : this.shareScreen()));
    this.buttons.deafen.addEventListener("click", () => this.setFlags({ selfDeaf: !this.selfDeaf }));
    this.grid.addEventListener("click", (event) => this.onTileAction(event));
    window.addEventListener("pagehide", () => g.close());
    // A new network (Wi-Fi to mobile, a VPN, a cable plugged in) leaves the old ICE paths dead.
    window.addEventListener("online", () => this.onNetworkChange());
    navigator.connection?.addEventListener?.("change", () => this.onNetworkChange());
    setInterval(() => this.measure(), SPEAKING_POLL_MS);
    g.connect();
    window.smartcVoice = this;
    this.render();
  }

  // --- the room as the server tells it ----------------------------------------------------------

  onReady() {
    // The sidebar asks who is in the guild's voice channels (op 14); onStates reads the answer.
    if (this.joined) {
      // A new connection is a new session: the old one left the room when its socket closed.
      this.hangUp();
      this.join();
    } else if (new URLSearchParams(location.search).get("join") === "1") {
      this.join();
    }
  }

  onStates(states) {
    this.states.clear();
    for (const s of states) if (s.channel_id === this.channelId) this.states.set(s.user_id, s);
    this.render();
  }

  onStateUpdate(d) {
    if (d.user_id === this.userId && this.joined) {
      if (d.session_id !== this.sessionId) {
        this.hangUp(this.i18n.otherTab);
      } else if (d.channel_id === null) {
        this.hangUp(this.i18n.disconnected);
      } else if (d.channel_id !== this.channelId) {
        // Moved by a moderator: follow to the other room and join it from there.
        this.hangUp(this.i18n.moved);
        location.href = `/guilds/${this.guildId}/channels/${d.channel_id}?join=1`;
        return;
      } else {
        this.applyServerFlags(d);
      }
    }
    if (d.channel_id === this.channelId) {
      this.states.set(d.user_id, d);
      if (this.joined && d.user_id !== this.userId && this.topology === "mesh") this.peer(d.user_id);
    } else {
      this.states.delete(d.user_id);
      this.closePeer(d.user_id);
    }
    this.render();
  }

  onJoined(d) {
    if (d.channel_id !== this.channelId) return;
    this.joined = true;
    this.sessionId = d.session_id;
    this.iceServers = d.ice_servers || [];
    this.icePolicy = d.ice_transport_policy === "relay" ? "relay" : "all";
    this.scheduleIceRenewal(d.ice_ttl);
    this.quality = d.quality;
    this.onStates(d.voice_states);
    this.applyServerFlags(d.self);
    // A member without STREAM joins without camera or screen (the server drops those flags).
    if (this.selfVideo && !d.self?.self_video) this.setCamera(false, { announce: false });
    if (this.screen && !d.self?.self_stream) this.stopScreen({ announce: false });
    this.topology = "mesh";
    this.setTopology(d.topology, d.sfu);
    this.root.dataset.voice = "joined";
    this.showStatus("");
    this.render();
  }

  onError(d) {
    if (!d || typeof d.message !== "string" || d.ref === Op.LISTENING_PARTY) return; // the party shows its own
    if (!this.joined && this.local) this.stopLocal(); // a refused join
    if (this.joined && d.ref === Op.VOICE_STATE_UPDATE && d.permission === "STREAM") {
      // Turning the camera or the screen on was refused: stop what the server did not take.
      const mine = this.states.get(this.userId);
      if (this.screen && !mine?.self_stream) this.stopScreen({ announce: false });
      if (this.selfVideo && !mine?.self_video) this.setCamera(false, { announce: false });
    }
    this.showStatus(d.message);
    this.render();
  }

  // --- this browser's side ----------------------------------------------------------------------

  async join() {
    if (this.joined) return;
    this.showStatus(this.i18n.joining);
    if (!this.local) {
      try {
        this.local = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true }, video: this.canVideo ? CAMERA : false,
        });
      } catch (err) {
        try {
          this.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
        } catch (err2) {
          this.showStatus(this.i18n.noMicrophone);
          return;
        }
      }
    }
    this.selfVideo = this.local.getVideoTracks().length > 0;
    this.applyTrackFlags();
    this.sendFlags();
  }

  sendFlags() {
    this.gateway.send(Op.VOICE_STATE_UPDATE, {
      guild_id: this.guildId, channel_id: this.channelId, self_mute: this.selfMute, self_deaf: this.selfDeaf,
      self_video: this.selfVideo, self_stream: this.selfStream,
    });
  }

  /** Carry the call over the mesh or through Janus, as the server says; a switch tears down the other. */
  setTopology(topology, sfu) {
    if (!this.joined) return;
    if (topology === "sfu" && sfu) {
      if (this.topology === "sfu" && this.sfu) return;
      this.topology = "sfu";
      for (const id of [...this.peers.keys()]) this.closePeer(id);
      const call = (this.sfu = new SfuCall({
        ...sfu, local: this.local, video: this.canVideo, iceServers: this.iceServers, icePolicy: this.icePolicy,
        onchange: () => {
          // The ladder caps what this browser sends to Janus too, once the publisher is negotiated.
          if (call.publisher?.connectionState === "connected" && !call.capped && this.quality) {
            call.capped = true;
            this.applyQuality(this.quality);
            this.sendMedia(); // a screen shared, or a camera turned on, before the publisher was up
          }
          this.render();
        },
        onerror: (err) => {
          console.error("voice: the SFU call failed", err);
          if (this.sfu === call) this.sfu = null;
          this.render();
        },
      }));
      call.start().catch((err) => call.fail(err));
    } else if (topology === "mesh") {
      this.stopSfu();
      this.topology = "mesh";
      for (const id of this.states.keys()) if (id !== this.userId) this.peer(id);
    }
    this.render();
  }

  stopSfu() {
    this.sfu?.stop();
    this.sfu = null;
  }

  /** Feed id (user id) → RTCPeerConnection receiving it from Janus. */
  get sfuSubscribers() {
    return this.sfu ? this.sfu.subscribers : new Map();
  }

  leave() {
    this.gateway.send(Op.VOICE_STATE_UPDATE, { guild_id: this.guildId, channel_id: null });
    this.hangUp();
    this.stopLocal();
    this.render();
  }

  /**
   * TURN credentials last `ttl` seconds and come only with a join: renew them at half-life while the
   * call lasts (the server answers only a participant) and hand them to every connection, so an
   * ICE restart or a new peer always has valid ones.
   */
  scheduleIceRenewal(ttl) {
    clearTimeout(this.iceRenewal);
    this.iceRenewal = null;
    if (!this.joined || !ttl || !this.iceServers.some((s) => s.credential)) return;
    this.iceRenewal = setTimeout(() => this.renewIce(ttl), Math.max(15, ttl / 2) * 1000);
  }

  async renewIce(ttl) {
    let response;
    try {
      response = await fetch("/api/rtc/ice-servers", {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
    } catch (err) {
      console.error("voice: could not renew the ICE servers", err);
    }
    if (!this.joined) return;
    if (response?.ok) {
      const body = await response.json();
      this.iceServers = body.ice_servers || [];
      ttl = body.ttl || ttl;
      const pcs = [...this.peers.values(), ...(this.sfu?.connections() || [])];
      for (const pc of pcs) {
        try {
          pc.setConfiguration({ ...pc.getConfiguration(), iceServers: this.iceServers });
        } catch (err) {
          console.error("voice: could not update a connection's ICE servers", err);
        }
      }
      this.sfu?.setIceServers(this.iceServers);
    } else if (response && response.status < 500 && response.status !== 429) {
      return; // not in a call any more: the gateway tells this page so
    }
    this.scheduleIceRenewal(ttl);
  }

  /** End the call on this page (the server already knows, or is told by `leave`). */
  hangUp(message) {
    clearTimeout(this.iceRenewal);
    this.iceRenewal = null;
    for (const id of [...this.peers.keys()]) this.closePeer(id);
    this.stopSfu();
    this.topology = "mesh";
    this.joined = false;
    this.sessionId = null;
    this.root.dataset.voice = "idle";
    if (message) {
      this.stopLocal();
      this.showStatus(message);
    }
    this.render();
  }

  stopLocal() {
    for (const t of this.local?.getTracks() || []) t.stop();
    this.local = null;
    for (const t of this.screen?.getTracks() || []) t.stop();
    this.screen = null;
    this.selfStream = false;
  }

  setFlags({ selfMute = this.selfMute, selfDeaf = this.selfDeaf }) {
    if (!this.joined) return;
    // As in Discord, deafening also mutes, and unmuting undeafens.
    if (selfDeaf && !this.selfDeaf) selfMute = true;
    if (!selfMute && this.selfMute) selfDeaf = false;
    this.selfMute = selfMute;
    this.selfDeaf = selfDeaf;
    this.applyTrackFlags();
    this.sendFlags();
    this.render();
  }

  /** Camera on: capture it (again) and send it to every peer; off: stop it (the light goes out) and
   * take it off every connection. Either renegotiates; `announce` tells the server. */
  async setCamera(on, { announce = true } = {}) {
    if (!this.joined || !this.local || on === this.selfVideo) return;
    if (on) {
      let track = this.local.getVideoTracks()[0];
      if (!track) {
        try {
          [track] = (await navigator.mediaDevices.getUserMedia({ video: CAMERA })).getVideoTracks();
        } catch (err) {
          this.showStatus(this.i18n.noCamera);
          return;
        }
        if (!this.joined || !this.local || this.selfVideo) return track.stop(); // left, or clicked twice
        this.local.addTrack(track);
      }
      this.selfVideo = true;
    } else {
      for (const t of this.local.getVideoTracks()) {
        this.local.removeTrack(t);
        t.stop();
      }
      this.selfVideo = false;
    }
    this.sendMedia();
    if (announce) this.sendFlags();
    this.render();
  }

  async shareScreen() {
    if (!this.joined || this.screen) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    } catch (err) {
      if (err.name !== "NotAllowedError") this.showStatus(this.i18n.noScreen); // else the user cancelled
      return;
    }
    const [track] = stream.getVideoTracks();
    if (!this.joined || this.screen || !track) return stream.getTracks().forEach((t) => t.stop());
    track.contentHint = "detail"; // text stays sharp; the encoder drops frames before resolution
    // The browser's own "Stop sharing" ends the track.
    track.addEventListener("ended", () => this.screen === stream && this.stopScreen());
    this.screen = stream;
    this.selfStream = true;
    this.sendMedia();
    this.sendFlags();
    this.render();
  }

  stopScreen({ announce = true } = {}) {
    if (!this.screen) return;
    for (const t of this.screen.getTracks()) t.stop();
    this.screen = null;
    this.selfStream = false;
    this.sendMedia();
    if (announce && this.joined) this.sendFlags();
    this.render();
  }

  /** Bring every connection's senders in line with what this page sends now. */
  sendMedia() {
    if (this.topology === "sfu") {
      // Janus takes one video per publisher: the screen replaces the camera while shared.
      const video = this.screen?.getVideoTracks()[0] || (this.selfVideo && this.local?.getVideoTracks()[0]) || null;
      this.sfu?.sendVideo(video);
      return;
    }
    for (const [id, pc] of this.peers) this.syncSenders(pc, this.links.get(id));
  }

  syncSenders(pc, link) {
    const camera = (this.selfVideo && this.local?.getVideoTracks()[0]) || null;
    this.sendTrack(pc, link, "camera", camera, this.local);
    // Its own stream, so the other side tells the screen from the camera (the camera's stream has the microphone).
    this.sendTrack(pc, link, "screenSender", this.screen?.getVideoTracks()[0] || null, this.screen);
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
  applyServerFlags(state) {
    this.serverMute = !!(state?.mute || state?.suppress);
    this.serverDeaf = !!state?.deaf;
    this.applyTrackFlags();
  }

  applyTrackFlags() {
    // The microphone is disabled rather than removed (a muted track sends silence): mute and unmute
    // are instant and need no renegotiation. The camera is added and removed (setCamera).
    for (const t of this.local?.getAudioTracks() || []) t.enabled = !this.selfMute && !this.serverMute;
    const deaf = !!(this.serverDeaf || this.selfDeaf);
    for (const v of this.grid.querySelectorAll(".voice-tile[data-user-id]:not(.me) video")) v.muted = deaf;
  }

  // --- peers: perfect negotiation ---------------------------------------------------------------

  peer(userId) {
    if (this.peers.has(userId)) return this.peers.get(userId);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, iceTransportPolicy: this.icePolicy });
    const link = { polite: this.userId < userId, makingOffer: false, ignoreOffer: false, chain: Promise.resolve(),
                   stream: new MediaStream(), screen: null, camera: null, screenSender: null, negotiations: 0,
                   restarts: 0, iceTimer: null };
    this.peers.set(userId, pc);
    this.links.set(userId, link);
    const send = (d) => this.gateway.send(Op.VOICE_SIGNAL, { to: userId, ...d });
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
      if (this.quality) this.applyQuality(this.quality, [pc]);
      this.render();
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
      if (stream) stream.onremovetrack = () => this.render();
      track.onunmute = () => this.render();
      this.render();
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
      if (pc.connectionState === "connected" && this.quality) this.applyQuality(this.quality, [pc]);
      this.render();
    };
    for (const track of this.local?.getAudioTracks() || []) pc.addTrack(track, this.local);
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

  onNetworkChange() {
    if (!this.joined || this.topology !== "mesh") return;
    for (const id of this.peers.keys()) this.restartIce(id);
  }

  onSignal(d) {
    if (!this.joined || this.topology !== "mesh" || d.channel_id !== this.channelId || !this.states.has(d.from)) return;
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
      this.gateway.send(Op.VOICE_SIGNAL, { to: d.from, type: "answer", sdp: pc.localDescription.sdp });
    }
  }

  closePeer(userId) {
    const pc = this.peers.get(userId);
    if (pc) pc.close();
    clearTimeout(this.links.get(userId)?.iceTimer);
    this.peers.delete(userId);
    this.links.delete(userId);
    this.meters.delete(userId);
  }

  /** The ladder step: cap each video sender's bitrate, resolution and frame rate, and audio's bitrate. */
  async applyQuality(step, connections = null) {
    this.quality = step;
    this.root.dataset.quality = String(step.participants);
    for (const pc of connections || [...this.peers.values(), ...(this.sfu?.publisher ? [this.sfu.publisher] : [])]) {
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

  // --- speaking indicators ----------------------------------------------------------------------

  meter(userId, stream) {
    if (this.meters.has(userId) || !stream || stream.getAudioTracks().length === 0) return;
    try {
      this.audio = this.audio || new AudioContext();
      const analyser = this.audio.createAnalyser();
      analyser.fftSize = 512;
      this.audio.createMediaStreamSource(stream).connect(analyser);
      this.meters.set(userId, { analyser, data: new Uint8Array(analyser.fftSize) });
    } catch (err) {
      console.warn("voice: no speaking indicator", err);
    }
  }

  measure() {
    if (this.audio?.state === "suspended") this.audio.resume().catch(() => {});
    for (const [userId, { analyser, data }] of this.meters) {
      analyser.getByteTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += ((v - 128) / 128) ** 2;
      const speaking = Math.sqrt(sum / data.length) > SPEAKING_LEVEL;
      this.grid.querySelector(`.voice-tile[data-user-id="${userId}"]`)?.classList.toggle("speaking", speaking);
    }
  }

  // --- moderation -------------------------------------------------------------------------------

  async onTileAction(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const userId = Number(button.closest(".voice-tile").dataset.userId);
    const state = this.states.get(userId);
    const body = button.dataset.action === "mute" ? { mute: !state?.mute } : { channel_id: null };
    const response = await fetch(`/api/guilds/${this.guildId}/voice-states/${userId}`, {
      method: "PATCH", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() }, body: JSON.stringify(body),
    });
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      this.showStatus(data?.error?.message || this.i18n.failed);
    }
  }

  // --- drawing ----------------------------------------------------------------------------------

  nameOf(userId) {
    const el = document.querySelector(`.member-list .member[data-user-id="${userId}"] .member-name`);
    return el ? el.textContent.trim() : fillText(this.i18n.someone, { id: userId });
  }

  render() {
    const ids = [...this.states.keys()];
    for (const tile of this.grid.querySelectorAll(".voice-tile[data-user-id]")) {
      if (!this.states.has(Number(tile.dataset.userId))) tile.remove();
    }
    for (const screen of this.grid.querySelectorAll(".voice-screen")) {
      if (!this.states.has(Number(screen.dataset.screenOf))) screen.remove();
    }
    for (const id of ids) {
      const s = this.states.get(id);
      let tile = this.grid.querySelector(`.voice-tile[data-user-id="${id}"]`);
      if (!tile) {
        const video = h("video", { autoplay: true, playsinline: true });
        tile = h("div", { class: "voice-tile", dataset: { userId: String(id) } }, video,
          h("span", { class: "voice-name", text: this.nameOf(id) }), h("span", { class: "voice-flags" }));
        if (id !== this.userId) {
          const tools = h("span", { class: "voice-tools" });
          if (this.canMute) tools.append(h("button", { type: "button", class: "small", dataset: { action: "mute" } }));
          if (this.canMove) {
            tools.append(h("button", { type: "button", class: "small", dataset: { action: "disconnect" },
                                       text: this.i18n.disconnect }));
          }
          tile.append(tools);
        }
        this.grid.append(tile);
      }
      const me = id === this.userId;
      tile.classList.toggle("me", me);
      const flags = [];
      if (s.mute) flags.push(this.i18n.serverMuted);
      else if (s.self_mute) flags.push(this.i18n.muted);
      if (s.deaf || s.self_deaf) flags.push(this.i18n.deafened);
      tile.querySelector(".voice-flags").textContent = flags.join(" · ");
      const muteButton = tile.querySelector('button[data-action="mute"]');
      if (muteButton) muteButton.textContent = s.mute ? this.i18n.unmuteForAll : this.i18n.muteForAll;
      const video = tile.querySelector("video");
      const sfuStream = this.sfu?.streams.get(id);
      const stream = me ? this.local : this.links.get(id)?.stream || sfuStream;
      if (this.joined && stream) {
        this.attach(video, stream);
        this.meter(id, stream);
      }
      // Through Janus a shared screen takes the place of the camera in the participant's tile.
      const wanted = me ? this.selfVideo : s.self_video || (!!sfuStream && s.self_stream);
      tile.classList.toggle("has-video", this.joined && wanted && !!stream && hasVideo(stream));
      this.renderScreen(id, tile, me ? this.screen : this.links.get(id)?.screen, me || s.self_stream);
      const pc = this.peers.get(id) || this.sfu?.subscribers.get(id);
      tile.dataset.connection = me ? "local" : pc ? pc.connectionState : "none";
    }
    this.root.dataset.participants = String(ids.length);
    this.buttons.join.hidden = this.joined;
    this.buttons.leave.hidden = !this.joined;
    this.buttons.mute.hidden = !this.joined;
    this.buttons.camera.hidden = !this.joined || !this.canVideo;
    this.buttons.deafen.hidden = !this.joined;
    this.buttons.deafen.textContent = this.selfDeaf ? this.i18n.undeafen : this.i18n.deafen;
    this.buttons.deafen.setAttribute("aria-pressed", String(this.selfDeaf));
    this.buttons.mute.textContent = this.selfMute ? this.i18n.unmute : this.i18n.mute;
    this.buttons.mute.setAttribute("aria-pressed", String(this.selfMute));
    this.buttons.camera.textContent = this.selfVideo ? this.i18n.cameraOff : this.i18n.cameraOn;
    this.buttons.camera.setAttribute("aria-pressed", String(this.selfVideo));
    this.buttons.screen.hidden = !this.joined || !this.canVideo || !navigator.mediaDevices?.getDisplayMedia;
    this.buttons.screen.textContent = this.screen ? this.i18n.stopSharing : this.i18n.shareScreen;
    this.buttons.screen.setAttribute("aria-pressed", String(!!this.screen));
    this.root.querySelector("#voice-empty").hidden = ids.length > 0;
    this.party?.render();
  }

  /** Show `stream` in `video`; again when its tracks changed (a camera turned on adds one). */
  attach(video, stream) {
    const key = `${stream.id}:${stream.getTracks().map((t) => t.id).join(",")}`;
    if (video.srcObject === stream && video.dataset.tracks === key) return;
    video.dataset.tracks = key;
    video.srcObject = stream;
    video.muted = video.closest(".me, .voice-screen") !== null || !!(this.serverDeaf || this.selfDeaf);
    video.play().catch(() => {});
  }

  /** The participant's screen share, in a tile of its own right after theirs, while it has video. */
  renderScreen(userId, tile, stream, sharing) {
    let screen = this.grid.querySelector(`.voice-screen[data-screen-of="${userId}"]`);
    if (!(this.joined && sharing && stream && hasVideo(stream))) {
      screen?.remove();
      return;
    }
    if (!screen) {
      screen = h("div", { class: "voice-tile voice-screen has-video", dataset: { screenOf: String(userId) } },
        h("video", { autoplay: true, playsinline: true, muted: true }),
        h("span", { class: "voice-name", text: fillText(this.i18n.screenOf, { name: this.nameOf(userId) }) }));
    }
    if (tile.nextElementSibling !== screen) tile.after(screen);
    this.attach(screen.querySelector("video"), stream);
  }

  showStatus(text) {
    this.status.textContent = text || "";
    this.status.hidden = !text;
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

function hasVideo(stream) {
  return stream.getVideoTracks().some((t) => t.readyState === "live");
}

const root = document.getElementById("voice");
if (root) new VoiceRoom(root).start();
