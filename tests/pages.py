"""A small web server on loopback for link-preview tests: Open Graph pages, an image, redirects
(to private addresses too), and answers that drip or never end. `hosts` records each request's
Host header (the fetcher must keep the name while it connects to the pinned address)."""
from __future__ import annotations

import io
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def png_bytes(size=(640, 360), color=(200, 60, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def og_page(title: str, *, description: str = "", image: str = "/cover.png", site: str = "Test Pages",
            extra: str = "") -> bytes:
    return f"""<!doctype html><html><head><title>fallback</title>
<meta property="og:title" content="{title}">
<meta property="og:description" content="{description}">
<meta property="og:site_name" content="{site}">
<meta property="og:image" content="{image}">{extra}
</head><body>body</body></html>""".encode()


class _Handler(BaseHTTPRequestHandler):
    routes: dict = {}
    hosts: list = []
    paths: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.hosts.append(self.headers.get("Host"))
        self.paths.append(self.path)
        route = self.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404)
            return
        kind, value = route
        try:
            if kind == "page":
                self._answer(200, "text/html; charset=utf-8", value)
            elif kind == "image":
                self._answer(200, "image/png", value)
            elif kind == "json":
                self._answer(200, "application/json", value)
            elif kind == "redirect":
                self.send_response(302)
                self.send_header("Location", value)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif kind == "drip":  # headers, then a byte a second, forever
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                while True:
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(value)
            elif kind == "endless":  # as fast as it can, never ending
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                chunk = b"<p>" + b"x" * 65533
                while True:
                    self.wfile.write(chunk)
            elif kind == "slow_headers":  # the status line, then a header byte a second
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                while True:
                    self.wfile.write(b"X")
                    self.wfile.flush()
                    time.sleep(value)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _answer(self, status, content_type, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serving(routes: dict):
    """Serve `routes` ({path: (kind, value)}) on 127.0.0.1; yields the server, with `.base` and `.hosts`."""
    handler = type("Handler", (_Handler,), {"routes": routes, "hosts": [], "paths": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    server.port = server.server_address[1]
    server.hosts, server.paths = handler.hosts, handler.paths
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
