"""What every area of the pack shares: the `Area` a policy is declared in, beside its validation function, and
the helpers that read what the engine shows a policy.

Every validation function has the signature pulumi-policy calls (`validate(args, report_violation)`), so the same
code runs under the CLI (`pulumi preview --policy-pack policy`), in tests/policy/ and in `make policy` on the
offline render.

What the engine shows a policy, and how the helpers cope with it:

* A resource policy gets the resource's *inputs* (`args.props`), camelCase, as read-only Mapping/Sequence
  proxies (never dict/list: use `isinstance(x, Mapping)`), numbers as floats, secrets unwrapped.
* During `preview` a value computed by another resource is unknown; reading it raises the SDK's
  `UnknownValueError`, which pulumi-policy turns into an advisory "can't run policy during preview" note.
  The check then runs on `pulumi up`, when the value is known (and a violation still stops the update).
* pulumi-eks components (`eks:index:Cluster`, `eks:index:ManagedNodeGroup`) are registered by the pulumi-eks
  plugin *with no inputs*, so under the engine their props are empty and they are skipped; the engine then shows
  their children (`aws:eks/cluster:Cluster`, `aws:eks/nodeGroup:NodeGroup`, ...), which are checked instead. The
  offline render (SDK mocks) does see the component inputs, so both shapes are handled (policy/eks.py).
* A stack policy gets every resource's *outputs* (at preview: the inputs plus unknowns for what the cloud
  computes), each with `property_dependencies`. See `eks.eks_nodes_in_private_subnets`.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

Props = Mapping[str, Any]
ResourceValidate = Callable[[ResourceValidationArgs, ReportViolation], None]
StackValidate = Callable[[StackValidationArgs, ReportViolation], None]
V = TypeVar("V", ResourceValidate, StackValidate)
MANDATORY = EnforcementLevel.MANDATORY

# --- resource types more than one area reads ------------------------------------------------------------
IAM_ROLE = "aws:iam/role:Role"
IAM_MANAGED_POLICY = "aws:iam/policy:Policy"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_POLICY_TYPES = (IAM_MANAGED_POLICY, IAM_ROLE_POLICY, "aws:iam/userPolicy:UserPolicy",
                    "aws:iam/groupPolicy:GroupPolicy")
# The current ELB TLS policies (TLS 1.2 or 1.3 only, forward secrecy), the ones the `sslPolicy` key allows
# (infra/config/app.py ALB_SSL_POLICIES; tests/policy/test_policy.py keeps the two lists equal). Kubernetes
# Ingresses (policy/kubernetes.py) and load balancer listeners (policy/ecs.py) both require one of them. A prefix
# would not do: ELBSecurityPolicy-TLS13-1-0-2021-06 and -TLS13-1-1-2021-06 still accept TLS 1.0 and 1.1
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html).
TLS_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)
# The one capability a container (a pod's or an ECS task's) may add back after dropping ALL: the Kubernetes Pod
# Security Standards' "restricted" profile allows only this one
# (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
ADDABLE_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# An image reference pinned by digest (Kubernetes pods and ECS containers alike).
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


# --- declaring policies ---------------------------------------------------------------------------------
class Area:
    """One area of the pack: its policies in declaration order, each declared once, right above its validation
    function, by `@area.resource(name, description)` or `@area.stack(...)`. The decorators return the function
    unchanged (tests call it directly); policy/validators.py assembles the pack from the areas, and
    tools/policy_docs.py the README's table."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.policies: list[Policy] = []
        self.validators: dict[str, Callable[..., None]] = {}  # policy name -> its validation function

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.validators)

    def resource(self, name: str, description: str, level: EnforcementLevel = MANDATORY
                 ) -> Callable[[ResourceValidate], ResourceValidate]:
        return self._declarer(ResourceValidationPolicy, name, description, level)

    def stack(self, name: str, description: str, level: EnforcementLevel = MANDATORY
              ) -> Callable[[StackValidate], StackValidate]:
        return self._declarer(StackValidationPolicy, name, description, level)

    def _declarer(self, kind: type[ResourceValidationPolicy] | type[StackValidationPolicy], name: str,
                  description: str, level: EnforcementLevel) -> Callable[[V], V]:
        def declare(validate: V) -> V:
            if name in self.validators:
                raise ValueError(f"policy {name!r} is declared twice in area {self.title!r}")
            self.policies.append(kind(name=name, description=description, validate=validate, enforcement_level=level))
            self.validators[name] = validate
            return validate
        return declare


# --- reading props ----------------------------------------------------------------------------------------
def as_map(value: Any) -> Props:
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """A list/tuple/proxy as a list; a lone value as a one-element list; None as []."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def dig(value: Any, *path: str) -> Any:
    for key in path:
        value = as_map(value).get(key)
    return value


def known(read: Callable[[], Any]) -> tuple[bool, Any]:
    """(True, value), or (False, None) when the value is unknown during preview."""
    try:
        return True, read()
    except UnknownValueError:
        return False, None


def known_prop(r: Any, key: str) -> Any:
    """Prop `key` of stack resource `r`, None while it is unknown."""
    ok, value = known(lambda: r.props.get(key))
    return value if ok else None


def known_items(read: Callable[[], Any]) -> list[Any]:
    """The known elements of the list (or lone value) `read` returns; an unknown list or element is left out (not
    as_list(), which would read every element, raising on an unknown one)."""
    ok, value = known(read)
    if not ok or value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        return [value]
    items = []
    for i in range(len(value)):
        ok_item, item = known(lambda i=i: value[i])
        if ok_item:
            items.append(item)
    return items


def has_key(mapping: Any, key: str) -> bool:
    """`key in mapping` without reading the value (which raises on a proxy when the value is unknown)."""
    return isinstance(mapping, Mapping) and key in set(iter(mapping))


def set_or_unknown(read: Callable[[], Any]) -> bool:
    """Whether a value is set; an unknown value (computed by another resource, e.g. a KMS key or certificate
    ARN during preview) counts as set."""
    ok, value = known(read)
    return not ok or bool(value)


def dependencies(r: Any, prop: str) -> list[Any]:
    """The resources property `prop` of stack resource `r` depends on (known even at a first preview)."""
    return list((getattr(r, "property_dependencies", None) or {}).get(prop, []))


def depends_on(r: Any, prop: str, urns: set[str] | frozenset[str]) -> bool:
    """Whether property `prop` of stack resource `r` depends on one of the resources `urns`."""
    return any(d.urn in urns for d in dependencies(r, prop))


def as_int(value: Any) -> Any:
    """A whole number the engine sent as a float (ports, counts) as an int; anything else unchanged."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def is_world(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


# --- IAM documents ----------------------------------------------------------------------------------------
def json_doc(value: Any) -> Props | None:
    """An IAM document given as a JSON string (or, from some SDKs, already as a mapping); None if not JSON."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None
    return None


def statements(doc: Props) -> list[Props]:
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]


def action_granted(statement: Props, action: str) -> bool:
    """Whether an Allow statement grants `action` (lower case), honouring wildcards and NotAction."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(action, str(a).lower()) for a in as_list(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(action, str(a).lower()) for a in as_list(statement.get("Action")))
