// A voice/video room in the browser: a full mesh of RTCPeerConnections, one per other participant.
// Signaling goes through the gateway (op 13, relayed by the server to the one addressed session);
// each pair negotiates with the "perfect negotiation" pattern, the lower user id being the polite
// peer. The server says how much each browser may send (the quality ladder) and this page applies
// it to every video sender with RTCRtpSender.setParameters. Past RTC_MESH_MAX the server switches the
// room to the Janus SFU (topology "sfu"): sfu.js then carries the media instead of the mesh. Tests
// read window.smartcVoice.peers (mesh) and window.smartcVoice.sfuSubscribers (SFU).
import { csrfToken, fillText, h } from "./dom.js";
import { Gateway, Op } from "./gateway.js";
import { Presence } from "./members.js";
import { SfuCall } from "./sfu.js";
import { PartyPlayer } from "./party.js";
import { Sidebar } from "./sidebar.js";

const SPEAKING_LEVEL = 0.02; // RMS of the waveform above which a participant shows as speaking
const SPEAKING_POLL_MS = 120;

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
      deafen: root.querySelector("#voice-deafen"),
    };
    this.states = new Map(); // user id → voice state, for this channel
    this.peers = new Map(); // user id → RTCPeerConnection
    this.links = new Map(); // user id → {polite, makingOffer, ignoreOffer, chain, stream}
    this.local = null; // this browser's MediaStream while in the call
    this.topology = "mesh";
    this.sfu = null; // the SfuCall while the room goes through Janus
    this.joined = false;
    this.sessionId = null;
    this.iceServers = [];
    this.icePolicy = "all";
    this.quality = null;
    this.selfMute = false;
    this.selfDeaf = false;
    this.selfVideo = false;
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
    this.buttons.camera.addEventListener("click", () => this.setFlags({ selfVideo: !this.selfVideo }));
    this.buttons.deafen.addEventListener("click", () => this.setFlags({ selfDeaf: !this.selfDeaf }));
    this.grid.addEventListener("click", (event) => this.onTileAction(event));
    window.addEventListener("pagehide", () => g.close());
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
    this.quality = d.quality;
    this.onStates(d.voice_states);
    this.applyServerFlags(d.self);
    this.topology = "mesh";
    this.setTopology(d.topology, d.sfu);
    this.root.dataset.voice = "joined";
    this.showStatus("");
    this.render();
  }

  onError(d) {
    if (!d || typeof d.message !== "string" || d.ref === Op.LISTENING_PARTY) return; // the party shows its own
    if (!this.joined && this.local) this.stopLocal(); // a refused join
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
          audio: { echoCancellation: true, noiseSuppression: true },
          video: this.canVideo ? { width: { ideal: 1280 }, height: { ideal: 720 } } : false,
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
    this.gateway.send(Op.VOICE_STATE_UPDATE, {
      guild_id: this.guildId, channel_id: this.channelId, self_mute: this.selfMute, self_deaf: this.selfDeaf,
      self_video: this.selfVideo,
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
        ...sfu, local: this.local, iceServers: this.iceServers, icePolicy: this.icePolicy,
        onchange: () => {
          // The ladder caps what this browser sends to Janus too, once the publisher is negotiated.
          if (call.publisher?.connectionState === "connected" && !call.capped && this.quality) {
            call.capped = true;
            this.applyQuality(this.quality);
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

  /** End the call on this page (the server already knows, or is told by `leave`). */
  hangUp(message) {
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
  }

  setFlags({ selfMute = this.selfMute, selfDeaf = this.selfDeaf, selfVideo = this.selfVideo }) {
    if (!this.joined) return;
    // As in Discord, deafening also mutes, and unmuting undeafens.
    if (selfDeaf && !this.selfDeaf) selfMute = true;
    if (!selfMute && this.selfMute) selfDeaf = false;
    this.selfMute = selfMute;
    this.selfDeaf = selfDeaf;
    this.selfVideo = selfVideo && (this.local?.getVideoTracks().length || 0) > 0;
    this.applyTrackFlags();
    this.gateway.send(Op.VOICE_STATE_UPDATE, {
      guild_id: this.guildId, channel_id: this.channelId, self_mute: this.selfMute, self_deaf: this.selfDeaf,
      self_video: this.selfVideo,
    });
    this.render();
  }

  applyServerFlags(state) {
    this.serverMute = !!(state?.mute || state?.suppress);
    this.serverDeaf = !!state?.deaf;
    this.applyTrackFlags();
  }

  applyTrackFlags() {
    // Tracks are disabled rather than removed: the senders stay and nothing is renegotiated.
    for (const t of this.local?.getAudioTracks() || []) t.enabled = !this.selfMute && !this.serverMute;
    for (const t of this.local?.getVideoTracks() || []) t.enabled = this.selfVideo;
    const deaf = !!(this.serverDeaf || this.selfDeaf);
    for (const v of this.grid.querySelectorAll(".voice-tile:not(.me) video")) v.muted = deaf;
  }

  // --- peers: perfect negotiation ---------------------------------------------------------------

  peer(userId) {
    if (this.peers.has(userId)) return this.peers.get(userId);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, iceTransportPolicy: this.icePolicy });
    const link = { polite: this.userId < userId, makingOffer: false, ignoreOffer: false, chain: Promise.resolve(),
                   stream: new MediaStream() };
    this.peers.set(userId, pc);
    this.links.set(userId, link);
    const send = (d) => this.gateway.send(Op.VOICE_SIGNAL, { to: userId, ...d });
    pc.onnegotiationneeded = async () => {
      try {
        link.makingOffer = true;
        await pc.setLocalDescription();
        send({ type: pc.localDescription.type, sdp: pc.localDescription.sdp });
      } catch (err) {
        console.error("voice: could not make an offer", err);
      } finally {
        link.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) send({ type: "candidate", candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] || link.stream;
      if (!streams[0]) link.stream.addTrack(track);
      link.stream = stream;
      this.render();
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected" && this.quality) this.applyQuality(this.quality);
      if (pc.connectionState === "failed") pc.restartIce();
      this.render();
    };
    for (const track of this.local?.getTracks() || []) pc.addTrack(track, this.local);
    return pc;
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
      await pc.setLocalDescription();
      this.gateway.send(Op.VOICE_SIGNAL, { to: d.from, type: "answer", sdp: pc.localDescription.sdp });
    }
  }

  closePeer(userId) {
    const pc = this.peers.get(userId);
    if (pc) pc.close();
    this.peers.delete(userId);
    this.links.delete(userId);
    this.meters.delete(userId);
  }

  /** The ladder step: cap each video sender's bitrate, resolution and frame rate, and audio's bitrate. */
  async applyQuality(step) {
    this.quality = step;
    this.root.dataset.quality = String(step.participants);
    for (const pc of [...this.peers.values(), ...(this.sfu?.publisher ? [this.sfu.publisher] : [])]) {
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
    for (const tile of this.grid.querySelectorAll(".voice-tile")) {
      if (!this.states.has(Number(tile.dataset.userId))) tile.remove();
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
      const stream = me ? this.local : this.links.get(id)?.stream || this.sfu?.streams.get(id);
      if (this.joined && stream && video.srcObject !== stream) {
        video.srcObject = stream;
        video.muted = me || !!(this.serverDeaf || this.selfDeaf);
        video.play().catch(() => {});
      }
      if (this.joined && stream) this.meter(id, stream);
      tile.classList.toggle("has-video", !!stream && stream.getVideoTracks().length > 0 && (me ? this.selfVideo : s.self_video));
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
    this.root.querySelector("#voice-empty").hidden = ids.length > 0;
    this.party?.render();
  }

  showStatus(text) {
    this.status.textContent = text || "";
    this.status.hidden = !text;
  }
}

const root = document.getElementById("voice");
if (root) new VoiceRoom(root).start();
