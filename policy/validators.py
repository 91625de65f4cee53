"""The webstack guardrails: plain validation functions and the `POLICIES` built from them.

Every function has the signature pulumi-policy calls (`validate(args, report_violation)`), so the same code
runs under the CLI (`pulumi preview --policy-pack policy`) and in tests/policy/test_policy.py on the offline render.

What the engine shows a policy, and how these functions cope with it:

* A resource policy gets the resource's *inputs* (`args.props`), camelCase, as read-only Mapping/Sequence
  proxies (never dict/list: use `isinstance(x, Mapping)`), numbers as floats, secrets unwrapped.
* During `preview` a value computed by another resource is unknown; reading it raises the SDK's
  `UnknownValueError`, which pulumi-policy turns into an advisory "can't run policy during preview" note.
  The check then runs on `pulumi up`, when the value is known (and a violation still stops the update).
* pulumi-eks components (`eks:index:Cluster`, `eks:index:ManagedNodeGroup`) are registered by the pulumi-eks
  plugin *with no inputs*, so under the engine their props are empty and they are skipped here; the engine
  then shows their children (`aws:eks/cluster:Cluster`, `aws:eks/nodeGroup:NodeGroup`, ...), which are checked
  instead. The offline render (SDK mocks) does see the component inputs, so both shapes are handled.
* A stack policy gets every resource's *outputs* (at preview: the inputs plus unknowns for what the cloud
  computes), each with `property_dependencies`. See `eks_nodes_in_private_subnets`.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

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

# --- resource types -------------------------------------------------------------------------------------
EKS_CLUSTER_COMPONENT = "eks:index:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP_COMPONENT = "eks:index:ManagedNodeGroup"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_GROUP_TYPES = (NODE_GROUP_COMPONENT, NODE_GROUP)
SUBNET = "aws:ec2/subnet:Subnet"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
IAM_ROLE = "aws:iam/role:Role"
IAM_POLICY_TYPES = (
    "aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy",
)
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
# Where the pod spec sits in each workload kind (the kind is the last part of the type token, or `kind`).
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
# AWS types that take no tags. (pulumi-eks's children, access entries included, get the common tags
# through a transform in infra/eks/cluster.py.)
UNTAGGED = frozenset({
    "aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
    "aws:ec2/securityGroupRule:SecurityGroupRule", "aws:ec2/tag:Tag",
    "aws:route53/record:Record", "aws:route53/zoneAssociation:ZoneAssociation",
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:kms/alias:Alias", "aws:cloudwatch/logStream:LogStream",
    "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    # The ECS runtime's types that take no tags argument (pulumi-aws 7.51.1).
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "aws:appautoscaling/policy:Policy",
    "aws:appautoscaling/scheduledAction:ScheduledAction", "aws:efs/mountTarget:MountTarget",
    "aws:efs/backupPolicy:BackupPolicy", "aws:efs/fileSystemPolicy:FileSystemPolicy",
    "aws:scheduler/schedule:Schedule",
    # Also untaggable: the other way to start tasks on a schedule, and extra listener certificates.
    "aws:cloudwatch/eventTarget:EventTarget", "aws:lb/listenerCertificate:ListenerCertificate",
})
# Types whose `tags` is a list of {key, value, ...} instead of a map.
TAG_LISTS = frozenset({"aws:autoscaling/group:Group"})
COMMON_TAGS = ("project", "stack", "managed-by")
REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")
PUBLIC_SUBNET_TAG = "kubernetes.io/role/elb"
WORLD_OPEN_PORTS = frozenset({80, 443})
TCP = frozenset({"tcp", "6"})
ALB = "alb.ingress.kubernetes.io/"
TLS13_POLICY_PREFIX = "ELBSecurityPolicy-TLS13-"
ZONE_CHANGE_ACTION = "route53:changeresourcerecordsets"
ANY_ZONE_PROBES = tuple(f"arn:{p}:route53:::hostedzone/ZPOLICYPROBE0000000" for p in ("aws", "aws-cn", "aws-us-gov"))
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_URN = re.compile(r"^urn:pulumi:(?P<stack>[^:]+)::(?P<project>[^:]+)::")

Props = Mapping[str, Any]


# --- helpers --------------------------------------------------------------------------------------------
def _map(value: Any) -> Props:
    return value if isinstance(value, Mapping) else {}


def _seq(value: Any) -> list[Any]:
    """A list/tuple/proxy as a list; a lone value as a one-element list; None as []."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = _map(value).get(key)
    return value


def _known(read: Callable[[], Any]) -> tuple[bool, Any]:
    """(True, value), or (False, None) when the value is unknown during preview."""
    try:
        return True, read()
    except UnknownValueError:
        return False, None


def _has(mapping: Any, key: str) -> bool:
    """`key in mapping` without reading the value (which raises on a proxy when the value is unknown)."""
    return isinstance(mapping, Mapping) and key in set(iter(mapping))


def _set_or_unknown(read: Callable[[], Any]) -> bool:
    """Whether a value is set; an unknown value (computed by another resource, e.g. a KMS key or certificate
    ARN during preview) counts as set."""
    ok, value = _known(read)
    return not ok or bool(value)


def _dependencies(r: Any, prop: str) -> list[Any]:
    """The resources property `prop` of stack resource `r` depends on (known even at a first preview)."""
    return list((getattr(r, "property_dependencies", None) or {}).get(prop, []))


def _hidden_component(args: ResourceValidationArgs) -> bool:
    """True for a pulumi-eks component whose inputs the engine does not see (its children are checked)."""
    return args.resource_type in (EKS_CLUSTER_COMPONENT, NODE_GROUP_COMPONENT) and len(args.props) == 0


