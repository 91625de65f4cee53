"""EKS: the node groups (and the launch templates nodes boot from), the cluster, and the add-ons installed into
it with Helm, with the IAM they are given (ExternalDNS's Route 53 scope, IRSA trust).

pulumi-eks components are judged on the render, where their inputs are visible; under the engine they have none
and their `aws:eks/*` children are judged instead (see policy/common.py).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from .common import (
    IAM_POLICY_TYPES,
    IAM_ROLE,
    Area,
    Props,
    action_granted,
    as_list,
    as_map,
    dependencies,
    dig,
    has_key,
    is_world,
    json_doc,
    known,
    known_items,
    set_or_unknown,
    statements,
)

NODE_GROUPS = Area("EKS node groups, launch templates")
CLUSTER = Area("EKS cluster")
ADDONS = Area("EKS add-ons: Helm, ExternalDNS, IRSA and Pod Identity")

EKS_CLUSTER_COMPONENT = "eks:index:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP_COMPONENT = "eks:index:ManagedNodeGroup"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_GROUP_TYPES = (NODE_GROUP_COMPONENT, NODE_GROUP)
SUBNET = "aws:ec2/subnet:Subnet"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AUTOSCALING_GROUP = "aws:autoscaling/group:Group"
FARGATE_PROFILE = "aws:eks/fargateProfile:FargateProfile"
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
PUBLIC_SUBNET_TAG = "kubernetes.io/role/elb"
REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")
ZONE_CHANGE_ACTION = "route53:changeresourcerecordsets"
ANY_ZONE_PROBES = tuple(f"arn:{p}:route53:::hostedzone/ZPOLICYPROBE0000000" for p in ("aws", "aws-cn", "aws-us-gov"))
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


# --- node groups --------------------------------------------------------------------------------------------
def _is_public_subnet(props: Props) -> bool:
    ok_tags, tags = known(lambda: dict(as_map(props.get("tags"))))
    ok_map, map_public = known(lambda: props.get("mapPublicIpOnLaunch"))
    return bool((ok_tags and PUBLIC_SUBNET_TAG in tags) or (ok_map and map_public is True))


def _public_subnets(resources: Sequence[Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The stack's public subnets: (id -> name, urn -> name)."""
    public_by_id: dict[str, str] = {}
    public_urns: dict[str, str] = {}
    for r in resources:
        if r.resource_type != SUBNET or not _is_public_subnet(r.props):
            continue
        public_urns[r.urn] = r.name
        ok, subnet_id = known(lambda r=r: r.props.get("id"))
        if ok and isinstance(subnet_id, str) and subnet_id:
            public_by_id[subnet_id] = r.name
    return public_by_id, public_urns


def _public_subnets_of(r: Any, prop: str, public: tuple[dict[str, str], dict[str, str]]) -> list[str] | None:
    """The public subnets property `prop` (a list of subnet ids) of stack resource `r` names, by id or by property
    dependency; None when it is known to name none at all."""
    public_by_id, public_urns = public
    found: list[str] = [d.name for d in dependencies(r, prop) if d.urn in public_urns]
    ok, subnet_ids = known(lambda: r.props.get(prop))
    if ok:
        # not as_list(): listing the ids would read the (possibly unknown) elements
        items = subnet_ids if isinstance(subnet_ids, Sequence) and not isinstance(subnet_ids, str) else (
            [] if subnet_ids is None else [subnet_ids])
        if len(items) == 0:
            return None
        for i in range(len(items)):
            ok_item, sid = known(lambda items=items, i=i: items[i])
            if ok_item and sid in public_by_id:
                found.append(public_by_id[sid])
    return sorted(set(found))


