"""The layering contract (pyproject.toml, [tool.importlinter]): apps import only the apps below them.
The check is import-linter's `lint-imports`, as `make lint` runs it; these tests run it in `make
test` and show that it catches an upward import, even one written inside a function."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("apps", "smartc", "celery_app")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the project's packages and its contract, to add an import to."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_project_keeps_its_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "upward"), [
    # The bottom floor reaching for the gateway, as core's publisher once did to send events.
    ("apps/core/events.py", "def send_now():\n    from apps.realtime import hub  # noqa\n",
     "apps.core.events -> apps.realtime.hub"),
    # chat calling moderation directly instead of through its slots.
    ("apps/chat/services.py", "from apps.moderation import hooks as moderation_hooks  # noqa\n",
     "apps.chat.services -> apps.moderation.hooks"),
    # Two apps of one layer that must not know each other.
    ("apps/tracks/selectors.py", "from apps.dms import selectors as dm_selectors  # noqa\n",
     "apps.tracks.selectors -> apps.dms.selectors"),
])
def test_an_upward_import_breaks_the_contract(tree, module, line, upward):
    with open(tree / module, "a") as f:
        f.write("\n\n" + line)
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 broken" in result.stdout
    assert upward in result.stdout
