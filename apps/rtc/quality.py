"""How each browser sends in a room, and which topology a room uses.

In a full mesh every participant uploads one stream per other participant, so the upload a
browser needs grows with the room: the ladder caps each sent stream by participant count. The
steps assume a home uplink of about 2 Mbps shared by up to three outgoing streams."""
from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext

from .errors import SfuUnavailable

MESH = "mesh"
SFU = "sfu"

# participants → (max video bitrate in bit/s, max video height in pixels, max frame rate)
LADDER: dict[int, tuple[int, int, int]] = {
    1: (1_500_000, 720, 30),
    2: (800_000, 720, 30),
    3: (500_000, 540, 24),
    4: (300_000, 360, 20),
}
AUDIO_BITRATE = 32_000  # Opus voice, whatever the room size


def step_for(participants: int) -> dict:
    """The ladder step for a room of this size (past the table, its last step)."""
    count = max(1, participants)
    bitrate, height, fps = LADDER.get(count) or LADDER[max(LADDER)]
    return {"participants": count, "max_bitrate": bitrate, "max_height": height, "max_framerate": fps,
            "audio_bitrate": AUDIO_BITRATE}


def topology_for(participants: int) -> str:
    """The topology of a room about to have this many participants: a mesh up to RTC_MESH_MAX, then
    the SFU. This is the seam where Janus comes in; with JANUS_URL unset such a room is refused."""
    if participants <= settings.RTC_MESH_MAX:
        return MESH
    if not settings.JANUS_URL:
        raise SfuUnavailable(gettext("This room is full for a direct call; no media server is configured."))
    return SFU
