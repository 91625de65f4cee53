"""`make generate` (tools/generate.py): one list of generators, each also a make target of its own; `--check`
passes on this tree and names the generator whose file is stale, without writing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import tests.support
from tools import generate
from tools.render import ROOT
from tools.render.cache import RENDER_CACHE_ENV
from tools.tree import copy_working_tree


def make_recipes() -> dict[str, list[str]]:
    """Each Makefile target's recipe lines (tab-indented), by target name."""
    recipes: dict[str, list[str]] = {}
    target = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        if m := re.match(r"([a-z][a-z-]*):", line):
            target = m.group(1)
            recipes[target] = []
        elif line.startswith("\t") and target:
            recipes[target].append(line.strip())
        elif not line.strip() or line.startswith("#"):
            continue
        else:
            target = None
    return recipes


def test_every_generator_is_its_make_target_and_make_generate_runs_the_list() -> None:
    recipes = make_recipes()
    assert recipes["generate"] == ["$(PY) -m tools.generate"]
    for gen in generate.GENERATORS:
        assert recipes.get(gen.name) == [" ".join(["$(PY) -m", gen.module, *gen.args])], gen.name
    assert len({g.name for g in generate.GENERATORS}) == len(generate.GENERATORS) >= 5


def stale_copy(tmp_path: Path) -> Path:
    """A git checkout of this working tree whose README Outputs table lost a row."""
    copy = copy_working_tree(ROOT, tmp_path / "repo", user_stacks=False)
    tests.support.copy_bytecode(ROOT, copy)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    readme = copy / "README.md"
    text = readme.read_text()
    row = re.search(r"^\| `\w+` \|.*\n", text[text.index("<!-- outputs:begin"):], re.MULTILINE)
    assert row, "the Outputs table has rows"
    readme.write_text(text.replace(row.group(0), "", 1))
    return copy


def test_check_runs_in_a_copy_blames_the_stale_file_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The two generators that both write README.md, run by --check in a copy of a tree whose Outputs table is
    stale: --check blames that generator alone (not the diagram's, whose part is current) and writes nothing; that
    generator then restores this tree's file exactly. The generators' subprocess reads this run's renders (keyed by
    content, tools/render/cache.py: the copy's program and test stacks are this tree's)."""
    if tests.support.shared_renders is not None:
        monkeypatch.setenv(RENDER_CACHE_ENV, str(tests.support.shared_renders))
    copy = stale_copy(tmp_path)
    stale = (copy / "README.md").read_text()
    assert generate.main(["--check", "--root", str(copy), "outputs", "diagram"]) == 1
    assert capsys.readouterr().err.splitlines() == ["stale: README.md (generator outputs): run `make generate`"]
    assert (copy / "README.md").read_text() == stale
    done = subprocess.run([sys.executable, "-m", "tools.generate", "outputs"], cwd=copy, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "outputs: rewrote README.md" in done.stdout, done.stdout + done.stderr
    assert (copy / "README.md").read_text() == (ROOT / "README.md").read_text()


# Each generated file is checked current in this process by a test of its own (a --check of every generator in a
# fresh interpreter imported the SDK modules the replacements read and rendered the example stacks again: 5 s).
CURRENT: dict[str, str] = {
    "aws-data": "tests/config/test_aws_data.py::test_the_snapshot_equals_the_installed_botocore",
    "config-schema": "tests/config/test_config.py::test_make_config_schema_leaves_pulumi_yaml_unchanged",
    "outputs": "tests/shared/test_outputs.py::test_readme_outputs_table_is_current",
    "diagram": "tests/review/test_diagram.py::test_committed_pictures_are_current",
    "replacements": "tests/review/test_replacements.py::test_the_data_is_what_the_sources_give",
    "review-sample": "tests/review/test_review.py::test_sample_comment_is_current",
    "policy-docs": "tests/tools/test_policy_docs.py::test_the_readme_table_is_current",
}


def test_every_generated_file_has_a_test_that_it_is_current() -> None:
    assert sorted(CURRENT) == sorted(g.name for g in generate.GENERATORS), "a new generator needs its test here"
    for name, test in CURRENT.items():
        path, function = test.split("::")
        assert f"\ndef {function}(" in (ROOT / path).read_text(), (name, test)


def test_an_unknown_generator_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown generator"):
        generate.main(["--check", "no-such-generator"])