@NODE_GROUPS.stack("eks-nodes-in-private-subnets", "EKS node groups declare their subnets and none of them is "
                                                   "public (tagged kubernetes.io/role/elb or mapping public IPs).")
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
    public = _public_subnets(args.resources)
    for r in args.resources:
        if r.resource_type not in NODE_GROUP_TYPES:
            continue
        if r.resource_type == NODE_GROUP_COMPONENT and not has_key(r.props, "cluster"):
            continue  # the component's outputs, not its inputs: the NodeGroup child is checked
        found = _public_subnets_of(r, "subnetIds", public)
        if found is None:
            report_violation(
                f"node group {r.name!r} declares no subnetIds: it must name its (private) subnets explicitly "
                "(pulumi-eks would otherwise use all the cluster's subnets, public ones included)", r.urn)
        elif found:
            report_violation(f"node group {r.name!r} places nodes in public subnet(s) {', '.join(found)}: "
                             "worker nodes must run only in private subnets", r.urn)


@NODE_GROUPS.stack("eks-fargate-profile-private-subnets", "EKS Fargate profiles declare their subnets and none of "
                                                         "them is public (tagged kubernetes.io/role/elb or mapping "
                                                         "public IPs).")
def eks_fargate_profile_private_subnets(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """What eks-nodes-in-private-subnets holds node groups to, for Fargate profiles (webstack:appOnFargate): EKS
    accepts "only private subnets with no direct route to an Internet Gateway" (EKS User Guide, "Define which
    Pods use AWS Fargate when launched"), and a profile without subnetIds takes the cluster's subnets, public ones
    included here. Caught at preview rather than by CreateFargateProfile minutes into `pulumi up`."""
    public = _public_subnets(args.resources)
    for r in args.resources:
        if r.resource_type != FARGATE_PROFILE:
            continue
        found = _public_subnets_of(r, "subnetIds", public)
        if found is None:
            report_violation(f"Fargate profile {r.name!r} declares no subnetIds: it must name its private subnets "
                             "(else EKS uses the cluster's subnets, public ones included)", r.urn)
        elif found:
            report_violation(f"Fargate profile {r.name!r} places pods in public subnet(s) {', '.join(found)}: "
                             "Fargate pods run only in private subnets", r.urn)


@NODE_GROUPS.stack("instances-in-private-subnets", "Auto Scaling groups (the ECS container instances) launch only "
                                                   "into declared private subnets, and launch templates never "
                                                   "associate a public IP address.")
def instances_in_private_subnets(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """What eks-nodes-in-private-subnets holds EKS nodes to, for the instances an Auto Scaling group launches (the
    ECS runtime's EC2 capacity): its vpcZoneIdentifiers name only private subnets (without them the group launches
    into the default VPC, whose subnets are public), and no launch template asks for a public address."""
    public = _public_subnets(args.resources)
    for r in args.resources:
        if r.resource_type == AUTOSCALING_GROUP:
            found = _public_subnets_of(r, "vpcZoneIdentifiers", public)
            if found is None:
                report_violation(f"Auto Scaling group {r.name!r} declares no vpcZoneIdentifiers: it must name its "
                                 "(private) subnets (else it launches into the default VPC's public subnets)", r.urn)
            elif found:
                report_violation(f"Auto Scaling group {r.name!r} launches instances in public subnet(s) "
                                 f"{', '.join(found)}: instances must run only in private subnets", r.urn)
        elif r.resource_type == LAUNCH_TEMPLATE:
            for i, nic in enumerate(known_items(lambda r=r: r.props.get("networkInterfaces"))):
                ok, value = known(lambda nic=nic: as_map(nic).get("associatePublicIpAddress"))
                if ok and str(value).lower() == "true":
                    report_violation(f"launch template {r.name!r} networkInterfaces[{i}].associatePublicIpAddress "
                                     "is true: instances reach the internet through NAT, never with a public "
                                     "address", r.urn)


@NODE_GROUPS.resource("launch-template-imdsv2", "Launch templates require IMDSv2 (httpTokens required) with a PUT "
                                                "response hop limit of 1.")
def launch_template_imdsv2(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LAUNCH_TEMPLATE:
        return
    md = as_map(args.props.get("metadataOptions"))
    if md.get("httpTokens") != "required":
        report_violation(f"metadataOptions.httpTokens is {md.get('httpTokens')!r}: it must be 'required' "
                         "(IMDSv2 only)")
    if md.get("httpPutResponseHopLimit") != 1:
        report_violation(f"metadataOptions.httpPutResponseHopLimit is {md.get('httpPutResponseHopLimit')!r}: "
                         "it must be 1 so pods cannot reach the node's instance credentials")


@NODE_GROUPS.resource("launch-template-encrypted-volumes", "Launch templates declare their EBS volumes encrypted.")
def launch_template_encrypted_volumes(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LAUNCH_TEMPLATE:
        return
    mappings = [as_map(m) for m in as_list(args.props.get("blockDeviceMappings"))]
    ebs = [(str(m.get("deviceName")), as_map(m.get("ebs"))) for m in mappings if has_key(m, "ebs")]
    if not ebs:
        report_violation("blockDeviceMappings declares no EBS volume: declare the root volume with "
                         "encrypted 'true' (otherwise its encryption depends on the AMI and account defaults)")
    for device, volume in ebs:
        if str(volume.get("encrypted")).lower() != "true":
            report_violation(f"EBS volume {device} is not encrypted (ebs.encrypted must be 'true')")


# Karpenter's custom resources (nodeProvisioner karpenter): the nodes it launches, hardened like the launch template.
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"


@NODE_GROUPS.resource("karpenter-nodeclass-hardened", "Karpenter EC2NodeClasses require IMDSv2 with a hop limit of 1, "
                                                      "encrypt the root volume and give nodes no public IP.")
def karpenter_nodeclass_hardened(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != EC2_NODE_CLASS:
        return
    spec = as_map(args.props.get("spec"))
    md = as_map(spec.get("metadataOptions"))
    # Karpenter's own defaults are the same, but an unset value is the CRD's to change: stated, not assumed.
    if md.get("httpTokens") != "required" or md.get("httpPutResponseHopLimit") != 1:
        report_violation(f"metadataOptions httpTokens={md.get('httpTokens')!r}, httpPutResponseHopLimit="
                         f"{md.get('httpPutResponseHopLimit')!r}: they must be 'required' and 1 (IMDSv2 only, pods "
                         "cannot reach the node's instance credentials)")
    roots = [as_map(m) for m in as_list(spec.get("blockDeviceMappings")) if as_map(m).get("rootVolume") is True]
    if not roots or any(as_map(m.get("ebs")).get("encrypted") is not True for m in roots):
        report_violation("blockDeviceMappings must declare the root volume (rootVolume true) with ebs.encrypted "
                         "true (otherwise its encryption depends on the AMI and account defaults)")
    if spec.get("associatePublicIPAddress") is not False:
        report_violation(f"associatePublicIPAddress is {spec.get('associatePublicIPAddress')!r}: it must be false "
                         "(nodes take no public address, whatever the subnet's default)")


@NODE_GROUPS.resource("karpenter-nodepool-bounded", "Karpenter NodePools cap their CPU (limits.cpu) and the nodes "
                                                    "disrupted at once (a disruption budget).")
def karpenter_nodepool_bounded(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != NODE_POOL:
        return
    spec = as_map(args.props.get("spec"))
    if not as_map(spec.get("limits")).get("cpu"):
        report_violation("limits.cpu is not set: Karpenter would launch nodes without bound for any pending pod")
    if not as_list(as_map(spec.get("disruption")).get("budgets")):
        report_violation("disruption.budgets is empty: Karpenter's default lets 10% of nodes go at once, stated "
                         "nowhere in this stack")


AUTO_NODE_CLASS = "kubernetes:eks.amazonaws.com/v1:NodeClass"


@NODE_GROUPS.stack("auto-mode-nodeclass-private", "EKS Auto Mode NodeClasses name their subnets and security "
                                                  "groups by id (the default would be the cluster's subnets, public "
                                                  "ones included), and those subnets are the stack's private ones.")
def auto_mode_nodeclass_private(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Ids only (a tag selector can match a public subnet), and the subnet ids are this stack's private subnets:
    none public (by id, or by the subnets `spec` depends on, which a first preview knows while the ids are
    unknown, as eks-nodes-in-private-subnets matches node groups) and none outside the stack (a subnet this pack
    cannot see could be public)."""
    public = _public_subnets(args.resources)
    subnets = [r for r in args.resources if r.resource_type == SUBNET]
    ids = [known(lambda r=r: r.props.get("id")) for r in subnets]
    stack_ids = {i for ok, i in ids if ok and isinstance(i, str) and i}
    all_known = len(stack_ids) == len(subnets)
    for r in args.resources:
        if r.resource_type != AUTO_NODE_CLASS:
            continue
        spec = as_map(r.props.get("spec"))
        for field in ("subnetSelectorTerms", "securityGroupSelectorTerms"):
            terms = [as_map(t) for t in as_list(spec.get(field))]
            if not terms or any(set(t) != {"id"} for t in terms):
                report_violation(f"{field} must list ids only (a tag selector can match a public subnet or another "
                                 f"group; none selects the cluster's subnets): {spec.get(field)!r}", r.urn)
        chosen = [known(lambda t=t: as_map(t).get("id")) for t in as_list(spec.get("subnetSelectorTerms"))]
        found = {d.name for d in dependencies(r, "spec") if d.urn in public[1]}
        found |= {public[0][i] for ok, i in chosen if ok and i in public[0]}
        if found:
            report_violation(f"NodeClass {r.name!r} places nodes in public subnet(s) {', '.join(sorted(found))}: "
                             "Auto Mode nodes must run only in the stack's private subnets", r.urn)
        outside = [i for ok, i in chosen if ok and isinstance(i, str) and all_known and i not in stack_ids]
        if outside:
            report_violation(f"NodeClass {r.name!r} names subnet(s) {', '.join(outside)} that are not this stack's: "
                             "Auto Mode nodes must run only in the stack's private subnets", r.urn)


# --- cluster ------------------------------------------------------------------------------------------------
def _hidden_component(args: ResourceValidationArgs) -> bool:
    """True for a pulumi-eks component whose inputs the engine does not see (its children are checked)."""
    return args.resource_type in (EKS_CLUSTER_COMPONENT, NODE_GROUP_COMPONENT) and len(args.props) == 0


@CLUSTER.resource("eks-secrets-encryption", "EKS clusters envelope-encrypt Kubernetes secrets with a KMS key.")
def eks_secrets_encryption(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _hidden_component(args):
        return
    props = args.props
    if args.resource_type == EKS_CLUSTER_COMPONENT:
        if not set_or_unknown(lambda: props.get("encryptionConfigKeyArn")):
            report_violation("encryptionConfigKeyArn is not set: Kubernetes secrets must be envelope-encrypted "
                             "with a KMS key")
    elif args.resource_type == EKS_CLUSTER:
        configs = [as_map(c) for c in as_list(props.get("encryptionConfig"))]
        secrets = [c for c in configs if "secrets" in as_list(c.get("resources"))]
        if not secrets:
            report_violation("encryptionConfig does not cover resources ['secrets']: Kubernetes secrets must be "
                             "envelope-encrypted with a KMS key")
        elif not any(set_or_unknown(lambda c=c: dig(c, "provider", "keyArn")) for c in secrets):
            report_violation("encryptionConfig for 'secrets' has no provider.keyArn (KMS key)")


@CLUSTER.resource("eks-control-plane-logs", "EKS clusters send at least the api, audit and authenticator control "
                                            "plane logs to CloudWatch.")
def eks_control_plane_logs(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (EKS_CLUSTER_COMPONENT, EKS_CLUSTER) or _hidden_component(args):
        return
    enabled = {str(t) for t in as_list(args.props.get("enabledClusterLogTypes"))}
    missing = [t for t in REQUIRED_LOG_TYPES if t not in enabled]
    if missing:
        report_violation(f"enabledClusterLogTypes lacks {', '.join(missing)}: the control plane must log at least "
                         f"{', '.join(REQUIRED_LOG_TYPES)}")


@CLUSTER.resource("eks-public-endpoint-restricted", "A public EKS API endpoint is reachable only from a non-empty "
                                                    "allow-list of CIDRs without 0.0.0.0/0 or ::/0.")
def eks_public_endpoint_restricted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (EKS_CLUSTER_COMPONENT, EKS_CLUSTER) or _hidden_component(args):
        return
    where = args.props if args.resource_type == EKS_CLUSTER_COMPONENT else as_map(args.props.get("vpcConfig"))
    prefix = "" if args.resource_type == EKS_CLUSTER_COMPONENT else "vpcConfig."
    if where.get("endpointPublicAccess") is False:  # EKS and pulumi-eks both default to a public endpoint
        return
    cidrs = [str(c) for c in as_list(where.get("publicAccessCidrs"))]
    if not cidrs:
        report_violation(f"the API endpoint is public with no {prefix}publicAccessCidrs (EKS then allows "
                         "0.0.0.0/0): list the networks allowed to reach it, or disable endpointPublicAccess")
    open_to_all = [c for c in cidrs if is_world(c)]
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


# --- add-ons: ExternalDNS scoped to its zone, Helm charts pinned, IRSA trust --------------------------------
def _any_zone(resource: str) -> bool:
    return any(fnmatch.fnmatchcase(probe, resource) for probe in ANY_ZONE_PROBES)


def _zone_problems(doc: Props) -> list[str]:
    problems = []
    for i, st in enumerate(statements(doc)):
        if not action_granted(st, ZONE_CHANGE_ACTION):
            continue
        sid = st.get("Sid") or f"#{i}"
        if "NotResource" in st:
            problems.append(f"statement {sid} grants route53:ChangeResourceRecordSets with NotResource, i.e. on "
                            "every other hosted zone: name the zone ARN(s) in Resource")
            continue
        wide = [str(r) for r in as_list(st.get("Resource")) if _any_zone(str(r))]
        if wide:
            problems.append(f"statement {sid} grants route53:ChangeResourceRecordSets on {', '.join(wide)}: "
                            "record changes must be limited to named hosted zone ARN(s)")
    return problems


@ADDONS.resource("route53-changes-scoped", "IAM policies (managed, role, user and group policies, and a role's "
                                           "inline policies) grant route53:ChangeResourceRecordSets only on named "
                                           "hosted zones, never on * or hostedzone/*.")
def route53_changes_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == IAM_ROLE:
        documents = [(f"inline policy {as_map(p).get('name') or i!r}: ", as_map(p).get("policy"))
                     for i, p in enumerate(as_list(args.props.get("inlinePolicies")))
                     if as_map(p).get("policy") is not None]  # an empty block ({}) removes every inline policy
    elif args.resource_type in IAM_POLICY_TYPES:
        documents = [("", args.props.get("policy"))]
    else:
        return
    for where, raw in documents:
        doc = json_doc(raw)
        if doc is None:
            report_violation(f"{where}the policy document is not a JSON object, so its Route 53 scope cannot be "
                             "checked")
            continue
        for problem in _zone_problems(doc):
            report_violation(where + problem)


def _is_external_dns(props: Props) -> bool:
    chart = str(props.get("chart") or "")
    return chart.rstrip("/").rsplit("/", 1)[-1] == "external-dns"


@ADDONS.resource("external-dns-filtered", "The ExternalDNS release sets domainFilters and a --zone-id-filter.")
def external_dns_filtered(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in HELM_TYPES or not _is_external_dns(args.props):
        return
    values = as_map(args.props.get("values"))
    filters = [d for d in as_list(values.get("domainFilters")) if d]
    if not filters:
        report_violation("values.domainFilters is empty: ExternalDNS must be limited to the stack's domain")
    extra = values.get("extraArgs")
    if isinstance(extra, Mapping):  # newer charts also accept a map of flag -> value
        zone_ids = [str(v) for k, v in extra.items() if str(k).lstrip("-") == "zone-id-filter" and v]
    else:
        zone_ids = [str(a).split("=", 1)[1] for a in as_list(extra)
                    if str(a).startswith("--zone-id-filter=") and str(a).split("=", 1)[1]]
    if not zone_ids:
        report_violation("values.extraArgs has no --zone-id-filter=<zone id>: ExternalDNS must be limited to "
                         "the stack's hosted zone")


@ADDONS.resource("helm-chart-pinned", "Helm releases pin an exact chart version.")
def helm_chart_pinned(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in HELM_TYPES or not args.props:
        return
    version = args.props.get("version")
    if not isinstance(version, str) or not EXACT_VERSION.match(version):
        report_violation(f"chart {args.props.get('chart')!r} version {version!r} is not an exact version "
                         "(x.y.z): releases must be pinned, never empty or a range")


def _trust_statements(args: ResourceValidationArgs) -> list[tuple[str, Props]]:
    """An IAM role's trust statements, each with its Sid (or #<index>); none when the trust is not JSON (AWS
    rejects that anyway)."""
    doc = json_doc(args.props.get("assumeRolePolicy")) if args.resource_type == IAM_ROLE else None
    return [] if doc is None else [(str(st.get("Sid") or f"#{i}"), st) for i, st in enumerate(statements(doc))]


@ADDONS.resource("irsa-trust-scoped", "IRSA (web identity) trust policies require an exact :sub service account "
                                      "and :aud sts.amazonaws.com.")
def irsa_trust_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for sid, st in _trust_statements(args):
        federated = [str(p) for p in as_list(as_map(st.get("Principal")).get("Federated"))]
        if not any("oidc-provider/" in p for p in federated):
            continue
        if not action_granted(st, "sts:assumerolewithwebidentity"):
            continue
        conditions = as_map(st.get("Condition"))
        exact = {str(k): v for k, v in as_map(conditions.get("StringEquals")).items()}
        like = {str(k): v for k, v in as_map(conditions.get("StringLike")).items()}
        subs = [v for k, v in exact.items() if k.endswith(":sub")]
        like_subs = [v for k, v in like.items() if k.endswith(":sub")]
        auds = [v for k, v in {**like, **exact}.items() if k.endswith(":aud")]
        if not subs and not like_subs:
            report_violation(f"web-identity statement {sid} has no <issuer>:sub condition: any service account "
                             "of the cluster could assume the role")
        wildcard = [str(x) for v in like_subs for x in as_list(v) if any(ch in str(x) for ch in "*?")]
        if wildcard:
            report_violation(f"web-identity statement {sid} matches :sub with wildcard(s) {', '.join(wildcard)}: "
                             "name exactly one system:serviceaccount:<namespace>:<name>")
        if not auds or any(str(a) != "sts.amazonaws.com" for v in auds for a in as_list(v)):
            report_violation(f"web-identity statement {sid} must require <issuer>:aud = sts.amazonaws.com")


# The session tags EKS Pod Identity sets (EKS User Guide, "Enable or disable session tags"): a trust of
# pods.eks.amazonaws.com without them lets every association in the account, of any cluster, namespace or service
# account, assume the role.
POD_IDENTITY_SCOPE = ("kubernetes-namespace", "kubernetes-service-account")
POD_IDENTITY_CLUSTER = ("eks-cluster-arn", "eks-cluster-name")


def _one_exact_tag(string_equals: Mapping[str, object], tag: str) -> bool:
    """The condition names exactly one value of the session tag, without wildcards (StringEquals takes none, but a
    list of values would admit each)."""
    values = [str(v) for v in as_list(string_equals.get(f"aws:requesttag/{tag}"))]
    return len(values) == 1 and not any(ch in values[0] for ch in "*?")


@ADDONS.resource("pod-identity-trust-scoped", "EKS Pod Identity trust policies require an exact cluster, namespace "
                                              "and service account (aws:RequestTag conditions).")
def pod_identity_trust_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for sid, st in _trust_statements(args):
        services = [str(p) for p in as_list(as_map(st.get("Principal")).get("Service"))]
        if "pods.eks.amazonaws.com" not in services or not action_granted(st, "sts:assumerole"):
            continue
        exact = {str(k).lower(): v for k, v in as_map(as_map(st.get("Condition")).get("StringEquals")).items()}
        missing = [t for t in POD_IDENTITY_SCOPE if not _one_exact_tag(exact, t)]
        if not any(_one_exact_tag(exact, t) for t in POD_IDENTITY_CLUSTER):
            missing.append(" or ".join(POD_IDENTITY_CLUSTER))
        if missing:
            report_violation(f"pods.eks.amazonaws.com statement {sid} has no exact StringEquals "
                             f"aws:RequestTag/{', aws:RequestTag/'.join(missing)}: any Pod Identity association of "
                             "the account could assume the role")
