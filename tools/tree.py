"""Copies of the working tree for tools that must run the project where they may change files (bench, generate)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

# The root Pulumi.<stack>.yaml files are the user's to edit (Pulumi.yaml is the project file).
USER_STACK_FILE = re.compile(r"Pulumi\.(?!yaml$)[^/]+\.ya?ml")


def copy_working_tree(root: Path, dest: Path, *, user_stacks: bool = True) -> Path:
    """Copy root's files as they are on disk, tracked, and untracked but not ignored (so no virtualenvs, no build
    output), into dest; without the root stack files when user_stacks is False. root must be a git checkout."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for rel in filter(None, listed):
        if (root / rel).is_file() and (user_stacks or not USER_STACK_FILE.fullmatch(rel)):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, dest / rel)
    return dest
