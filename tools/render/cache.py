"""A folder of renders keyed by everything a render reads, by content: the program's files (not their path), the
stack's resolved config, the version lock's text and the secret salt. The test suite opts in (tests/support): its
xdist workers share one folder per run, and the subprocesses that run the program's tools on a copy of this tree
(tests/tools/test_user_stacks.py's marked tests, tests/tools/test_generate.py's generators) read the renders the
workers made, since a copy of the same files has the same key. Any changed input is another key: never stale.
`make plan` and the other tools render afresh unless WEBSTACK_RENDER_CACHE names a folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .plan import Plan

RENDER_CACHE_ENV = "WEBSTACK_RENDER_CACHE"
# What a render reads of the project (measured with an audit hook on `open`: the program, its data files, the
# app's files the image digest is taken from, Pulumi.yaml's project name) and the engine itself.
PROGRAM_FILES = ("__main__.py", "Pulumi.yaml")
PROGRAM_FOLDERS = ("infra", "app", "tools/render")


def program_digest(root: Path) -> str:
    """A digest of the program's files under `root`, by relative path and bytes: a copy of the tree has the same."""
    digest = hashlib.sha256(sys.version.encode())
    paths = [root / name for name in PROGRAM_FILES]
    for folder in PROGRAM_FOLDERS:
        paths += sorted(p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in paths:
        digest.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def render_key(stack: str, config: Mapping[str, Any], root: Path, lock_path: Path, secret_salt: bytes | None) -> str:
    lock_text = lock_path.read_bytes() if lock_path.is_file() else b"<no lock>"
    inputs = json.dumps([stack, dict(config), program_digest(root), hashlib.sha256(lock_text).hexdigest(),
                         secret_salt.hex() if secret_salt is not None else None], sort_keys=True, default=repr)
    return hashlib.sha256(inputs.encode()).hexdigest()


def cached(folder: Path, key: str, make: Callable[[], Plan]) -> Plan:
    """The plan `make()` renders, rendered once for all the processes sharing `folder`: the first takes the key's
    lock and renders (a failed render raises and writes nothing, so the next one renders and fails on its own);
    the others wait and unpickle the same Plan (pickle keeps every type: tuples stay tuples)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / key
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():
            return pickle.loads(path.read_bytes())
        plan = make()
        partial = path.with_suffix(f".{os.getpid()}")
        partial.write_bytes(pickle.dumps(plan))
        partial.replace(path)
        return plan
