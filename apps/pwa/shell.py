"""The app shell the service worker precaches: the site's own CSS, JS and icons and the offline
page, and a version derived from their bytes, so that a deploy that changes any of them changes
/sw.js and the browser installs the new worker (which drops the old cache)."""
import hashlib
import os
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

# Folders of static/ whose files make the shell. Never media, never a page that checks permissions.
SHELL_FOLDERS = ("css", "js", "icons")
SHELL_SUFFIXES = (".css", ".js", ".png", ".svg", ".ico")
# Third-party files every page loads (from npm, STATICFILES_DIRS): Turbo Drive, in base.html's head.
SHELL_VENDOR = ("vendor/turbo/turbo.es2017-esm.js",)
OFFLINE_TEMPLATE = settings.BASE_DIR / "templates" / "pwa" / "offline.html"


def shell() -> tuple[str, list[str]]:
    """(version, URLs to precache). The files are hashed again only when one of them changed
    (its size or time), so an edit under `make run` reaches the browser without a restart."""
    files = []
    paths = [path for folder in SHELL_FOLDERS for path in sorted(_static_files(folder))]
    for path in [*paths, *SHELL_VENDOR]:
        source = finders.find(path)
        if source:
            stat = os.stat(source)
            files.append((path, source, stat.st_mtime_ns, stat.st_size))
    stat = os.stat(OFFLINE_TEMPLATE)
    return _shell(tuple(files), (stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _shell(files: tuple, _offline_stat: tuple) -> tuple[str, list[str]]:
    digest = hashlib.sha256()
    for path, source, _mtime, _size in files:
        with open(source, "rb") as f:
            digest.update(path.encode() + b"\0" + f.read())
    digest.update(OFFLINE_TEMPLATE.read_bytes())
    urls = [static(path) for path, *_ in files] + [reverse("pwa:offline")]
    return digest.hexdigest()[:16], urls


def _static_files(folder: str):
    """Relative static paths under `folder` of the project's own static directory."""
    root = settings.BASE_DIR / "static"
    for path in (root / folder).rglob("*"):
        if path.is_file() and path.suffix in SHELL_SUFFIXES:
            yield path.relative_to(root).as_posix()
