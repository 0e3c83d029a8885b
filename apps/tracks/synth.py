"""Audio files made from sample arrays: the demo track (seed_demo_tracks) and the test suite's known signals."""
from __future__ import annotations

from fractions import Fraction

import av
import numpy as np


def write_samples(path, channels: np.ndarray, *, muxer: str, encoder: str, rate: int, tags: dict | None = None,
                  options: dict | None = None, bit_rate: int | None = None):
    """Encode `channels` (shape: channels x samples, floats in -1..1) into a file. Returns `path`."""
    layout = "stereo" if len(channels) == 2 else "mono"
    with av.open(str(path), "w", format=muxer, options=options or {}) as container:
        container.metadata.update(tags or {})
        stream = container.add_stream(encoder, rate=rate, layout=layout)
        if bit_rate:
            stream.bit_rate = bit_rate
        container.start_encoding()  # writes the header even when there are no samples
        for start in range(0, channels.shape[1], 4096):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(channels[:, start:start + 4096], dtype=np.float32), format="fltp", layout=layout
            )
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
