"""docs/ci.md's set-up steps follow the workflows: every environment a credentialed job names is restricted to
`main`, every role variable is listed, and the settings GitHub's subjects depend on are spelled out."""

from __future__ import annotations

import re

from ci_bootstrap import workflows

from tools.render import ROOT

PAGE = (ROOT / "docs" / "ci.md").read_text()


def step(number: int) -> str:
    setup = PAGE[PAGE.index("Steps, once per account:"):PAGE.index("### CI runners that can reach the cluster")]
    items = {int(m[1]): m[2] for m in re.finditer(r"\n(\d+)\. (.*?)(?=\n\d+\. |\n\n)", setup, re.S)}
    return " ".join(items[number].split())


def test_every_environment_is_restricted_to_main() -> None:
    """The environment, not the branch, is the token's subject: an environment any branch may use hands its role to
    any branch of the repository."""
    environments = sorted({i.claim.split(":", 1)[1] for i in workflows.job_identities()
                           if i.claim.startswith("environment:")})
    assert environments == ["development", "production", "versions"]
    text = step(5)
    assert all(f"`{env}`" in text for env in environments), text
    assert "For **every** one of them set **Deployment branches and tags: Selected -> `main`**" in text


def test_every_role_variable_is_listed() -> None:
    text = step(4)
    variables = sorted({i.role_variable for i in workflows.job_identities() if i.role_variable})
    assert variables == ["AWS_PREVIEW_ROLE_ARN", "AWS_PROD_ROLE_ARN", "AWS_ROLE_ARN", "AWS_VERSIONS_ROLE_ARN"]
    assert all(f"`{v}`" in text for v in variables), text
    assert "`PULUMI_PROD_CONFIG_PASSPHRASE` as a secret of the `production` environment only" in text


def test_the_subject_template_and_the_fork_settings_are_spelled_out() -> None:
    assert "**default OIDC subject template**" in step(3) and "`use_default: true`" in step(3)
    page = " ".join(PAGE.split())
    assert ("**never enable** \"Send write tokens to workflows from fork pull requests\" or \"Send secrets to "
            "workflows from fork pull requests\"") in page
    assert "a workflow run for a fork's pull request gets no OIDC token" in page
    assert "**What stays admin-equivalent.**" in page and "permissions boundary" in page


def test_an_interrupted_deploy_has_recovery_steps() -> None:
    """A 4-hour job can still be cut short: the lock and the pending operations it leaves are documented."""
    page = (ROOT / "docs" / "operations.md").read_text()
    section = page[page.index("## An interrupted `pulumi up`"):]
    section = " ".join(section[:section.index("\n## ")].split())
    for needle in ("`pulumi cancel --stack <stack>`", "`pulumi refresh --stack <stack>`", "--import-pending-creates",
                   "--clear-pending-creates", "ExpiredToken", ".pulumi/locks/organization/webstack/<stack>/"):
        assert needle in section, needle
    assert "(operations.md#an-interrupted-pulumi-up)" in PAGE
