// What a voice room shows: a tile per participant (their camera, or their name; their flags; the
// moderators' mute and disconnect buttons), a tile of its own for a shared screen, the speaking
// indicators (the RMS of each participant's audio), and the call's buttons.
import { fillText, h } from "../dom.js";

const SPEAKING_LEVEL = 0.02; // RMS of the waveform above which a participant shows as speaking
const SPEAKING_POLL_MS = 120;

function hasVideo(stream) {
  return stream.getVideoTracks().some((t) => t.readyState === "live");
}

export class RoomView {
  constructor(room, root) {
    this.room = room;
    this.root = root;
    this.grid = root.querySelector("#voice-tiles");
    this.buttons = Object.fromEntries(["join", "leave", "mute", "camera", "deafen", "screen"]
      .map((name) => [name, root.querySelector(`#voice-${name}`)]));
    this.audio = null; // AudioContext for the speaking indicators
    this.meters = new Map(); // user id → analyser
  }

  start() {
    const room = this.room;
    const media = room.media;
    this.buttons.join.addEventListener("click", () => room.join());
    this.buttons.leave.addEventListener("click", () => room.leave());
    this.buttons.mute.addEventListener("click", () => room.setFlags({ selfMute: !room.selfMute }));
    this.buttons.camera.addEventListener("click", () => media.setCamera(!media.camera));
    this.buttons.screen.addEventListener("click", () => (media.screen ? media.stopScreen() : media.shareScreen()));
    this.buttons.deafen.addEventListener("click", () => room.setFlags({ selfDeaf: !room.selfDeaf }));
    this.grid.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) room.moderate(Number(button.closest(".voice-tile").dataset.userId), button.dataset.action);
    });
    setInterval(() => this.measure(), SPEAKING_POLL_MS);
  }

  nameOf(userId) {
    const el = document.querySelector(`.member-list .member[data-user-id="${userId}"] .member-name`);
    return el ? el.textContent.trim() : fillText(this.room.i18n.someone, { id: userId });
  }

  render() {
    const room = this.room;
    const { i18n, states, media, mesh } = room;
    const ids = [...states.keys()];
    for (const tile of this.grid.querySelectorAll(".voice-tile[data-user-id]")) {
      if (!states.has(Number(tile.dataset.userId))) tile.remove();
    }
    for (const screen of this.grid.querySelectorAll(".voice-screen")) {
      if (!states.has(Number(screen.dataset.screenOf))) screen.remove();
    }
    for (const id of ids) {
      const s = states.get(id);
      let tile = this.grid.querySelector(`.voice-tile[data-user-id="${id}"]`);
      if (!tile) {
        tile = this.tile(id);
        this.grid.append(tile);
      }
      const me = id === room.userId;
      tile.classList.toggle("me", me);
      const flags = [];
      if (s.mute) flags.push(i18n.serverMuted);
      else if (s.self_mute) flags.push(i18n.muted);
      if (s.deaf || s.self_deaf) flags.push(i18n.deafened);
      tile.querySelector(".voice-flags").textContent = flags.join(" · ");
      const muteButton = tile.querySelector('button[data-action="mute"]');
      if (muteButton) muteButton.textContent = s.mute ? i18n.unmuteForAll : i18n.muteForAll;
      const video = tile.querySelector("video");
      const sfuStream = room.sfu?.streams.get(id);
      const stream = me ? media.stream : mesh.links.get(id)?.stream || sfuStream;
      if (room.joined && stream) {
        this.attach(video, stream);
        this.meter(id, stream);
      }
      // Through Janus a shared screen takes the place of the camera in the participant's tile.
      const wanted = me ? media.camera : s.self_video || (!!sfuStream && s.self_stream);
      tile.classList.toggle("has-video", room.joined && wanted && !!stream && hasVideo(stream));
      this.renderScreen(id, tile, me ? media.screen : mesh.links.get(id)?.screen, me || s.self_stream);
      const pc = mesh.peers.get(id) || room.sfu?.subscribers.get(id);
      tile.dataset.connection = me ? "local" : pc ? pc.connectionState : "none";
    }
    this.root.dataset.participants = String(ids.length);
    this.renderButtons();
    this.root.querySelector("#voice-empty").hidden = ids.length > 0;
  }

  tile(id) {
    const room = this.room;
    const tile = h("div", { class: "voice-tile", dataset: { userId: String(id) } },
      h("video", { autoplay: true, playsinline: true }),
      h("span", { class: "voice-name", text: this.nameOf(id) }), h("span", { class: "voice-flags" }));
    if (id !== room.userId) {
      const tools = h("span", { class: "voice-tools" });
      if (room.canMute) tools.append(h("button", { type: "button", class: "small", dataset: { action: "mute" } }));
      if (room.canMove) {
        tools.append(h("button", { type: "button", class: "small", dataset: { action: "disconnect" },
                                   text: room.i18n.disconnect }));
      }
      tile.append(tools);
    }
    return tile;
  }

  renderButtons() {
    const { i18n, joined, canVideo, selfDeaf, selfMute, media } = this.room;
    const b = this.buttons;
    b.join.hidden = joined;
    b.leave.hidden = !joined;
    b.mute.hidden = !joined;
    b.camera.hidden = !joined || !canVideo;
    b.deafen.hidden = !joined;
    b.deafen.textContent = selfDeaf ? i18n.undeafen : i18n.deafen;
    b.deafen.setAttribute("aria-pressed", String(selfDeaf));
    b.mute.textContent = selfMute ? i18n.unmute : i18n.mute;
    b.mute.setAttribute("aria-pressed", String(selfMute));
    b.camera.textContent = media.camera ? i18n.cameraOff : i18n.cameraOn;
    b.camera.setAttribute("aria-pressed", String(media.camera));
    b.screen.hidden = !joined || !canVideo || !navigator.mediaDevices?.getDisplayMedia;
    b.screen.textContent = media.screen ? i18n.stopSharing : i18n.shareScreen;
    b.screen.setAttribute("aria-pressed", String(!!media.screen));
  }

  /** Show `stream` in `video`; again when its tracks changed (a camera turned on adds one). */
  attach(video, stream) {
    const key = `${stream.id}:${stream.getTracks().map((t) => t.id).join(",")}`;
    if (video.srcObject === stream && video.dataset.tracks === key) return;
    video.dataset.tracks = key;
    video.srcObject = stream;
    video.muted = video.closest(".me, .voice-screen") !== null || this.room.deafened;
    video.play().catch(() => {});
  }

  /** The other participants are heard, or not (deafened). */
  setDeaf(deaf) {
    for (const v of this.grid.querySelectorAll(".voice-tile[data-user-id]:not(.me) video")) v.muted = deaf;
  }

  /** The participant's screen share, in a tile of its own right after theirs, while it has video. */
  renderScreen(userId, tile, stream, sharing) {
    let screen = this.grid.querySelector(`.voice-screen[data-screen-of="${userId}"]`);
    if (!(this.room.joined && sharing && stream && hasVideo(stream))) {
      screen?.remove();
      return;
    }
    if (!screen) {
      screen = h("div", { class: "voice-tile voice-screen has-video", dataset: { screenOf: String(userId) } },
        h("video", { autoplay: true, playsinline: true, muted: true }),
        h("span", { class: "voice-name", text: fillText(this.room.i18n.screenOf, { name: this.nameOf(userId) }) }));
    }
    if (tile.nextElementSibling !== screen) tile.after(screen);
    this.attach(screen.querySelector("video"), stream);
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

  forget(userId) {
    this.meters.delete(userId);
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
}
