"""The gateway's uvicorn protocol (apps/realtime/server.py) and the hub agree on the name of the
synchronous write they share; the module loads before Django is set up, as uvicorn imports it."""
import subprocess
import sys

from apps.realtime import frames, hub, server


def test_the_server_offers_the_write_under_the_name_the_hub_looks_for():
    assert server.SEND_FRAME == hub.SEND_FRAME


def test_the_protocol_module_imports_without_django_set_up():
    done = subprocess.run([sys.executable, "-c", "import apps.realtime.server"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_frame_written_by_hand_is_the_one_the_websockets_library_writes():
    """The synchronous write frames an uncompressed text by hand: every length class of RFC 6455 (7-bit,
    16-bit, 64-bit) must come out byte for byte as the library's own server frame, which clients parse."""
    from websockets.frames import Frame, Opcode

    for length in (0, 1, 125, 126, 127, 65535, 65536, 70000):
        data = ("é" * length).encode()[:length]
        assert frames.text_header(len(data)) + data == Frame(Opcode.TEXT, data).serialize(mask=False), length
        assert frames.payload(frames.text_frame(data)) == data


def test_only_a_whole_websocket_upgrade_head_skips_the_http_parser():
    head = (b"GET /ws/gateway/ HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    assert server.is_websocket_upgrade(head)
    assert server.is_websocket_upgrade(head.replace(b"Upgrade: websocket", b"UPGRADE: WebSocket"))
    assert not server.is_websocket_upgrade(head[:-2])  # the head is not whole yet
    assert not server.is_websocket_upgrade(head + b"GET / HTTP/1.1\r\n\r\n")  # something after it
    assert not server.is_websocket_upgrade(head.replace(b"GET ", b"POST "))
    assert not server.is_websocket_upgrade(head.replace(b"Upgrade: websocket", b"Upgrade: h2c"))
    assert not server.is_websocket_upgrade(head.replace(b"keep-alive, Upgrade", b"keep-alive"))
    assert not server.is_websocket_upgrade(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


def test_a_broadcasts_prebuilt_frame_is_each_members_frame_as_the_library_writes_it():
    """hub.Event builds a frame's header once per length: with the member's ending appended it must be
    the library's frame of the member's whole text, whatever the ending's length, across the 7-bit,
    16-bit and 64-bit length classes."""
    from websockets.frames import Frame, Opcode

    for size in (100, 120, 123, 124, 125, 660, 65530, 65534, 70000):
        framed = frames.Framed(b"x" * size)
        for seq in (1, 9, 10, 99, 100, 12345, 10**12):
            ending = b"%d}" % seq
            text = framed.head + ending
            assert framed[len(ending)] + ending == Frame(Opcode.TEXT, text).serialize(mask=False), (size, seq)
