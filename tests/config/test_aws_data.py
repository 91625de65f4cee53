"""The loader's AWS data (infra/data/aws-data.json) is exactly what the pinned botocore ships."""

from __future__ import annotations

import pytest

from infra.config.region import partition_of
from infra.instances import AWS_DATA, instance_types
from tools import aws_data


def test_the_snapshot_equals_the_installed_botocore(capsys: pytest.CaptureFixture[str]) -> None:
    # `make aws-data --check` in this process, not a fresh interpreter (the one test that this file is current:
    # tests/tools/test_generate.py CURRENT)
    assert aws_data.main(["--check"]) == 0, capsys.readouterr().err


def test_the_check_fails_on_a_stale_snapshot(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
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


def test_instance_specs_come_from_the_installed_libcloud() -> None:
    """The vCPUs and memory (finding 3) are apache-libcloud's Price List data, named with its version: the
    `--check` above compares them too."""
    import json
    from importlib import metadata

    data = json.loads(AWS_DATA.read_text())
    assert data["instanceSpecsSource"].startswith(f"apache-libcloud {metadata.version('apache-libcloud')}: ")
    assert data["instanceSpecs"]["m6i.large"] == [2, 8192] and data["instanceSpecs"]["t4g.medium"] == [2, 4096]


def test_eni_limits_snapshot_names_its_source_and_parses_the_generated_table() -> None:
    import json

    snapshot = json.loads(aws_data.ENI_SNAPSHOT.read_text())
    assert snapshot["source"].startswith("aws/amazon-vpc-cni-k8s pkg/vpc/vpc_ip_resource_limit.go at ")
    assert "2026-08-11" in snapshot["source"] and "DescribeInstanceTypes" in snapshot["source"]
    # AWS's "Maximum IP addresses per network interface" table: t3.medium 3 x 6, m6i.large 3 x 10, m5.24xlarge 15 x 50
    limits = snapshot["limits"]
    assert (limits["t3.medium"], limits["m6i.large"], limits["m5.24xlarge"]) == ([3, 6], [3, 10], [15, 50])
    assert len(limits) > 1000 and set(limits) - instance_types() <= {"bmn-sf1.metal", "c5a.metal", "c5ad.metal",
                                                                     "c7i.32xlarge"}
    text = ('var instanceNetworkingLimits = map[string]InstanceTypeLimits{\n\t"a1.large": {\n\t\tENILimit:    '
            '            3,\n\t\tIPv4Limit:               10,\n\t\tDefaultNetworkCardIndex: 0,\n\t},\n'
            '\t"t3.nano": {\n\t\tENILimit: 2,\n\t\tIPv4Limit: 2,\n\t},\n}\n')
    assert aws_data.eni_limits(text) == {"a1.large": [3, 10], "t3.nano": [2, 2]}
