"""`make pulumi-cli`: the Pulumi CLI of `.pulumi.version` in `.pulumi-cli/<version>/bin/`, downloaded once and
verified before anything is unpacked.

Why not `pulumi.automation.PulumiCommand.install` alone: it downloads https://get.pulumi.com/install.sh (not
pinned, not checked) and runs it, and that script checks no checksum of the archive it fetches either. Here
the archive comes from Pulumi's release host and its SHA-256 from Pulumi's published checksums file of the same
release on GitHub (two hosts: one of them altered is caught), compared before extraction; a mismatch refuses the
install and leaves nothing behind. The Automation API then checks the installed CLI (`PulumiCommand(root=...,
version=...)` runs `pulumi version`), and its exact version is compared to the pin.

`.pulumi.version` is the one place the version is written: this installer, and pulumi/actions in the workflows
(`pulumi-version-file`), read it.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = ROOT / ".pulumi.version"
INSTALL_ROOT = ROOT / ".pulumi-cli"
ARCHIVE_URL = "https://get.pulumi.com/releases/sdk/{archive}"
CHECKSUMS_URL = "https://github.com/pulumi/pulumi/releases/download/v{version}/pulumi-{version}-checksums.txt"
Opener = Callable[[str], IO[bytes]]


class InstallError(RuntimeError):
    pass


def pinned_version(path: Path = VERSION_FILE) -> str:
    return path.read_text().strip()


def platform_name(system: str | None = None, machine: str | None = None) -> str:
    """Pulumi's archive suffix for this machine: linux-x64, linux-arm64, darwin-x64 or darwin-arm64."""
    system = (system or platform.system()).lower()
    machine = (machine or platform.machine()).lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    if system not in ("linux", "darwin") or arch is None:
        raise InstallError(f"no Pulumi CLI archive for {system}/{machine}: install it yourself "
                           "(https://www.pulumi.com/docs/install/) and put it on PATH")
    return f"{system}-{arch}"


def archive_name(version: str, plat: str) -> str:
    return f"pulumi-v{version}-{plat}.tar.gz"


def expected_sha256(checksums: str, archive: str) -> str:
    """The digest the checksums file (`<sha256>  <file name>` lines) gives for `archive`."""
    found = [line.split()[0].lower() for line in checksums.splitlines()
             if len(line.split()) == 2 and line.split()[1].lstrip("*") == archive]
    if len(found) != 1 or len(found[0]) != 64:
        raise InstallError(f"the checksums file lists {archive} {len(found)} time(s): refusing to install")
    return found[0]


def bin_dir(version: str, root: Path = INSTALL_ROOT) -> Path:
    return root / version / "bin"


def _fetch(opener: Opener, url: str, dest: Path) -> None:
    with opener(url) as response, dest.open("wb") as out:
        shutil.copyfileobj(response, out)


def _check_installed(version: str, root: Path) -> None:
    """The Automation API's own check (it runs `pulumi version`), then the exact pin."""
    from pulumi.automation import PulumiCommand
    from semver import VersionInfo

    command = PulumiCommand(root=str(root / version), version=VersionInfo.parse(version))
    if str(command.version) != version:
        raise InstallError(f"{root / version} holds Pulumi {command.version}, not the pinned {version}")


def install(version: str, root: Path = INSTALL_ROOT, opener: Opener = urllib.request.urlopen,
            archive_url: str = ARCHIVE_URL, checksums_url: str = CHECKSUMS_URL, plat: str | None = None) -> Path:
    """Install Pulumi `version` under `root/<version>/bin` unless it is there already; return that folder."""
    target = bin_dir(version, root)
    if (target / "pulumi").exists():
        _check_installed(version, root)
        return target
    archive = archive_name(version, plat or platform_name())
    with tempfile.TemporaryDirectory(prefix="pulumi-cli-") as tmp:
        work = Path(tmp)
        _fetch(opener, checksums_url.format(version=version, archive=archive), work / "checksums.txt")
        _fetch(opener, archive_url.format(version=version, archive=archive), work / archive)
        want = expected_sha256((work / "checksums.txt").read_text(), archive)
        got = hashlib.sha256((work / archive).read_bytes()).hexdigest()
        if got != want:
            raise InstallError(f"{archive}: SHA-256 {got} does not match Pulumi's published {want}: "
                               "refusing to install (nothing was unpacked)")
        with tarfile.open(work / archive) as tar:
            tar.extractall(work / "unpacked", filter="data")  # no absolute paths, links out or device files
        staged = work / "staged" / "bin"
        staged.parent.mkdir()
        shutil.move(work / "unpacked" / "pulumi", staged)  # the archive holds pulumi/<binaries>
        target.parent.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target.parent, ignore_errors=True)
        shutil.move(work / "staged", target.parent)  # appears whole or not at all
    _check_installed(version, root)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=INSTALL_ROOT)
    args = parser.parse_args(argv)
    version = pinned_version()
    try:
        folder = install(version, args.root)
    except (InstallError, OSError) as err:
        print(f"pulumi-cli: {err}", file=sys.stderr)
        return 1
    print(f"pulumi-cli: Pulumi {version} in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
