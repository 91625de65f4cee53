"""The offline render contract: build/plan/ files, their shape, determinism and secret redaction."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

import tests.support
from tests.support.programs import program
from tools.render import ROOT, SECRET, TEST_STACKS, Plan, RenderError, project_name, redact, render
from tools.render.__main__ import main, write_plan
from tools.render.cache import RENDER_CACHE_ENV

KEYS = {"urn", "type", "name", "custom", "id", "parent", "provider", "dependencies", "options", "inputs", "state",
        "aliases"}
OPTIONS = {"protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges"}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, dev: Plan) -> Path:
    out = tmp_path_factory.mktemp("plan") / "plan"
    write_plan(dev, out)
    return out


def test_resources_json_follows_the_contract(written: Path, dev: Plan) -> None:
    resources = json.loads((written / "resources.json").read_text())
    assert isinstance(resources, list) and len(resources) == len(dev.resources)
    urns = {r["urn"] for r in resources}
    for r in resources:
        assert set(r) >= KEYS, r["urn"]
        assert set(r["options"]) >= OPTIONS
        assert isinstance(r["custom"], bool)
        assert (r["id"] is None) == (not r["custom"]), r["urn"]
        assert r["parent"] is None or r["parent"] in urns or r["parent"].endswith("pulumi:pulumi:Stack::webstack-dev")
        assert all(d in urns for d in r["dependencies"]), r["urn"]
        assert r["provider"] is None or r["provider"].rsplit("::", 1)[0] in urns, r["urn"]
        assert isinstance(r["aliases"], list) and all(a.startswith("urn:pulumi:") for a in r["aliases"]), r["urn"]
    # registration order: every component comes before its children
    position = {r["urn"]: i for i, r in enumerate(resources)}
    assert all(position[r["parent"]] < position[r["urn"]] for r in resources if r["parent"] in position)
    components = [r for r in resources if not r["custom"] and r["type"].startswith("webstack:")]
    assert [c["type"].split(":")[1] for c in components] == [
        "network", "registry", "dns", "cluster", "image", "addons", "autoscaler", "eks", "workload", "ops"]


def test_invokes_and_outputs_files(written: Path, dev: Plan) -> None:
    invokes = json.loads((written / "invokes.json").read_text())
    assert {i["token"] for i in invokes} >= {"aws:index/getAvailabilityZones:getAvailabilityZones",
                                             "aws:route53/getZone:getZone",
                                             "aws:ecr/getAuthorizationToken:getAuthorizationToken"}
    assert all(set(i) == {"token", "args"} for i in invokes)
    outputs = json.loads((written / "outputs.json").read_text())
    assert outputs == dev.outputs and outputs["kubeconfig"] == SECRET


def test_per_object_files(written: Path) -> None:
    manifests = sorted(p.name for p in (written / "manifests").iterdir())
    assert "deployment-webapp-webapp.yaml" in manifests and "ingress-webapp-webapp.yaml" in manifests
    deployment = yaml.safe_load((written / "manifests" / "deployment-webapp-webapp.yaml").read_text())
    assert deployment["kind"] == "Deployment" and deployment["metadata"]["namespace"] == "webapp"
    releases = sorted(p.name for p in (written / "releases").iterdir())
    assert releases == ["aws-load-balancer-controller.yaml", "cluster-autoscaler.yaml", "external-dns.yaml",
                        "metrics-server.yaml"]
    release = yaml.safe_load((written / "releases" / "external-dns.yaml").read_text())
    assert set(release) == {"chart", "version", "repo", "namespace", "values"}
    assert (written / "iam" / "platform-external-dns-policy.json").exists()


def test_no_secret_value_is_written(written: Path) -> None:
    text = "\n".join(p.read_text() for p in written.rglob("*") if p.is_file() and p.suffix != ".png")
    assert "mock-ecr-password" not in text
    assert "4dabf18193072939515e22adb298388d" not in text
    assert SECRET in text


def test_redact_replaces_wrapped_secrets_at_any_depth() -> None:
    wrapped = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "pw"}
    assert redact({"a": [1.0, {"b": wrapped}], "c": 2.5}) == {"a": [1, {"b": SECRET}], "c": 2.5}


def test_two_renders_write_identical_files(tmp_path: Path, dev: Plan) -> None:
    again = render("dev", stacks=TEST_STACKS)
    first, second = tmp_path / "one", tmp_path / "two"
    write_plan(dev, first)
    write_plan(again, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_cli_writes_the_plan_and_reports_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # the CLI reads the run's render of prod if there is one (tools/render/cache.py: keyed by content)
    if tests.support.shared_renders is not None:
        monkeypatch.setenv(RENDER_CACHE_ENV, str(tests.support.shared_renders))
    assert main(["--stack", "prod", "--stacks", str(TEST_STACKS), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "stack prod:" in printed and "Rendered under mocks" in printed
    resources = json.loads((tmp_path / "p" / "resources.json").read_text())
    assert sum(r["type"] == "aws:ec2/natGateway:NatGateway" for r in resources) == 3
    assert main(["--stack", "nosuch", "--stacks", str(TEST_STACKS), "--out", str(tmp_path / "q")]) == 1
    assert "no stack file" in capsys.readouterr().err


def test_a_stack_file_that_is_not_yaml_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A list started on the line after a key that already has a value (an edit gone wrong): the CLI names the file
    and the line, never a traceback."""
    root = program(tmp_path, "", stacks=("mine",))
    (stack_file,) = [p for p in root.iterdir() if p.name.endswith(".mine.yaml")]
    stack_file.write_text("config:\n  aws:region: eu-west-2\n  webstack:publicAccessCidrs: []\n    - 203.0.113.0/24\n")
    assert main(["--stack", "mine", "--stacks", str(root), "--out", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err
    assert f"{stack_file.name} is not valid YAML" in err and "line 4" in err and "Traceback" not in err


def test_a_failed_render_leaves_nothing_behind_for_the_next_one(dev: Plan) -> None:
    from tools.render import RenderError

    with pytest.raises(RenderError):
        render("dev", {"webstack:azCount": "0"}, stacks=TEST_STACKS)
    again = render("dev", stacks=TEST_STACKS)
    assert [r["urn"] for r in again.resources] == [r["urn"] for r in dev.resources]


def test_the_project_name_is_parsed_once_per_content_never_stale(tmp_path: Path) -> None:
    """Each render asks for the project's name; the parse is cached by the file's text, so an edit is seen."""
    project = tmp_path / "Pulumi.yaml"
    project.write_text("name: one\nruntime: python\n")
    assert project_name(tmp_path) == project_name(tmp_path) == "one"
    project.write_text("name: two\nruntime: python\n")
    assert project_name(tmp_path) == "two"
    assert project_name(ROOT) == "webstack"


def test_a_process_that_renders_collects_garbage_less_often() -> None:
    """tools.render raises the collector's thresholds (see GC_THRESHOLDS): the SDKs' classes made it a large part
    of a render's CPU time."""
    import gc

    from tools.render.engine import GC_THRESHOLDS

    assert gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[0] > 700


@pytest.fixture(scope="module")
def instrumented() -> dict[str, Any]:
    """One render of dev made here (never read from a cache), recording what the SDK does meanwhile: the Python
    stack walks, the threads the mock cloud answers in, the callback servers started and those left after."""
    import threading
    import traceback

    from pulumi.runtime._callbacks import _CallbackServicer

    from tools.render.fakes import FakeCloud

    seen: dict[str, Any] = {"walks": 0, "threads": Counter(), "started": []}
    extract_stack = traceback.extract_stack

    def walk(*args: Any, **kwargs: Any) -> Any:
        seen["walks"] += 1
        return extract_stack(*args, **kwargs)

    def answering(method: Any) -> Any:
        def run(self: FakeCloud, args: Any) -> Any:
            seen["threads"][threading.current_thread().name] += 1
            return method(self, args)
        return run

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(traceback, "extract_stack", walk)
        patch.setattr(FakeCloud, "new_resource", answering(FakeCloud.new_resource))
        patch.setattr(FakeCloud, "call", answering(FakeCloud.call))
        _record_callback_servers(patch, seen["started"])
        patch.delenv(RENDER_CACHE_ENV, raising=False)
        before = _open_loops()
        seen["plan"] = render("dev", {"webstack:appReplicas": 3}, stacks=TEST_STACKS)
        seen["left"] = list(_CallbackServicer._servicers)
        seen["loops left open"] = _open_loops() - before
    return seen


def _record_callback_servers(patch: pytest.MonkeyPatch, started: list[Any]) -> None:
    """Every callback server the SDK starts is appended to `started`."""
    from pulumi.runtime._callbacks import _CallbackServicer

    serve = _CallbackServicer.serve

    async def counted(self: _CallbackServicer) -> None:
        started.append(self)
        await serve(self)

    patch.setattr(_CallbackServicer, "serve", counted)


def _open_loops() -> set[int]:
    import asyncio
    import gc

    return {id(o) for o in gc.get_objects() if isinstance(o, asyncio.BaseEventLoop) and not o.is_closed()}


def test_the_mock_cloud_answers_in_the_render_thread_itself(instrumented: dict[str, Any]) -> None:
    """The SDK sends each call to the monitor through the loop's default executor: the render runs them in place
    (tools/render/engine.py _InPlace), no hop per resource (a fifth of a render), but for the calls made while
    another runs in place (its serialization pumps the loop), which go to a thread of their own."""
    threads = instrumented["threads"]  # thread name -> calls the mock cloud answered there
    assert instrumented["plan"].invokes and threads["render-dev"] >= sum(threads.values()) / 4
    others = set(threads) - {"render-dev"}
    assert len(others) <= 1 and all(t.startswith("ThreadPoolExecutor-") for t in others), threads
    assert instrumented["loops left open"] == set()  # that thread's loop is closed with it, not collected open


def test_a_program_of_many_sibling_resources_renders(tmp_path: Path) -> None:
    """The mock monitor serializes each call's properties by pumping the loop it is called from (the SDK's
    _sync_await): run in place, every call it pumps nested one level deeper, and 100 sibling resources ended in a
    RecursionError. A call made while another runs in place goes to a thread of its own."""
    main = "import pulumi\nfor i in range(150):\n    pulumi.CustomResource('test:index:Item', f'item-{i}', {'n': i})\n"
    root = program(tmp_path / "many", main)
    assert len(render("dev", root=root, stacks=root).resources) == 150


def test_a_render_never_walks_the_python_stack(instrumented: dict[str, Any]) -> None:
    """The SDK's source positions (a stack walk per resource, 15 % of a render) are for the CLI's display, which
    a mock render has none of: the render registers every resource without one."""
    assert len(instrumented["plan"].resources) > 50 and instrumented["walks"] == 0


def test_views_do_not_alias_the_plan(dev: Plan) -> None:
    from tools.render.artifacts import helm_releases, kubernetes_objects

    kubernetes_objects(dev)["deployment-webapp-webapp"]["spec"]["replicas"] = 99
    helm_releases(dev)["external-dns"]["values"]["policy"] = "upsert-only"
    assert kubernetes_objects(dev)["deployment-webapp-webapp"]["spec"]["replicas"] == 2
    assert helm_releases(dev)["external-dns"]["values"]["policy"] == "sync"


def test_plain_copy_is_a_deep_copy_of_captured_data(dev: Plan, prod: Plan) -> None:
    """tools/render/values.py plain_copy (the views' copy): equal to copy.deepcopy on every
    resource's inputs, sharing no dict or list with them, tuples included."""
    import copy

    from tools.render.values import plain_copy

    def containers(value: Any) -> list[int]:
        if isinstance(value, dict):
            return [id(value), *(i for v in value.values() for i in containers(v))]
        if isinstance(value, list | tuple):
            return [id(value), *(i for v in value for i in containers(v))]
        return []

    for r in dev.resources + prod.resources:
        copied = plain_copy(r["inputs"])
        assert copied == copy.deepcopy(r["inputs"])
        assert not set(containers(copied)) & set(i for i in containers(r["inputs"]) if i)
    nested = {"a": [1, ("x", [2.5, None, True])], "b": {"c": {}}}
    copied = plain_copy(nested)
    assert copied == nested and type(copied["a"][1]) is tuple and copied["a"][1][1] is not nested["a"][1][1]


def test_a_policy_that_edits_the_inputs_it_is_given_leaves_the_plan_alone(dev: Plan) -> None:
    """tools/review/policy_report.py gives each policy pulumi-policy's unknown-checking proxy of the inputs, which
    is made of new dicts and lists: no copy of the plan is needed, and none is made (it was a third of a check).
    A policy that writes through the proxy, its target, and a nested map and list changes nothing of the plan."""
    from collections.abc import Mapping

    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    from tools.review.policy_report import check

    edits: list[str] = []

    def edit(args: Any, report: Any) -> None:
        props = args.props._inner  # the proxy inside the harness's read tracker (which takes no writes)
        props["edited"] = "yes"  # the proxy's __setitem__
        props["__target"]["edited-target"] = "yes"  # the dict behind it
        for value in props.values():
            if isinstance(value, Mapping):
                value["__target"]["edited-nested"] = "yes"
            elif isinstance(value, Sequence) and not isinstance(value, str) and len(value):
                value["__target"].append("edited")  # the list behind a list proxy
        edits.append(args.urn)

    def edit_all(args: Any, report: Any) -> None:
        for resource in args.resources:
            edit(resource, report)

    before = json.dumps(dev.resources, sort_keys=True)
    check(dev, [ResourceValidationPolicy("edits", "edits the inputs", edit, EnforcementLevel.ADVISORY),
                StackValidationPolicy("edits-all", "edits every resource's inputs", edit_all,
                                      EnforcementLevel.ADVISORY)])
    assert len(edits) == 2 * len(dev.resources)
    assert json.dumps(dev.resources, sort_keys=True) == before


def test_every_render_stops_the_callback_servers_it_started(instrumented: dict[str, Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK serves the program's transforms (pulumi-eks's node group has some) from a gRPC server on the render's
    loop, which `pulumi.runtime.run` stops and runpy does not. Left running after a render, good or failed, earlier
    renders' servers kept gRPC's poller busy until exit, which printed bare "Error in sys.excepthook:" / "Original
    exception was:" lines after pytest's summary (gRPC 1.85 no longer prints them: the servers are checked)."""
    from pulumi.runtime._callbacks import _CallbackServicer

    good = instrumented["started"]
    assert good and not set(map(id, good)) & set(map(id, instrumented["left"]))
    started: list[Any] = []
    _record_callback_servers(monkeypatch, started)
    monkeypatch.delenv(RENDER_CACHE_ENV, raising=False)  # rendered here, not read from a cache
    # a render that fails once the cluster (whose node group's transforms started servers) is declared: the cloud
    # refuses the Helm releases that follow it
    from tools.render.fakes import FakeCloud

    new_resource = FakeCloud.new_resource

    def refuse_releases(self: FakeCloud, args: Any) -> Any:
        if args.typ == "kubernetes:helm.sh/v3:Release":
            raise RuntimeError("the cloud refuses the release")
        return new_resource(self, args)

    monkeypatch.setattr(FakeCloud, "new_resource", refuse_releases)
    with pytest.raises(RenderError, match="refuses the release"):
        render("dev", {"webstack:appReplicas": 4}, stacks=TEST_STACKS)
    assert started and not set(map(id, started)) & set(map(id, _CallbackServicer._servicers))


def test_the_render_cache_is_keyed_by_content_so_a_changed_input_misses_it(tmp_path: Path, dev: Plan,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """tools/render/cache.py: a copy of the program has this tree's key (the suite's subprocesses on copies read
    its renders), and a change to the program, the config, the lock or the salt is a new key: never stale."""
    import pickle
    import shutil

    from tools.render import engine
    from tools.render.cache import PROGRAM_FILES, PROGRAM_FOLDERS, program_digest, render_key

    copy = tmp_path / "copy"
    for name in PROGRAM_FILES:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    for folder in PROGRAM_FOLDERS:
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    assert program_digest(copy) == program_digest(ROOT)
    (copy / "infra" / "tags.py").write_text((copy / "infra" / "tags.py").read_text() + "# edited\n")
    assert program_digest(copy) != program_digest(ROOT)

    config, lock = engine.stack_config("dev", stacks=TEST_STACKS), engine.lock_file("dev", stacks=TEST_STACKS)
    key = render_key("dev", config, ROOT, lock, None)
    assert render_key("dev", config, copy, lock, None) != key  # the edited program
    assert render_key("dev", {**config, "webstack:azCount": 3}, ROOT, lock, None) != key
    assert render_key("dev", config, ROOT, lock, b"salt") != key
    assert render_key("prod", config, ROOT, lock, None) != key
    edited_lock = tmp_path / lock.name
    edited_lock.write_text(lock.read_text() + "extra: 1\n")
    assert render_key("dev", config, ROOT, edited_lock, None) != key

    # Through render(): the entry for dev's inputs is read, not rendered; a changed override or lock renders.
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / key).write_bytes(pickle.dumps(dev))
    rendered_now: list[str] = []

    def fake_render(stack: str, config: dict[str, object], root: Path, salt: bytes | None) -> Plan:
        rendered_now.append(json.dumps(config, sort_keys=True))
        return dev

    monkeypatch.setattr(engine, "_render_in_thread", fake_render)
    assert render("dev", stacks=TEST_STACKS, cache=cache) == dev and rendered_now == []
    render("dev", {"webstack:azCount": 3}, stacks=TEST_STACKS, cache=cache)
    render("dev", stacks=TEST_STACKS, cache=cache, lock={"extra": 1})
    assert len(rendered_now) == 2 and '"webstack:azCount": 3' in rendered_now[0]
    render("dev", {"webstack:azCount": 3}, stacks=TEST_STACKS, cache=cache)  # now an entry: read
    assert len(rendered_now) == 2 and len(list(cache.glob("[0-9a-f]" * 64))) == 3
