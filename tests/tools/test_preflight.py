"""tools/preflight.py: `make up` refuses the examples' documentation-only values, naming each key and what to set.
(The up.sh wiring is tested in test_make_up.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.preflight import check, classify, findings, main
from tools.render import TEST_STACKS, stack_config


@pytest.mark.parametrize("value", [
    "example.com", "EXAMPLE.ORG", "example.net.", "app.example.com", "*.prod.example.com", "a.b.example.org",
    "shop.example", "app.test", "x.invalid", "my.localhost",
    "192.0.2.0/24", "192.0.2.7/32", "198.51.100.0/24", "198.51.100.128/25", "203.0.113.0/24", "203.0.113.9",
    "2001:db8::/48",
    "arn:aws:iam::123456789012:role/platform-admins", "arn:aws-us-gov:iam::123456789012:user/ci",
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "123456789012",
])
def test_documentation_values_are_recognised(value: str) -> None:
    assert classify(value) is not None, value


@pytest.mark.parametrize("value", [
    "acme-corp.net", "example.co.uk", "myexample.com", "example.com.au", "examples.org", "testing.io",
    "10.0.0.0/16", "192.0.0.0/16", "198.51.0.0/16", "0.0.0.0/0", "203.0.112.0/24", "100.64.0.0/16",
    "arn:aws:iam::210987654321:role/admins", "arn:aws:iam::aws:policy/ReadOnlyAccess", "t3.medium",
    "eu-central-1", "m6i.large", "1.35", "",
])
def test_real_values_pass(value: str) -> None:
    assert classify(value) is None, value


def test_every_finding_names_its_key_and_what_to_set() -> None:
    found = findings({
        "aws:region": "us-east-1",
        "webstack:zoneName": "example.com", "webstack:hostname": "app.example.com",
        "webstack:publicAccessCidrs": ["81.2.69.160/32", "203.0.113.0/24"],
        "webstack:adminPrincipalArns": ["arn:aws:iam::123456789012:role/a"],
        "webstack:vpcCidr": "198.51.100.0/24",
        "webstack:extraTags": {"owner": "ops@example.org", "team": "web"},
        "webstack:secretThing": {"secure": "v1:abc"},
    })
    assert [(f.key, f.kind) for f in found] == [
        ("webstack:zoneName", "domain"), ("webstack:hostname", "domain"),
        ("webstack:publicAccessCidrs[1]", "network"), ("webstack:adminPrincipalArns[0]", "account"),
        ("webstack:vpcCidr", "network"), ("webstack:extraTags.owner", "domain")]
    lines = [f.line() for f in found]
    assert lines[0].startswith("webstack:zoneName = example.com: example.com is reserved for documentation")
    assert "pulumi config set webstack:zoneName" in lines[0]
    assert "checkip.amazonaws.com" in lines[2]
    assert "aws sts get-caller-identity" in lines[3]
    assert lines[4].endswith("set an address range of your own")


@pytest.mark.parametrize(("stack", "keys"), [
    ("dev", ["webstack:zoneName", "webstack:hostname", "webstack:publicAccessCidrs[0]"]),
    ("prod", ["webstack:zoneName", "webstack:hostname", "webstack:certificateExtraNames[0]",
              "webstack:publicAccessCidrs[0]", "webstack:adminPrincipalArns[0]", "webstack:alarmEmails[0]"]),
])
def test_the_example_values_render_but_are_refused_for_a_deploy(request: pytest.FixtureRequest, stack: str,
                                                               keys: list[str]) -> None:
    # The test stacks carry the shipped examples' values: they render (fixtures dev/prod), make up refuses them.
    assert [f.key for f in check(stack, TEST_STACKS)] == keys
    plan = request.getfixturevalue(stack)
    hostname = stack_config(stack, stacks=TEST_STACKS)["webstack:hostname"]
    assert plan.one("aws:acm/certificate:Certificate")["inputs"]["domainName"] == hostname


@pytest.mark.project_root  # main() reads Pulumi.<stack>.yaml of a folder (here: test stacks, tmp files)
def test_main_exit_status_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "prod", "--project", str(TEST_STACKS)]) == 1
    err = capsys.readouterr().err
    assert "still holds 6 documentation-only example value(s); `pulumi up` was not run" in err
    assert err.count("\n  - webstack:") == 6
    assert "webstack:alarmEmails[0] = oncall@prod.example.com: example.com is reserved" in err
    (tmp_path / "Pulumi.mine.yaml").write_text("config:\n  webstack:zoneName: acme-corp.net\n")
    assert main(["--stack", "acme/webstack/mine", "--project", str(tmp_path)]) == 0
    assert main(["--stack", "absent", "--project", str(tmp_path)]) == 0  # nothing set: nothing to refuse
    capsys.readouterr()
    (tmp_path / "Pulumi.mine.yaml").write_text("config:\n  webstack:publicAccessCidrs: []\n    - 81.2.69.160/32\n")
    assert main(["--stack", "mine", "--project", str(tmp_path)]) == 1  # an edit gone wrong: named, no traceback
    err = capsys.readouterr().err
    assert "Pulumi.mine.yaml is not valid YAML; `pulumi up` was not run" in err and "line 3" in err
    assert "Traceback" not in err


@pytest.mark.project_root  # main() reads the stack files of a folder (tmp files)
def test_an_example_lock_is_refused_for_a_deploy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped example locks hold versions of the right form, not read from an account: `make up` asks for
    `make bump` first. A lock `make bump` wrote, or the test stacks' fixtures, pass."""
    from infra.config.lock import lock_name
    from tools.preflight import EXAMPLE_LOCK

    (tmp_path / "Pulumi.mine.yaml").write_text("config:\n  webstack:zoneName: acme-corp.net\n")
    (tmp_path / lock_name("mine")).write_text(f"# Version lock of stack mine\n{EXAMPLE_LOCK} (release notes)\n"
                                              "region: us-east-1\n")
    assert main(["--stack", "acme/webstack/mine", "--project", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"  - {lock_name('mine')}: the versions were not read from an AWS account; run `make bump STACK=mine`" in err
    (tmp_path / lock_name("mine")).write_text("# Written by `make bump STACK=mine` on 2026-11-09\nregion: us-east-1\n")
    assert main(["--stack", "mine", "--project", str(tmp_path)]) == 0
    assert [f for s in ("dev", "prod", "ecs", "ecs-ec2") for f in check(s, TEST_STACKS) if f.kind == "lock"] == []
