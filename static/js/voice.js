// A voice/video room in the browser. The server says who is in the room (VOICE_STATES and
// VOICE_STATE_UPDATE), lets this page in (VOICE_READY: the session, TURN credentials, the topology
// and the quality ladder) and how much each browser may send (the ladder, applied to every sender
// with RTCRtpSender.setParameters). The media go over a full mesh of RTCPeerConnections
// (voice/mesh.js) until the room passes RTC_MESH_MAX, when the server switches it to the Janus SFU
// (topology "sfu"): sfu.js then carries them instead. voice/media.js holds this browser's
// microphone, camera and screen; voice/tiles.js draws the room; party.js plays a listening party
// beside it. Tests read window.smartcVoice.peers (mesh) and window.smartcVoice.sfuSubscribers (SFU).
import { ApiError, get, send } from "./api.js";
import { Gateway, Op } from "./gateway.js";
import { Presence } from "./members.js";
import { PartyPlayer } from "./party.js";
import { SfuCall } from "./sfu.js";
import { Sidebar } from "./sidebar.js";
import { LocalMedia } from "./voice/media.js";
import { Mesh, capSenders } from "./voice/mesh.js";
import { RoomView } from "./voice/tiles.js";

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
    this.status = root.querySelector("#voice-status");
    this.states = new Map(); // user id → voice state, for this channel
    this.media = new LocalMedia(this);
    this.mesh = new Mesh(this);
    this.view = new RoomView(this, root);
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
    this.serverMute = false;
    this.serverDeaf = false;
  }

  // What the tests (and the tiles) read: the mesh's connections and links, this browser's media.
  get peers() {
    return this.mesh.peers;
  }

  get links() {
    return this.mesh.links;
  }

  get local() {
    return this.media.stream;
  }

  get screen() {
    return this.media.screen;
  }

  /** Feed id (user id) → RTCPeerConnection receiving it from Janus. */
  get sfuSubscribers() {
    return this.sfu ? this.sfu.subscribers : new Map();
  }

  get deafened() {
    return this.serverDeaf || this.selfDeaf;
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
    this.view.start();
    window.addEventListener("pagehide", () => g.close());
    // A new network (Wi-Fi to mobile, a VPN, a cable plugged in) leaves the old ICE paths dead.
    window.addEventListener("online", () => this.onNetworkChange());
    navigator.connection?.addEventListener?.("change", () => this.onNetworkChange());
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
      if (this.joined && d.user_id !== this.userId && this.topology === "mesh") this.mesh.peer(d.user_id);
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
    if (this.media.camera && !d.self?.self_video) this.media.setCamera(false, { announce: false });
    if (this.media.screen && !d.self?.self_stream) this.media.stopScreen({ announce: false });
    this.topology = "mesh";
    this.setTopology(d.topology, d.sfu);
    this.root.dataset.voice = "joined";
    this.showStatus("");
    this.render();
  }

  onError(d) {
    if (!d || typeof d.message !== "string" || d.ref === Op.LISTENING_PARTY) return; // the party shows its own
    if (!this.joined && this.media.stream) this.media.stop(); // a refused join
    if (this.joined && d.ref === Op.VOICE_STATE_UPDATE && d.permission === "STREAM") {
      // Turning the camera or the screen on was refused: stop what the server did not take.
      const mine = this.states.get(this.userId);
      if (this.media.screen && !mine?.self_stream) this.media.stopScreen({ announce: false });
      if (this.media.camera && !mine?.self_video) this.media.setCamera(false, { announce: false });
    }
    this.showStatus(d.message);
    this.render();
  }

  onSignal(d) {
    if (!this.joined || this.topology !== "mesh" || d.channel_id !== this.channelId || !this.states.has(d.from)) return;
    this.mesh.onSignal(d);
  }

  onNetworkChange() {
    if (this.joined && this.topology === "mesh") this.mesh.restartAll();
  }

  // --- this browser's side ----------------------------------------------------------------------

  async join() {
    if (this.joined) return;
    this.showStatus(this.i18n.joining);
    if (!(await this.media.open(this.canVideo))) {
      this.showStatus(this.i18n.noMicrophone);
      return;
    }
    this.applyTrackFlags();
    this.sendFlags();
  }

  sendFlags() {
    this.gateway.send(Op.VOICE_STATE_UPDATE, {
      guild_id: this.guildId, channel_id: this.channelId, self_mute: this.selfMute, self_deaf: this.selfDeaf,
      self_video: this.media.camera, self_stream: this.media.sharing,
    });
  }

  /** Carry the call over the mesh or through Janus, as the server says; a switch tears down the other. */
  setTopology(topology, sfu) {
    if (!this.joined) return;
    if (topology === "sfu" && sfu) {
      if (this.topology === "sfu" && this.sfu) return;
      this.topology = "sfu";
      for (const id of [...this.mesh.peers.keys()]) this.closePeer(id);
      const call = (this.sfu = new SfuCall({
        ...sfu, local: this.media.stream, video: this.canVideo, iceServers: this.iceServers, icePolicy: this.icePolicy,
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
      for (const id of this.states.keys()) if (id !== this.userId) this.mesh.peer(id);
    }
    this.render();
  }

  stopSfu() {
    this.sfu?.stop();
    this.sfu = null;
  }

  leave() {
    this.gateway.send(Op.VOICE_STATE_UPDATE, { guild_id: this.guildId, channel_id: null });
    this.hangUp();
    this.media.stop();
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
    let body = null;
    let failure = null;
    try {
      body = await get("/api/rtc/ice-servers", { retry: false }); // this schedule is its own retry
    } catch (err) {
      failure = err;
      if (err.unreachable) console.error("voice: could not renew the ICE servers", err);
    }
    if (!this.joined) return;
    if (body) {
      this.iceServers = body.ice_servers || [];
      ttl = body.ttl || ttl;
      for (const pc of [...this.mesh.peers.values(), ...(this.sfu?.connections() || [])]) {
        try {
          pc.setConfiguration({ ...pc.getConfiguration(), iceServers: this.iceServers });
        } catch (err) {
          console.error("voice: could not update a connection's ICE servers", err);
        }
      }
      this.sfu?.setIceServers(this.iceServers);
    } else if (failure instanceof ApiError && failure.status && failure.status < 500 && failure.status !== 429) {
      return; // not in a call any more: the gateway tells this page so
    }
    this.scheduleIceRenewal(ttl);
  }

  /** End the call on this page (the server already knows, or is told by `leave`). */
  hangUp(message) {
    clearTimeout(this.iceRenewal);
    this.iceRenewal = null;
    for (const id of [...this.mesh.peers.keys()]) this.closePeer(id);
    this.stopSfu();
    this.topology = "mesh";
    this.joined = false;
    this.sessionId = null;
    this.root.dataset.voice = "idle";
    if (message) {
      this.media.stop();
      this.showStatus(message);
    }
    this.render();
  }

  closePeer(userId) {
    this.mesh.close(userId);
    this.view.forget(userId);
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

  /** Bring every connection's senders in line with what this page sends now. */
  sendMedia() {
    if (this.topology === "sfu") {
      // Janus takes one video per publisher: the screen replaces the camera while shared.
      this.sfu?.sendVideo(this.media.screenTrack() || this.media.cameraTrack());
      return;
    }
    this.mesh.syncAll();
  }

  applyServerFlags(state) {
    this.serverMute = !!(state?.mute || state?.suppress);
    this.serverDeaf = !!state?.deaf;
    this.applyTrackFlags();
  }

  applyTrackFlags() {
    this.media.setMuted(this.selfMute || this.serverMute);
    this.view.setDeaf(this.deafened);
  }

  /** The ladder step: cap every sender of the mesh (or of the SFU publisher), or of `connections`. */
  async applyQuality(step, connections = null) {
    this.quality = step;
    this.root.dataset.quality = String(step.participants);
    await capSenders(connections || [...this.mesh.peers.values(), ...(this.sfu?.publisher ? [this.sfu.publisher] : [])],
      step);
  }

  // --- moderation -------------------------------------------------------------------------------

  /** A moderator's button on a participant's tile: mute them for everyone, or disconnect them. */
  async moderate(userId, action) {
    const body = action === "mute" ? { mute: !this.states.get(userId)?.mute } : { channel_id: null };
    try {
      await send("PATCH", `/api/guilds/${this.guildId}/voice-states/${userId}`, body);
    } catch (err) {
      this.showStatus(err.message || this.i18n.failed);
    }
  }

  // --- drawing ----------------------------------------------------------------------------------

  nameOf(userId) {
    return this.view.nameOf(userId);
  }

  render() {
    this.view.render();
    this.party?.render();
  }

  showStatus(text) {
    this.status.textContent = text || "";
    this.status.hidden = !text;
  }
}

const root = document.getElementById("voice");
if (root) new VoiceRoom(root).start();
