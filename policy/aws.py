"""AWS, whatever the runtime: ECR repositories, security groups and the common tags of every taggable resource;
KMS key rotation and log group retention."""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from .common import Area, as_list, as_map, depends_on, dig, is_world, known, known_items, known_prop

BASELINE = Area("AWS: registry, network, tags")
KEYS_AND_LOGS = Area("AWS: keys and logs")
IAM = Area("AWS: IAM")

ECR_REPOSITORY = "aws:ecr/repository:Repository"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
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
    # Karpenter's interruption queue policy (nodeProvisioner karpenter).
    "aws:sqs/queuePolicy:QueuePolicy",
    # The alarms' and the firewall's types that take no tags (pulumi-aws 7.51.1).
    "aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription",
    "aws:cloudwatch/dashboard:Dashboard", "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "aws:wafv2/webAclAssociation:WebAclAssociation",
})
# Types whose `tags` is a list of {key, value, ...} instead of a map.
TAG_LISTS = frozenset({"aws:autoscaling/group:Group"})
COMMON_TAGS = ("project", "stack", "managed-by")
WORLD_OPEN_PORTS = frozenset({80, 443})
TCP = frozenset({"tcp", "6"})
_URN = re.compile(r"^urn:pulumi:(?P<stack>[^:]+)::(?P<project>[^:]+)::")