def _json_doc(value: Any) -> Props | None:
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


def _statements(doc: Props) -> list[Props]:
    return [s for s in _seq(doc.get("Statement")) if isinstance(s, Mapping)]


def _action_granted(statement: Props, action: str) -> bool:
    """Whether an Allow statement grants `action` (lower case), honouring wildcards and NotAction."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(action, str(a).lower()) for a in _seq(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(action, str(a).lower()) for a in _seq(statement.get("Action")))


def _is_world(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


def _k8s_kind(args: ResourceValidationArgs) -> str | None:
    """The Kubernetes kind of a whole object: the type's last part (kubernetes:apps/v1:Deployment), or for a
    generic type (e.g. apiextensions CustomResource) its `kind` prop. None for Helm, patches, lists, non-k8s."""
    t = args.resource_type
    if not t.startswith("kubernetes:") or t.startswith(("kubernetes:helm.sh/", "kubernetes:yaml")):
        return None
    kind = t.rsplit(":", 1)[-1]
    if kind.endswith(("Patch", "List")):
        return None  # partial objects: the whole object is checked where it is declared
    if kind in POD_SPEC_PATHS or kind == "Ingress":
        return kind
    ok, declared = _known(lambda: args.props.get("kind"))
    return declared if ok and isinstance(declared, str) else kind


def _pod_spec(args: ResourceValidationArgs) -> Props | None:
    """The pod spec of a Kubernetes workload (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, ...)."""
    path = POD_SPEC_PATHS.get(_k8s_kind(args) or "")
    if path is None:
        return None
    spec = _dig(args.props, *path)
    return spec if isinstance(spec, Mapping) else {}


def _containers(pod: Props, init: bool = True) -> Iterator[tuple[str, Props, bool]]:
    """(name, container, is_init) for every container (and init container) of a pod spec."""
    groups = [("containers", False), ("initContainers", True)] if init else [("containers", False)]
    for key, is_init in groups:
        for i, c in enumerate(_seq(pod.get(key))):
            c = _map(c)
            yield str(c.get("name") or f"{key}[{i}]"), c, is_init


# --- 1. nodes only in private subnets (stack policy) ------------------------------------------------------
def _is_public_subnet(props: Props) -> bool:
    ok_tags, tags = _known(lambda: dict(_map(props.get("tags"))))
    ok_map, map_public = _known(lambda: props.get("mapPublicIpOnLaunch"))
    return bool((ok_tags and PUBLIC_SUBNET_TAG in tags) or (ok_map and map_public is True))


def eks_nodes_in_private_subnets(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every node group declares its subnets and none of them is public.

    Public subnets are those tagged `kubernetes.io/role/elb` (network.py tags every public subnet so, for the
    ALB controller) or launching instances with public IPs (`mapPublicIpOnLaunch`). A node group's subnets are
    matched two ways: by id (a subnet's `id` output; the tests feed each subnet's props as its inputs plus
    `{"id": <its id>}`), and by the subnet resources its `subnetIds` property depends on
    (`property_dependencies`), which still works at a first preview, when every subnet id is unknown.

    Under the engine a stack policy sees outputs: the pulumi-eks `eks:index:ManagedNodeGroup` component's
    outputs do not include its inputs, so it is judged only when they do ("cluster", a required input, is
    present); its `aws:eks/nodeGroup:NodeGroup` child always is.
    """
    public_by_id: dict[str, str] = {}
    public_urns: dict[str, str] = {}
    for r in args.resources:
        if r.resource_type != SUBNET or not _is_public_subnet(r.props):
            continue
        public_urns[r.urn] = r.name
        ok, subnet_id = _known(lambda r=r: r.props.get("id"))
        if ok and isinstance(subnet_id, str) and subnet_id:
            public_by_id[subnet_id] = r.name

    for r in args.resources:
        if r.resource_type not in NODE_GROUP_TYPES:
            continue
        if r.resource_type == NODE_GROUP_COMPONENT and not _has(r.props, "cluster"):
            continue  # the component's outputs, not its inputs: the NodeGroup child is checked
        public: list[str] = [d.name for d in _dependencies(r, "subnetIds") if d.urn in public_urns]
        ok, subnet_ids = _known(lambda r=r: r.props.get("subnetIds"))
        if ok:
            # not _seq(): listing the ids would read the (possibly unknown) elements
            items = subnet_ids if isinstance(subnet_ids, Sequence) and not isinstance(subnet_ids, str) else (
                [] if subnet_ids is None else [subnet_ids])
            if len(items) == 0:
                report_violation(
                    f"node group {r.name!r} declares no subnetIds: it must name its (private) subnets explicitly "
                    "(pulumi-eks would otherwise use all the cluster's subnets, public ones included)", r.urn)
                continue
            for i in range(len(items)):
                ok_item, sid = _known(lambda items=items, i=i: items[i])
                if ok_item and sid in public_by_id:
                    public.append(public_by_id[sid])
        if public:
            names = ", ".join(sorted(set(public)))
            report_violation(f"node group {r.name!r} places nodes in public subnet(s) {names}: "
                             "worker nodes must run only in private subnets", r.urn)


