"""The quality ladder and the topology seam: what each browser may send as a room grows, and when a
room needs the SFU."""
import pytest

from apps.rtc import quality
from apps.rtc.errors import SfuUnavailable


def test_each_stream_gets_smaller_as_the_mesh_grows():
    steps = [quality.step_for(n) for n in (1, 2, 3, 4)]
    assert [(s["max_height"], s["max_bitrate"]) for s in steps] == [
        (720, 1_500_000), (720, 800_000), (540, 500_000), (360, 300_000)]
    # What a browser uploads in all (one stream per other participant) stays within a home uplink.
    assert all(s["max_bitrate"] * (n - 1) <= 1_500_000 for n, s in zip((1, 2, 3, 4), steps, strict=True))
    assert quality.step_for(9)["max_height"] == 360  # past the table: its last step
    assert quality.step_for(0)["participants"] == 1


def test_past_the_mesh_size_a_room_needs_the_sfu(settings):
    settings.RTC_MESH_MAX = 4
    settings.JANUS_URL = ""
    assert quality.topology_for(4) == quality.MESH
    with pytest.raises(SfuUnavailable) as exc:
        quality.topology_for(5)
    assert exc.value.code == "sfu_unavailable"
    assert exc.value.message == "This room is full for a direct call; no media server is configured."
    settings.JANUS_URL = "http://127.0.0.1:8088/janus"
    assert quality.topology_for(5) == quality.SFU
