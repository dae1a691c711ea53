"""The README's layout section matches the tree: every top-level folder is described, every folder described exists."""

import re
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def layout_block() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```\nmanage.py\n")
    return text[start : text.index("```", start + 3)]


def test_every_top_level_folder_is_in_the_readme_layout_and_every_listed_folder_exists():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    folders = {line.split("/", 1)[0] for line in tracked.splitlines() if "/" in line and not line.startswith(".")}
    block = layout_block()
    listed = set(re.findall(r"^([a-z_]+)/ ", block, re.M))
    assert folders - listed == set(), "folders missing from the README's layout section"
    assert listed - folders == set(), "the README's layout section lists folders that do not exist"
    for sub in re.findall(r"^  ([a-z_]+)/ ", block, re.M):
        assert (ROOT / "wedsync_ops" / sub).is_dir(), sub