# --- 2. IMDSv2, hop limit 1 ------------------------------------------------------------------------------
def launch_template_imdsv2(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LAUNCH_TEMPLATE:
        return
    md = _map(args.props.get("metadataOptions"))
    if md.get("httpTokens") != "required":
        report_violation(f"metadataOptions.httpTokens is {md.get('httpTokens')!r}: it must be 'required' "
                         "(IMDSv2 only)")
    if md.get("httpPutResponseHopLimit") != 1:
        report_violation(f"metadataOptions.httpPutResponseHopLimit is {md.get('httpPutResponseHopLimit')!r}: "
                         "it must be 1 so pods cannot reach the node's instance credentials")


# --- 2b. encrypted node volumes ---------------------------------------------------------------------------
def launch_template_encrypted_volumes(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LAUNCH_TEMPLATE:
        return
    mappings = [_map(m) for m in _seq(args.props.get("blockDeviceMappings"))]
    ebs = [(str(m.get("deviceName")), _map(m.get("ebs"))) for m in mappings if _has(m, "ebs")]
    if not ebs:
        report_violation("blockDeviceMappings declares no EBS volume: declare the root volume with "
                         "encrypted 'true' (otherwise its encryption depends on the AMI and account defaults)")
    for device, volume in ebs:
        if str(volume.get("encrypted")).lower() != "true":
            report_violation(f"EBS volume {device} is not encrypted (ebs.encrypted must be 'true')")


# --- 3. EKS secrets encryption ----------------------------------------------------------------------------
def eks_secrets_encryption(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _hidden_component(args):
        return
    props = args.props
    if args.resource_type == EKS_CLUSTER_COMPONENT:
        if not _set_or_unknown(lambda: props.get("encryptionConfigKeyArn")):
            report_violation("encryptionConfigKeyArn is not set: Kubernetes secrets must be envelope-encrypted "
                             "with a KMS key")
    elif args.resource_type == EKS_CLUSTER:
        configs = [_map(c) for c in _seq(props.get("encryptionConfig"))]
        secrets = [c for c in configs if "secrets" in _seq(c.get("resources"))]
        if not secrets:
            report_violation("encryptionConfig does not cover resources ['secrets']: Kubernetes secrets must be "
                             "envelope-encrypted with a KMS key")
        elif not any(_set_or_unknown(lambda c=c: _dig(c, "provider", "keyArn")) for c in secrets):
            report_violation("encryptionConfig for 'secrets' has no provider.keyArn (KMS key)")


# --- 4. control plane logs --------------------------------------------------------------------------------
def eks_control_plane_logs(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (EKS_CLUSTER_COMPONENT, EKS_CLUSTER) or _hidden_component(args):
        return
    enabled = {str(t) for t in _seq(args.props.get("enabledClusterLogTypes"))}
    missing = [t for t in REQUIRED_LOG_TYPES if t not in enabled]
    if missing:
        report_violation(f"enabledClusterLogTypes lacks {', '.join(missing)}: the control plane must log at least "
                         f"{', '.join(REQUIRED_LOG_TYPES)}")


# --- 5. public endpoint only with an allow-list -----------------------------------------------------------
def eks_public_endpoint_restricted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (EKS_CLUSTER_COMPONENT, EKS_CLUSTER) or _hidden_component(args):
        return
    where = args.props if args.resource_type == EKS_CLUSTER_COMPONENT else _map(args.props.get("vpcConfig"))
    prefix = "" if args.resource_type == EKS_CLUSTER_COMPONENT else "vpcConfig."
    if where.get("endpointPublicAccess") is False:  # EKS and pulumi-eks both default to a public endpoint
        return
    cidrs = [str(c) for c in _seq(where.get("publicAccessCidrs"))]
    if not cidrs:
        report_violation(f"the API endpoint is public with no {prefix}publicAccessCidrs (EKS then allows "
                         "0.0.0.0/0): list the networks allowed to reach it, or disable endpointPublicAccess")
    open_to_all = [c for c in cidrs if _is_world(c)]
    if open_to_all:
        report_violation(f"{prefix}publicAccessCidrs contains {', '.join(open_to_all)}: the public API endpoint "
                         "must be restricted to an allow-list")
    invalid = [c for c in cidrs if c not in open_to_all and not _valid_cidr(c)]
    if invalid:
        report_violation(f"{prefix}publicAccessCidrs has invalid CIDR(s) {', '.join(invalid)}")


def _valid_cidr(cidr: str) -> bool:
    try:
        ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return "/" in cidr


# --- 6/7. ECR -----------------------------------------------------------------------------------------------
def ecr_scan_on_push(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ECR_REPOSITORY:
        return
    if _dig(args.props, "imageScanningConfiguration", "scanOnPush") is not True:
        report_violation("imageScanningConfiguration.scanOnPush is not true: every pushed image must be scanned")


def ecr_immutable_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ECR_REPOSITORY:
        return
    mutability = args.props.get("imageTagMutability") or "MUTABLE (the default)"
    if mutability != "IMMUTABLE":
        report_violation(f"imageTagMutability is {mutability}: it must be IMMUTABLE so a tag always names "
                         "the image that was scanned and deployed")


# --- 8. security groups -----------------------------------------------------------------------------------
def _world_rule_problem(cidrs: list[Any], protocol: Any, from_port: Any, to_port: Any) -> str | None:
    """Why a rule open to the world is not allowed, or None (not open, or only TCP 80/443)."""
    world = [str(c) for c in cidrs if _is_world(c)]
    if not world:
        return None
    # the engine sends numbers as floats
    from_port, to_port = (int(p) if isinstance(p, float) and p.is_integer() else p for p in (from_port, to_port))
    proto = str(protocol).lower()
    if proto in TCP and from_port == to_port and from_port in WORLD_OPEN_PORTS:
        return None
    ports = f"{from_port}" if from_port == to_port else f"{from_port}-{to_port}"
    return (f"ingress from {', '.join(world)} on protocol {protocol} port(s) {ports}: only TCP 80 and 443 "
            "(load balancers) may be open to the internet")


def security_group_no_world_ingress(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props, t = args.props, args.resource_type
    if t == SECURITY_GROUP:
        for rule in _seq(props.get("ingress")):
            rule = _map(rule)
            cidrs = [*_seq(rule.get("cidrBlocks")), *_seq(rule.get("ipv6CidrBlocks"))]
            problem = _world_rule_problem(cidrs, rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"))
            if problem:
                report_violation(problem)
    elif t == SECURITY_GROUP_RULE:
        if props.get("type") != "ingress":
            return
        cidrs = [*_seq(props.get("cidrBlocks")), *_seq(props.get("ipv6CidrBlocks"))]
        problem = _world_rule_problem(cidrs, props.get("protocol"), props.get("fromPort"), props.get("toPort"))
        if problem:
            report_violation(problem)
    elif t == SECURITY_GROUP_INGRESS_RULE:
        cidrs = [c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if c]
        problem = _world_rule_problem(cidrs, props.get("ipProtocol"), props.get("fromPort"), props.get("toPort"))
        if problem:
            report_violation(problem)


def default_security_group_closed(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != DEFAULT_SECURITY_GROUP:
        return
    for direction in ("ingress", "egress"):
        rules = _seq(args.props.get(direction))
        if rules:
            report_violation(f"the VPC default security group has {len(rules)} {direction} rule(s): it must have "
                             "none, so nothing created without a security group gets any access")


# --- 9. common tags ---------------------------------------------------------------------------------------
def aws_common_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:") or args.resource_type in UNTAGGED:
        return
    if args.resource_type in TAG_LISTS:
        tags = {_map(t).get("key"): _map(t).get("value") for t in _seq(args.props.get("tags"))}
    else:
        tags = dict(_map(args.props.get("tags")))
    if any(not tags.get(k) for k in COMMON_TAGS):  # provider default tags show up in tagsAll only
        ok, tags_all = _known(lambda: dict(_map(args.props.get("tagsAll"))))
        tags = {**(tags_all if ok else {}), **tags}
    missing = [k for k in COMMON_TAGS if not tags.get(k)]
    if missing:
        report_violation(f"missing common tag(s) {', '.join(missing)}: every taggable AWS resource carries "
                         f"{', '.join(COMMON_TAGS)}")
        return
    expected = {"managed-by": "pulumi"}
    urn = _URN.match(args.urn or "")
    if urn:
        expected.update(project=urn["project"], stack=urn["stack"])
    for key, value in expected.items():
        if tags[key] != value:
            report_violation(f"tag {key}={tags[key]!r} should be {value!r}")


# --- 10. hardened containers ------------------------------------------------------------------------------
def _container_problems(pod: Props, c: Props, is_init: bool) -> list[str]:
    pod_sc, sc = _map(pod.get("securityContext")), _map(c.get("securityContext"))
    problems = []
    non_root = sc.get("runAsNonRoot") if _has(sc, "runAsNonRoot") else pod_sc.get("runAsNonRoot")
    if non_root is not True:
        problems.append("runAsNonRoot is not true (pod or container securityContext)")
    if (sc.get("runAsUser") if _has(sc, "runAsUser") else pod_sc.get("runAsUser")) == 0:
        problems.append("runAsUser is 0 (root)")
    resources = _map(c.get("resources"))
    for kind in ("requests", "limits"):
        for res in ("cpu", "memory"):
            if not _map(resources.get(kind)).get(res):
                problems.append(f"no {res} {kind[:-1]}")
    if not is_init:
        for probe in ("readinessProbe", "livenessProbe"):
            if not c.get(probe):
                problems.append(f"no {probe}")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if sc.get("privileged") is True:
        problems.append("privileged is true")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if "ALL" not in [str(x).upper() for x in _seq(_dig(sc, "capabilities", "drop"))]:
        problems.append("capabilities.drop does not include ALL")
    return problems


def containers_hardened(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = _pod_spec(args)
    if pod is None:
        return
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag) is True:
            report_violation(f"pod spec sets {flag}: workloads must not share the node's namespaces")
    containers = list(_containers(pod))
    if not containers:
        report_violation("pod spec has no containers")
    for name, c, is_init in containers:
        problems = _container_problems(pod, c, is_init)
        if problems:
            report_violation(f"container {name!r}: {'; '.join(problems)}")


# --- 10b. images by digest --------------------------------------------------------------------------------
def images_pinned_by_digest(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = _pod_spec(args)
    if pod is None:
        return
    for name, c, _ in _containers(pod):
        image = str(c.get("image") or "")
        if not DIGEST.search(image):
            report_violation(f"container {name!r} image {image!r} is not pinned by digest (repo@sha256:<64 hex>): "
                             "a tag can be moved, a digest cannot")


# --- 11. ingresses: ALB with TLS and redirect -------------------------------------------------------------
def ingress_tls_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _k8s_kind(args) != "Ingress":
        return
    annotations = _map(_dig(args.props, "metadata", "annotations"))
    cls = _dig(args.props, "spec", "ingressClassName") or annotations.get("kubernetes.io/ingress.class")
    if cls != "alb":
        report_violation(f"ingress class is {cls!r}: every Ingress must use the 'alb' class (the only controller, "
                         "which terminates TLS with the ACM certificate)")
        return
    if not _set_or_unknown(lambda: annotations.get(f"{ALB}certificate-arn")):
        report_violation(f"annotation {ALB}certificate-arn is not set: the ALB needs the ACM certificate")
    raw_ports = annotations.get(f"{ALB}listen-ports")
    try:
        ports = json.loads(raw_ports) if isinstance(raw_ports, str) else None
    except ValueError:
        ports = None
    listeners = {(str(k).upper(), v) for p in (ports if isinstance(ports, list) else []) if isinstance(p, dict)
                 for k, v in p.items()}
    if ("HTTPS", 443) not in listeners:
        report_violation(f"annotation {ALB}listen-ports is {raw_ports!r}: it must include {{\"HTTPS\":443}}")
    if annotations.get(f"{ALB}ssl-redirect") != "443":
        report_violation(f"annotation {ALB}ssl-redirect is {annotations.get(f'{ALB}ssl-redirect')!r}: "
                         "it must be '443' so plain HTTP is redirected to HTTPS")
    ssl_policy = str(annotations.get(f"{ALB}ssl-policy") or "")
    if not ssl_policy.startswith(TLS13_POLICY_PREFIX):
        report_violation(f"annotation {ALB}ssl-policy is {ssl_policy or None!r}: it must be a "
                         f"{TLS13_POLICY_PREFIX}* policy")


# --- 12. ExternalDNS scoped to its zone -------------------------------------------------------------------
def _any_zone(resource: str) -> bool:
    return any(fnmatch.fnmatchcase(probe, resource) for probe in ANY_ZONE_PROBES)


def route53_changes_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in IAM_POLICY_TYPES:
        return
    doc = _json_doc(args.props.get("policy"))
    if doc is None:
        report_violation("the policy document is not a JSON object, so its Route 53 scope cannot be checked")
        return
    for i, st in enumerate(_statements(doc)):
        if not _action_granted(st, ZONE_CHANGE_ACTION):
            continue
        sid = st.get("Sid") or f"#{i}"
        if "NotResource" in st:
            report_violation(f"statement {sid} grants route53:ChangeResourceRecordSets with NotResource, i.e. on "
                             "every other hosted zone: name the zone ARN(s) in Resource")
            continue
        wide = [str(r) for r in _seq(st.get("Resource")) if _any_zone(str(r))]
        if wide:
            report_violation(f"statement {sid} grants route53:ChangeResourceRecordSets on {', '.join(wide)}: "
                             "record changes must be limited to named hosted zone ARN(s)")


def _is_external_dns(props: Props) -> bool:
    chart = str(props.get("chart") or "")
    return chart.rstrip("/").rsplit("/", 1)[-1] == "external-dns"


def external_dns_filtered(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in HELM_TYPES or not _is_external_dns(args.props):
        return
    values = _map(args.props.get("values"))
    filters = [d for d in _seq(values.get("domainFilters")) if d]
    if not filters:
        report_violation("values.domainFilters is empty: ExternalDNS must be limited to the stack's domain")
    extra = values.get("extraArgs")
    if isinstance(extra, Mapping):  # newer charts also accept a map of flag -> value
        zone_ids = [str(v) for k, v in extra.items() if str(k).lstrip("-") == "zone-id-filter" and v]
    else:
        zone_ids = [str(a).split("=", 1)[1] for a in _seq(extra)
                    if str(a).startswith("--zone-id-filter=") and str(a).split("=", 1)[1]]
    if not zone_ids:
        report_violation("values.extraArgs has no --zone-id-filter=<zone id>: ExternalDNS must be limited to "
                         "the stack's hosted zone")


# --- 13. Helm charts pinned -------------------------------------------------------------------------------
def helm_chart_pinned(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in HELM_TYPES or not args.props:
        return
    version = args.props.get("version")
    if not isinstance(version, str) or not EXACT_VERSION.match(version):
        report_violation(f"chart {args.props.get('chart')!r} version {version!r} is not an exact version "
                         "(x.y.z): releases must be pinned, never empty or a range")


# --- 14. IRSA trust -----------------------------------------------------------------------------------------
def irsa_trust_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != IAM_ROLE:
        return
    doc = _json_doc(args.props.get("assumeRolePolicy"))
    if doc is None:
        return  # not JSON: AWS rejects it anyway
    for i, st in enumerate(_statements(doc)):
        federated = [str(p) for p in _seq(_map(st.get("Principal")).get("Federated"))]
        if not any("oidc-provider/" in p for p in federated):
            continue
        if not _action_granted(st, "sts:assumerolewithwebidentity"):
            continue
        sid = st.get("Sid") or f"#{i}"
        conditions = _map(st.get("Condition"))
        exact = {str(k): v for k, v in _map(conditions.get("StringEquals")).items()}
        like = {str(k): v for k, v in _map(conditions.get("StringLike")).items()}
        subs = [v for k, v in exact.items() if k.endswith(":sub")]
        like_subs = [v for k, v in like.items() if k.endswith(":sub")]
        auds = [v for k, v in {**like, **exact}.items() if k.endswith(":aud")]
        if not subs and not like_subs:
            report_violation(f"web-identity statement {sid} has no <issuer>:sub condition: any service account "
                             "of the cluster could assume the role")
        wildcard = [str(x) for v in like_subs for x in _seq(v) if any(ch in str(x) for ch in "*?")]
        if wildcard:
            report_violation(f"web-identity statement {sid} matches :sub with wildcard(s) {', '.join(wildcard)}: "
                             "name exactly one system:serviceaccount:<namespace>:<name>")
        if not auds or any(str(a) != "sts.amazonaws.com" for v in auds for a in _seq(v)):
            report_violation(f"web-identity statement {sid} must require <issuer>:aud = sts.amazonaws.com")


# --- 15. KMS rotation -------------------------------------------------------------------------------------
def kms_key_rotation(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != KMS_KEY:
        return
    spec = args.props.get("customerMasterKeySpec") or args.props.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys
    if args.props.get("enableKeyRotation") is not True:
        report_violation("enableKeyRotation is not true: symmetric KMS keys must rotate yearly")


# --- 16. log retention ------------------------------------------------------------------------------------
def log_group_retention(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LOG_GROUP:
        return
    days = args.props.get("retentionInDays")
    if not isinstance(days, (int, float)) or days <= 0:
        report_violation(f"retentionInDays is {days!r}: log groups must expire their events (set a retention)")


# --- the policies -----------------------------------------------------------------------------------------
MANDATORY = EnforcementLevel.MANDATORY


def _resource(name: str, description: str, validate: Callable[[ResourceValidationArgs, ReportViolation], None]
              ) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=MANDATORY)


POLICIES: list[Policy] = [
    StackValidationPolicy(
        name="eks-nodes-in-private-subnets", enforcement_level=MANDATORY, validate=eks_nodes_in_private_subnets,
        description="EKS node groups declare their subnets and none of them is public (tagged "
                    "kubernetes.io/role/elb or mapping public IPs)."),
    _resource("launch-template-imdsv2", "Launch templates require IMDSv2 (httpTokens required) with a "
              "PUT response hop limit of 1.", launch_template_imdsv2),
    _resource("launch-template-encrypted-volumes", "Launch templates declare their EBS volumes encrypted.",
              launch_template_encrypted_volumes),
    _resource("eks-secrets-encryption", "EKS clusters envelope-encrypt Kubernetes secrets with a KMS key.",
              eks_secrets_encryption),
    _resource("eks-control-plane-logs", "EKS clusters send at least the api, audit and authenticator control "
              "plane logs to CloudWatch.", eks_control_plane_logs),
    _resource("eks-public-endpoint-restricted", "A public EKS API endpoint is reachable only from a non-empty "
              "allow-list of CIDRs without 0.0.0.0/0 or ::/0.", eks_public_endpoint_restricted),
    _resource("ecr-scan-on-push", "ECR repositories scan every image on push.", ecr_scan_on_push),
    _resource("ecr-immutable-tags", "ECR repositories have immutable tags.", ecr_immutable_tags),
    _resource("security-group-no-world-ingress", "Security groups and rules allow ingress from 0.0.0.0/0 or ::/0 "
              "only on TCP 80 and 443 (load balancers).", security_group_no_world_ingress),
    _resource("default-security-group-closed", "The VPC default security group has no ingress and no egress "
              "rules.", default_security_group_closed),
    _resource("aws-common-tags", "Every taggable AWS resource carries the project, stack and managed-by tags "
              "(project and stack matching the URN, managed-by=pulumi).", aws_common_tags),
    _resource("containers-hardened", "Workload containers run as non-root without privilege escalation, with a "
              "read-only root filesystem, ALL capabilities dropped, cpu/memory requests and limits, and "
              "readiness and liveness probes.", containers_hardened),
    _resource("images-pinned-by-digest", "Workload container images are referenced by digest (@sha256:).",
              images_pinned_by_digest),
    _resource("ingress-alb-tls-only", "Ingresses use the alb class with an ACM certificate, an HTTPS:443 listener, "
              "ssl-redirect to 443 and a TLS 1.3 ELBSecurityPolicy.", ingress_tls_only),
    _resource("route53-changes-scoped", "IAM policies grant route53:ChangeResourceRecordSets only on named hosted "
              "zones, never on * or hostedzone/*.", route53_changes_scoped),
    _resource("external-dns-filtered", "The ExternalDNS release sets domainFilters and a --zone-id-filter.",
              external_dns_filtered),
    _resource("helm-chart-pinned", "Helm releases pin an exact chart version.", helm_chart_pinned),
    _resource("irsa-trust-scoped", "IRSA (web identity) trust policies require an exact :sub service account and "
              ":aud sts.amazonaws.com.", irsa_trust_scoped),
    _resource("kms-key-rotation", "Symmetric KMS keys have automatic rotation on.", kms_key_rotation),
    _resource("log-group-retention", "CloudWatch log groups have a retention period.", log_group_retention),
]


# --- ECS runtime ------------------------------------------------------------------------------------------
# Appended as one block (the ECS runtime came after the EKS one); registered in POLICIES below, tested in
# tests/policy/test_policy_ecs.py.
ECS_TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
SCHEDULE = "aws:scheduler/schedule:Schedule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
LB_LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_MANAGED_POLICY = "aws:iam/policy:Policy"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROOT_USERS = frozenset({"0", "root"})
# The one action of an execution role with no resource-level permissions (ECR login tokens are account-wide).
STAR_RESOURCE_ACTIONS = frozenset({"ecr:getauthorizationtoken"})


def _container_definitions(args: ResourceValidationArgs) -> list[Props] | None:
    """The containers of a task definition (`containerDefinitions` is a JSON string); None if it is not JSON."""
    raw = args.props.get("containerDefinitions")
    try:
        containers = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(containers, Sequence) or isinstance(containers, str):
        return None
    return [_map(c) for c in containers]


def ecs_task_non_root_read_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every container of a task definition names a non-root `user` and has a read-only root filesystem."""
    if args.resource_type != ECS_TASK_DEFINITION:
        return
    containers = _container_definitions(args)
    if containers is None:
        report_violation("containerDefinitions is not a JSON list, so its containers cannot be checked")
        return
    if not containers:
        report_violation("containerDefinitions is empty")
    for i, c in enumerate(containers):
        name = c.get("name") or f"containerDefinitions[{i}]"
        problems = []
        user = str(c.get("user") or "")
        if not user:
            problems.append("no user (the image's USER decides, root unless it says otherwise)")
        elif user.split(":", 1)[0] in ROOT_USERS:
            problems.append(f"user {user!r} is root")
        if c.get("readonlyRootFilesystem") is not True:
            problems.append("readonlyRootFilesystem is not true")
        if problems:
            report_violation(f"container {name!r}: {'; '.join(problems)}")


def _public_ip_requested(network: Any) -> bool:
    value = _map(network).get("assignPublicIp")
    return value is True or str(value).upper() in ("TRUE", "ENABLED")


def ecs_no_public_ip(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """ECS services and the schedules/rules that start tasks never give tasks a public IP."""
    t, props = args.resource_type, args.props
    if t == ECS_SERVICE:
        where, network = "networkConfiguration", props.get("networkConfiguration")
    elif t == SCHEDULE:
        where = "target.ecsParameters.networkConfiguration"
        network = _dig(props, "target", "ecsParameters", "networkConfiguration")
    elif t == EVENT_TARGET:
        where, network = "ecsTarget.networkConfiguration", _dig(props, "ecsTarget", "networkConfiguration")
    else:
        return
    if _public_ip_requested(network):
        report_violation(f"{where}.assignPublicIp is true: tasks run in private subnets and reach the internet "
                         "through NAT, never with a public address")


def ecs_deployment_circuit_breaker(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """ECS-controlled services roll back a deployment whose tasks do not become healthy."""
    if args.resource_type != ECS_SERVICE:
        return
    controller = str(_dig(args.props, "deploymentController", "type") or "ECS")
    if controller != "ECS":
        return  # CODE_DEPLOY and EXTERNAL deployments have no circuit breaker: they roll back on their own terms
    breaker = _map(args.props.get("deploymentCircuitBreaker"))
    missing = [k for k in ("enable", "rollback") if breaker.get(k) is not True]
    if missing:
        report_violation(f"deploymentCircuitBreaker.{' and .'.join(missing)} not true: a deployment whose tasks "
                         "never become healthy must stop and roll back")


def ecs_task_logs_to_managed_group(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Containers log (awslogs to a named group, or FireLens) and never let the agent create a log group, which
    would be outside the stack and never expire."""
    if args.resource_type != ECS_TASK_DEFINITION:
        return
    for i, c in enumerate(_container_definitions(args) or []):
        name = c.get("name") or f"containerDefinitions[{i}]"
        logs = _map(c.get("logConfiguration"))
        driver, options = logs.get("logDriver"), _map(logs.get("options"))
        if not driver:
            report_violation(f"container {name!r} has no logConfiguration: its output would be lost")
        elif driver == "awslogs":
            if not options.get("awslogs-group"):
                report_violation(f"container {name!r}: awslogs without awslogs-group")
            if str(options.get("awslogs-create-group")).lower() == "true":
                report_violation(f"container {name!r}: awslogs-create-group creates a log group outside the stack, "
                                 "with no retention; log to the stack's log group")


def lb_listener_tls_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Load balancer listeners terminate TLS (certificate, TLS 1.3 policy), or are HTTP listeners whose every
    default action redirects to HTTPS."""
    if args.resource_type not in LB_LISTENER_TYPES:
        return
    props = args.props
    protocol = str(props.get("protocol") or "HTTP").upper()  # an ALB listener defaults to HTTP
    if protocol in ("HTTPS", "TLS"):
        if not _set_or_unknown(lambda: props.get("certificateArn")):
            report_violation(f"{protocol} listener without certificateArn")
        ssl_policy = str(props.get("sslPolicy") or "")
        if not ssl_policy.startswith(TLS13_POLICY_PREFIX):
            report_violation(f"sslPolicy is {ssl_policy or None!r}: it must be a {TLS13_POLICY_PREFIX}* policy "
                             "(the default allows TLS 1.0)")
        return
    if protocol == "HTTP":
        actions = [_map(a) for a in _seq(props.get("defaultActions"))]
        forwards = [str(a.get("type")) for a in actions
                    if a.get("type") != "redirect" or str(_dig(a, "redirect", "protocol")).upper() != "HTTPS"]
        if not actions or forwards:
            report_violation(f"HTTP listener on port {props.get('port')!r} does not only redirect to HTTPS "
                             f"(default actions: {', '.join(forwards) or 'none'})")
        return
    report_violation(f"listener protocol {protocol}: listeners must be HTTPS/TLS, or HTTP redirecting to HTTPS")


# --- the execution role (stack policy: a role's permissions are spread over several resources) -------------
def _prop(r: Any, key: str) -> Any:
    ok, value = _known(lambda: r.props.get(key))
    return value if ok else None


def _depends(r: Any, prop: str, urns: set[str]) -> bool:
    return any(d.urn in urns for d in _dependencies(r, prop))


def _statement_problems(doc: Props | None) -> list[str]:
    if doc is None:
        return ["the document is not a JSON object"]
    problems = []
    for i, st in enumerate(_statements(doc)):
        if st.get("Effect") != "Allow":
            continue
        sid = st.get("Sid") or f"#{i}"
        if "NotAction" in st or "NotResource" in st:
            problems.append(f"statement {sid} uses NotAction/NotResource")
            continue
        actions = [str(a) for a in _seq(st.get("Action"))]
        wild = [a for a in actions if "*" in a or "?" in a]
        if wild:
            problems.append(f"statement {sid} grants wildcard action(s) {', '.join(wild)}")
        if "*" in [str(r) for r in _seq(st.get("Resource"))]:
            beyond = [a for a in actions if a.lower() not in STAR_RESOURCE_ACTIONS]
            if beyond:
                problems.append(f"statement {sid} grants {', '.join(beyond)} on Resource '*' (only "
                                "ecr:GetAuthorizationToken has no resource-level permission)")
    return problems


def ecs_execution_role_least_privilege(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every permission of a task definition's execution role is named (no wildcard actions) and scoped (no
    Resource '*' except ecr:GetAuthorizationToken), wherever it is attached: inline on the role, a RolePolicy,
    a managed Policy of the stack attached to it. AWS managed or external policies cannot be checked and are
    refused (AmazonECSTaskExecutionRolePolicy grants ECR and logs on '*').

    The role is found from the task definition's `executionRoleArn`, by property dependency (works at preview),
    by the role's `arn` output or by the role name ending the ARN (a role's id is its name); its policies by
    their `role` (the role's name or id) likewise."""
    roles = [r for r in args.resources if r.resource_type == IAM_ROLE]
    execution: dict[str, Any] = {}
    for td in args.resources:
        if td.resource_type != ECS_TASK_DEFINITION:
            continue
        arn = _prop(td, "executionRoleArn")
        deps = {d.urn for d in _dependencies(td, "executionRoleArn")}
        role_name = str(arn).rsplit("/", 1)[-1] if arn else None  # arn:aws:iam::<account>:role[/path]/<name>
        matched = [r for r in roles if r.urn in deps or (arn and _prop(r, "arn") == arn)
                   or (role_name and role_name in (_prop(r, "name"), _prop(r, "id")))]
        if arn and not matched:
            report_violation(f"task definition {td.name!r}: execution role {arn} is not declared in this stack, so "
                             "its permissions cannot be checked", td.urn)
        for r in matched:
            execution[r.urn] = r
    policies = {r.urn: r for r in args.resources if r.resource_type == IAM_MANAGED_POLICY}
    for role in execution.values():
        names = {v for v in (_prop(role, "name"), _prop(role, "id")) if isinstance(v, str) and v}
        # (what, urn to report on, how to read the document): a document still unknown at preview is skipped
        # here and judged on `pulumi up`, when it is known.
        found: list[tuple[str, str, Callable[[], Any]]] = []
        for i, inline in enumerate(_seq(_prop(role, "inlinePolicies"))):
            found.append((f"inline policy #{i}", role.urn, lambda inline=inline: _map(inline).get("policy")))
        attached: list[tuple[Any, Callable[[], Any]]] = [
            (role, lambda a=a: a) for a in _seq(_prop(role, "managedPolicyArns"))]
        for r in args.resources:
            linked = _depends(r, "role", {role.urn}) or _prop(r, "role") in names
            if r.resource_type == IAM_ROLE_POLICY and linked:
                found.append((f"role policy {r.name!r}", r.urn, lambda r=r: r.props.get("policy")))
            elif r.resource_type == IAM_ROLE_POLICY_ATTACHMENT and linked:
                attached.append((r, lambda r=r: r.props.get("policyArn")))
        for via, read_arn in attached:
            deps = [d.urn for d in _dependencies(via, "policyArn")]
            known, policy_arn = _known(read_arn)
            managed = [policies[u] for u in deps if u in policies] or [
                p for p in policies.values() if known and policy_arn and _prop(p, "arn") == policy_arn]
            if managed:
                found += [(f"policy {p.name!r}", p.urn, lambda p=p: p.props.get("policy")) for p in managed]
            elif known:
                report_violation(f"execution role {role.name!r} has policy {policy_arn!r} attached, which is not "
                                 "declared in this stack: write a scoped policy instead", via.urn)
        for what, urn, read in found:
            known, raw = _known(read)
            if not known:
                continue
            for problem in _statement_problems(_json_doc(raw)):
                report_violation(f"execution role {role.name!r}, {what}: {problem}", urn)


ECS_POLICIES: list[Policy] = [
    _resource("ecs-task-non-root-read-only", "ECS task definitions run every container as a named non-root user "
              "with a read-only root filesystem.", ecs_task_non_root_read_only),
    _resource("ecs-no-public-ip", "ECS services, schedules and event rules never assign tasks a public IP.",
              ecs_no_public_ip),
    _resource("ecs-deployment-circuit-breaker", "ECS services (ECS deployment controller) have the deployment "
              "circuit breaker on with rollback.", ecs_deployment_circuit_breaker),
    _resource("ecs-task-logs-to-managed-group", "ECS containers have a log configuration; awslogs names its group and "
              "never creates one (it would never expire).", ecs_task_logs_to_managed_group),
    _resource("lb-listener-tls-only", "Load balancer listeners are HTTPS/TLS with a certificate and a TLS 1.3 "
              "policy, or HTTP listeners that only redirect to HTTPS.", lb_listener_tls_only),
    StackValidationPolicy(
        name="ecs-execution-role-least-privilege", enforcement_level=MANDATORY,
        validate=ecs_execution_role_least_privilege,
        description="ECS execution roles grant no wildcard actions and no Resource '*' except "
                    "ecr:GetAuthorizationToken, and carry no policy the stack does not declare."),
]
ECS_POLICY_NAMES = frozenset(p.name for p in ECS_POLICIES)
POLICIES.extend(ECS_POLICIES)
