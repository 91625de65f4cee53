"""The loader's AWS data (infra/data/aws-data.json) is exactly what the pinned botocore ships."""

from __future__ import annotations

import subprocess
import sys

from infra.config.region import partition_of
from infra.instances import AWS_DATA, instance_types
from tools.render import ROOT


def test_the_snapshot_equals_the_installed_botocore() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "aws_data.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_check_fails_on_a_stale_snapshot(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import aws_data
    finally:
        sys.path.remove(str(ROOT / "tools"))
    stale = tmp_path / "aws-data.json"
    stale.write_text(AWS_DATA.read_text().replace('"m6i.large",\n', ""))
    monkeypatch.setattr(aws_data, "SNAPSHOT", stale)
    monkeypatch.setattr(aws_data, "ROOT", tmp_path)
    assert aws_data.main(["--check"]) == 1


def test_the_snapshot_is_what_the_loader_uses() -> None:
    assert {"m6i.large", "t4g.medium", "u-6tb1.metal"} <= instance_types() and "m6i.huge2" not in instance_types()
    assert (partition_of("us-east-1"), partition_of("cn-north-1"), partition_of("us-gov-west-1")) == (
        "aws", "aws-cn", "aws-us-gov")
    assert partition_of("us-east-9") is None
