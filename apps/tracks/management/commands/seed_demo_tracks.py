"""A demo track for `make run`: Carol uploads "Lounge Chords" (a short synthesised chord loop) to
the demo guild through the same service as any upload, so the media pipeline runs on it (in-process
with the embedded defaults), and makes it public: a signed-out visitor opens /tracks/1, its embed
and its oEmbed. Running it again changes nothing."""
import tempfile
from pathlib import Path

import numpy as np
from django.core.files import File
from django.core.management.base import BaseCommand

from apps.accounts.models import User
from apps.guilds.management.commands.seed_demo import GUILD_NAME
from apps.guilds.models import Guild
from apps.tracks import services, sharing, synth
from apps.tracks.models import Track

TITLE = "Lounge Chords"
RATE = 44_100
# Four bars of Am7 – Dmaj9 – Gmaj7 – Cmaj7 (Hz), two seconds each, played twice.
CHORDS = [(220.0, 261.6, 329.6, 392.0), (293.7, 370.0, 440.0, 329.6), (196.0, 246.9, 293.7, 370.0),
          (261.6, 329.6, 392.0, 493.9)] * 2


def chord_loop() -> np.ndarray:
    """Stereo float samples: soft chords with a gentle attack and decay, slightly wider on the right."""
    bar = np.arange(2 * RATE) / RATE
    envelope = np.minimum(bar / 0.05, 1.0) * np.exp(-bar * 1.2)
    left, right = [], []
    for chord in CHORDS:
        left.append(sum(np.sin(2 * np.pi * f * bar) for f in chord) * envelope * 0.18)
        right.append(sum(np.sin(2 * np.pi * f * 1.003 * bar) for f in chord) * envelope * 0.18)
    return np.stack([np.concatenate(left), np.concatenate(right)]).astype(np.float32)


class Command(BaseCommand):
    help = "Upload the demo track to the demo guild (idempotent)."

    def handle(self, *args, **options):
        guild = Guild.objects.filter(name=GUILD_NAME).first()
        carol = User.objects.filter(username="carol").first()
        if guild is None or carol is None:
            return
        seeded = Track.objects.filter(guild=guild, title=TITLE).first()
        if seeded is not None:
            # Public, so a signed-out visitor opens it, its embed and its oEmbed (docs/tracks.md).
            sharing.set_track_audience(actor=carol, track_id=seeded.id, audience=Track.Audience.PUBLIC)
            return
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "lounge-chords.wav"
            synth.write_samples(path, chord_loop(), muxer="wav", encoder="pcm_s16le", rate=RATE)
            with open(path, "rb") as fh:
                upload = File(fh, name=path.name)
                upload.size = path.stat().st_size
                track = services.upload_track(uploader=carol, guild_id=guild.id, upload=upload, title=TITLE,
                                              description="Four chords, looped twice. Made for the demo.",
                                              genre="Lounge", tags="demo, chords")
        track.refresh_from_db()
        sharing.set_track_audience(actor=carol, track_id=track.id, audience=Track.Audience.PUBLIC)
        # A little activity from the other demo members, so the stream and trending are not empty.
        for name in ("alice", "bob"):
            member = User.objects.filter(username=name).first()
            if member is not None and track.state == Track.State.READY:
                services.follow_user(follower=member, user_id=carol.id)
                services.record_play(user=member, track_id=track.id)
        if User.objects.filter(username="alice").exists() and track.state == Track.State.READY:
            services.like_track(user=User.objects.get(username="alice"), track_id=track.id)
        services.recompute_trending()
        self.stdout.write(f"Demo track: {TITLE} ({track.state}, public) at /tracks/{track.id}")
