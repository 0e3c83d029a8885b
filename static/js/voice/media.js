// This browser's media in a voice room: the microphone (and the camera, where the member may send
// video) taken when joining, the camera turned on and off, and the screen shared. The microphone is
// muted by disabling its track (a muted track sends silence), so mute is instant and needs no
// renegotiation; the camera and the screen are added and removed, and the room then brings every
// connection's senders in line (VoiceRoom.sendMedia).
const CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 } };

export class LocalMedia {
  constructor(room) {
    this.room = room;
    this.stream = null; // the microphone, and the camera while on, while in the call
    this.screen = null; // the screen share's MediaStream while sharing
    this.camera = false; // the camera is on
  }

  get sharing() {
    return Boolean(this.screen);
  }

  /** The camera's track while it is on, else null. */
  cameraTrack() {
    return (this.camera && this.stream?.getVideoTracks()[0]) || null;
  }

  screenTrack() {
    return this.screen?.getVideoTracks()[0] || null;
  }

  /** Take the microphone (with the camera when `video`), or only the microphone if that fails;
   *  false when there is no microphone to be had. */
  async open(video) {
    if (!this.stream) {
      try {
        this.stream = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true }, video: video ? CAMERA : false,
        });
      } catch {
        try {
          this.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
        } catch {
          return false;
        }
      }
    }
    this.camera = this.stream.getVideoTracks().length > 0;
    return true;
  }

  /** Let the microphone be heard, or not. */
  setMuted(muted) {
    for (const t of this.stream?.getAudioTracks() || []) t.enabled = !muted;
  }

  /** Camera on: capture it (again) and send it to every peer; off: stop it (the light goes out) and
   * take it off every connection. Either renegotiates; `announce` tells the server. */
  async setCamera(on, { announce = true } = {}) {
    const room = this.room;
    if (!room.joined || !this.stream || on === this.camera) return;
    if (on) {
      let track = this.stream.getVideoTracks()[0];
      if (!track) {
        try {
          [track] = (await navigator.mediaDevices.getUserMedia({ video: CAMERA })).getVideoTracks();
        } catch {
          room.showStatus(room.i18n.noCamera);
          return;
        }
        if (!room.joined || !this.stream || this.camera) return track.stop(); // left, or clicked twice
        this.stream.addTrack(track);
      }
      this.camera = true;
    } else {
      for (const t of this.stream.getVideoTracks()) {
        this.stream.removeTrack(t);
        t.stop();
      }
      this.camera = false;
    }
    room.sendMedia();
    if (announce) room.sendFlags();
    room.render();
  }

  async shareScreen() {
    const room = this.room;
    if (!room.joined || this.screen) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    } catch (err) {
      if (err.name !== "NotAllowedError") room.showStatus(room.i18n.noScreen); // else the user cancelled
      return;
    }
    const [track] = stream.getVideoTracks();
    if (!room.joined || this.screen || !track) return stream.getTracks().forEach((t) => t.stop());
    track.contentHint = "detail"; // text stays sharp; the encoder drops frames before resolution
    // The browser's own "Stop sharing" ends the track.
    track.addEventListener("ended", () => this.screen === stream && this.stopScreen());
    this.screen = stream;
    room.sendMedia();
    room.sendFlags();
    room.render();
  }

  stopScreen({ announce = true } = {}) {
    if (!this.screen) return;
    const room = this.room;
    for (const t of this.screen.getTracks()) t.stop();
    this.screen = null;
    room.sendMedia();
    if (announce && room.joined) room.sendFlags();
    room.render();
  }

  /** Let go of the microphone, the camera and the screen. */
  stop() {
    for (const t of this.stream?.getTracks() || []) t.stop();
    this.stream = null;
    for (const t of this.screen?.getTracks() || []) t.stop();
    this.screen = null;
  }
}
