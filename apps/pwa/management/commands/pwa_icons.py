"""Draw the app's icons from their SVGs (static/icons/smartc.svg and smartc-maskable.svg) with
Chromium, once, when the drawing changes: the PNGs and favicon.ico are committed beside them."""
import io
import os

from django.conf import settings
from django.core.management.base import BaseCommand
from PIL import Image

ICONS = settings.BASE_DIR / "static" / "icons"
# (source SVG, output PNG, size in px)
RENDERS = [
    ("smartc.svg", "icon-192.png", 192),
    ("smartc.svg", "icon-512.png", 512),
    ("smartc-maskable.svg", "maskable-512.png", 512),
    ("smartc-maskable.svg", "apple-touch-icon.png", 180),  # iOS rounds the corners itself
    ("smartc.svg", "favicon-48.png", 48),
]


class Command(BaseCommand):
    help = "Render static/icons/*.png and favicon.ico from the SVG drawings (needs Chromium)."

    def handle(self, *args, **options):
        from playwright.sync_api import sync_playwright

        chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            page = browser.new_page()
            for source, target, size in RENDERS:
                page.set_viewport_size({"width": size, "height": size})
                svg = (ICONS / source).read_text()
                page.set_content('<html><body style="margin:0;background:transparent">'
                                 f'<img src="data:image/svg+xml;base64,{_b64(svg)}" width="{size}" height="{size}">'
                                 "</body></html>")
                png = page.screenshot(omit_background=True, clip={"x": 0, "y": 0, "width": size, "height": size})
                Image.open(io.BytesIO(png)).save(ICONS / target, optimize=True)
                self.stdout.write(f"{target} ({size}x{size})")
            browser.close()
        big = Image.open(ICONS / "icon-512.png")
        big.save(ICONS / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
        (ICONS / "favicon-48.png").unlink()
        self.stdout.write("favicon.ico (16, 32, 48)")


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()