# --- ECR ----------------------------------------------------------------------------------------------------
@BASELINE.resource("ecr-scan-on-push", "ECR repositories scan every image on push.")
def ecr_scan_on_push(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ECR_REPOSITORY:
        return
    if dig(args.props, "imageScanningConfiguration", "scanOnPush") is not True:
        report_violation("imageScanningConfiguration.scanOnPush is not true: every pushed image must be scanned")


@BASELINE.resource("ecr-immutable-tags", "ECR repositories have immutable tags.")
def ecr_immutable_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ECR_REPOSITORY:
        return
    mutability = args.props.get("imageTagMutability") or "MUTABLE (the default)"
    if mutability != "IMMUTABLE":
        report_violation(f"imageTagMutability is {mutability}: it must be IMMUTABLE so a tag always names "
                         "the image that was scanned and deployed")


@KEYS_AND_LOGS.resource("efs-encrypted-at-rest", "EFS file systems are encrypted at rest (encrypted true; a change "
                                               "replaces the file system and its data).")
def efs_encrypted_at_rest(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:efs/fileSystem:FileSystem":
        return
    if args.props.get("encrypted") is not True:
        report_violation(f"encrypted is {args.props.get('encrypted')!r}: an EFS file system must be encrypted at rest "
                         "(set at creation only: turning it on later replaces the file system)")


# --- security groups ----------------------------------------------------------------------------------------
def _world_rule_problem(cidrs: list[Any], protocol: Any, from_port: Any, to_port: Any) -> str | None:
    """Why a rule open to the world is not allowed, or None (not open, or only TCP 80/443)."""
    world = [str(c) for c in cidrs if is_world(c)]
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


@BASELINE.resource("security-group-no-world-ingress", "Security groups and rules allow ingress from 0.0.0.0/0 or "
                                                      "::/0 only on TCP 80 and 443 (load balancers).")
def security_group_no_world_ingress(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props, t = args.props, args.resource_type
    if t == SECURITY_GROUP:
        for rule in as_list(props.get("ingress")):
            rule = as_map(rule)
            cidrs = [*as_list(rule.get("cidrBlocks")), *as_list(rule.get("ipv6CidrBlocks"))]
            problem = _world_rule_problem(cidrs, rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"))
            if problem:
                report_violation(problem)
    elif t == SECURITY_GROUP_RULE:
        if props.get("type") != "ingress":
            return
        cidrs = [*as_list(props.get("cidrBlocks")), *as_list(props.get("ipv6CidrBlocks"))]
        problem = _world_rule_problem(cidrs, props.get("protocol"), props.get("fromPort"), props.get("toPort"))
        if problem:
            report_violation(problem)
    elif t == SECURITY_GROUP_INGRESS_RULE:
        cidrs = [c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if c]
        problem = _world_rule_problem(cidrs, props.get("ipProtocol"), props.get("fromPort"), props.get("toPort"))
        if problem:
            report_violation(problem)


@BASELINE.resource("default-security-group-closed", "The VPC default security group has no ingress and no egress "
                                                    "rules.")
def default_security_group_closed(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != DEFAULT_SECURITY_GROUP:
        return
    for direction in ("ingress", "egress"):
        rules = as_list(args.props.get(direction))
        if rules:
            report_violation(f"the VPC default security group has {len(rules)} {direction} rule(s): it must have "
                             "none, so nothing created without a security group gets any access")


@BASELINE.stack("default-security-group-managed", "Every VPC of the stack has its default security group adopted "
                                                "(a DefaultSecurityGroup resource), which "
                                                "default-security-group-closed then holds to no rules.")
def default_security_group_managed(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A VPC whose default group the stack does not adopt keeps AWS's default rules (every member reaches every
    other, all egress): default-security-group-closed would then have nothing to judge. A DefaultSecurityGroup
    belongs to a VPC by property dependency of its vpcId (known at a first preview) or by the VPC's id."""
    groups = [r for r in args.resources if r.resource_type == DEFAULT_SECURITY_GROUP]
    for vpc in args.resources:
        if vpc.resource_type != VPC:
            continue
        vpc_id = known_prop(vpc, "id")
        if not any(depends_on(g, "vpcId", {vpc.urn}) or (vpc_id and known_prop(g, "vpcId") == vpc_id)
                   for g in groups):
            report_violation(f"VPC {vpc.name!r} has no DefaultSecurityGroup resource: its default security group "
                             "keeps AWS's rules (members reach each other, all egress); adopt it with no rules",
                             vpc.urn)


# --- common tags --------------------------------------------------------------------------------------------
@BASELINE.resource("aws-common-tags", "Every taggable AWS resource carries the project, stack and managed-by tags "
                                      "(project and stack matching the URN, managed-by=pulumi).")
def aws_common_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:") or args.resource_type in UNTAGGED:
        return
    if args.resource_type in TAG_LISTS:
        tags = {as_map(t).get("key"): as_map(t).get("value") for t in as_list(args.props.get("tags"))}
    else:
        tags = dict(as_map(args.props.get("tags")))
    if any(not tags.get(k) for k in COMMON_TAGS):  # provider default tags show up in tagsAll only
        ok, tags_all = known(lambda: dict(as_map(args.props.get("tagsAll"))))
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


# --- keys and logs ------------------------------------------------------------------------------------------
@KEYS_AND_LOGS.resource("kms-key-rotation", "Symmetric KMS keys have automatic rotation on.")
def kms_key_rotation(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != KMS_KEY:
        return
    spec = args.props.get("customerMasterKeySpec") or args.props.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys
    if args.props.get("enableKeyRotation") is not True:
        report_violation("enableKeyRotation is not true: symmetric KMS keys must rotate yearly")


@KEYS_AND_LOGS.resource("log-group-retention", "CloudWatch log groups have a retention period.")
def log_group_retention(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LOG_GROUP:
        return
    days = args.props.get("retentionInDays")
    if not isinstance(days, (int, float)) or days <= 0:
        report_violation(f"retentionInDays is {days!r}: log groups must expire their events (set a retention)")


# --- IAM: AWS managed policies -------------------------------------------------------------------------------
# The AWS managed policies the stack attaches, each with the role that needs it. Their documents are AWS's, not the
# stack's, so no other policy can check their scope (AmazonRoute53FullAccess on ExternalDNS's role would pass
# route53-changes-scoped, which reads the stack's documents): anything else is written as a policy of the stack.
AWS_MANAGED_POLICIES_ALLOWED: dict[str, str] = {
    "AmazonEKSClusterPolicy": "the EKS cluster's role (pulumi-eks)",
    # pulumi-eks 4.x adds these to the cluster role with autoMode.enabled (nodejs/eks/cluster/cluster.ts)
    "AmazonEKSComputePolicy": "the EKS cluster's role under Auto Mode (pulumi-eks)",
    "AmazonEKSBlockStoragePolicy": "the EKS cluster's role under Auto Mode (pulumi-eks)",
    "AmazonEKSLoadBalancingPolicy": "the EKS cluster's role under Auto Mode (pulumi-eks)",
    "AmazonEKSNetworkingPolicy": "the EKS cluster's role under Auto Mode (pulumi-eks)",
    # pulumi-eks gives these to the node role it creates for Auto Mode (autoMode.createNodeRole); this stack makes
    # that role itself with the same two (infra/eks/cluster.py, nodeProvisioner auto-mode)
    "AmazonEKSWorkerNodeMinimalPolicy": "Auto Mode's node role (nodeProvisioner auto-mode)",
    "AmazonEC2ContainerRegistryPullOnly": "Auto Mode's node role (nodeProvisioner auto-mode)",
    "AmazonEKSWorkerNodePolicy": "EKS node roles (the managed node group, Karpenter's nodes)",
    "AmazonEKS_CNI_Policy": "EKS node roles: the VPC CNI on the node",
    "AmazonEC2ContainerRegistryReadOnly": "EKS node roles: pulling the app's and the add-ons' images",
    "service-role/AmazonEC2ContainerServiceforEC2Role": "ECS container instances (ecsCapacity ec2)",
    "AmazonECSInfrastructureRolePolicyForLoadBalancers":
        "ECS blue/green: the role ECS assumes to rewrite the listener rules",
    # ECR pulls for the kubelet of Fargate pods; the EKS User Guide ("Amazon EKS Pod execution IAM role") requires it
    "AmazonEKSFargatePodExecutionRolePolicy": "the app's Fargate pod execution role (appOnFargate)",
    # The CSI drivers' controllers (EKS User Guide, the add-ons' IAM setup): AWS keeps them in step with the add-on
    # versions (new EC2/EFS actions with new driver features); both scope their writes by the drivers' own tags.
    "service-role/AmazonEBSCSIDriverPolicy": "the EBS CSI driver's controller (infra/eks/ebs_csi.py)",
    "service-role/AmazonEFSCSIDriverPolicy": "the EFS CSI driver's controller, efsCsiEnabled (infra/eks/efs_csi.py)",
}
# Attached inside pulumi-eks's component, which the mocks render as one resource: no test stack shows them.
AWS_MANAGED_INSIDE_PULUMI_EKS = frozenset({
    "AmazonEKSClusterPolicy", "AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy", "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy"})
IAM_ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment",
                   "aws:iam/userPolicyAttachment:UserPolicyAttachment",
                   "aws:iam/groupPolicyAttachment:GroupPolicyAttachment")
_AWS_MANAGED = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?P<name>.+)$")


def aws_managed_not_allowed(arns: list[Any]) -> list[str]:
    """The AWS managed policies among `arns` that are not allow-listed (unknown values, the stack's own policies
    and other accounts' pass)."""
    names = [m["name"] for a in arns if isinstance(a, str) and (m := _AWS_MANAGED.match(a))]
    return [n for n in names if n not in AWS_MANAGED_POLICIES_ALLOWED]


@IAM.resource("aws-managed-policies-allow-listed", "Only allow-listed AWS managed policies are attached (node, "
                                                   "cluster and ECS service roles); every other grant is a policy "
                                                   "of the stack, whose scope the pack checks.")
def aws_managed_policies_allow_listed(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == "aws:iam/role:Role":
        arns = known_items(lambda: args.props.get("managedPolicyArns"))
    elif args.resource_type in IAM_ATTACHMENTS:
        arns = known_items(lambda: args.props.get("policyArn"))
    else:
        return
    for name in aws_managed_not_allowed(arns):
        report_violation(f"attaches the AWS managed policy {name}, which is not allow-listed: its document is "
                         "AWS's, so its scope cannot be checked here. Write the actions the role needs as a policy "
                         "of the stack (infra/iam.py), or add the managed policy to "
                         "policy/aws.py AWS_MANAGED_POLICIES_ALLOWED with the role that needs it")
