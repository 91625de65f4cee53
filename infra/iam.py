"""Every IAM document of the stack, built as data (dicts) and serialised in one place.

The functions take plain strings so they can be unit-tested and analysed (parliament) directly;
components call them inside `Output.apply`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pulumi
import yaml

DATA = Path(__file__).resolve().parent / "data"
Document = dict[str, Any]


def to_json(doc: Document) -> str:
    return json.dumps(doc, indent=2, sort_keys=True)


def json_output(build: Any, *args: Any) -> pulumi.Output[str]:
    """`build(*resolved args)` serialised, as an Output (args may be Outputs)."""
    return pulumi.Output.all(*args).apply(lambda resolved: to_json(build(*resolved)))


def service_trust_policy(service: str, condition: Document | None = None) -> Document:
    """Trust policy letting one AWS service principal assume the role (only under `condition`, if given)."""
    statement: Document = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def irsa_trust_policy(oidc_provider_arn: str, issuer: str, namespace: str, service_account: str) -> Document:
    """IRSA: only `system:serviceaccount:<ns>:<sa>` of this cluster, with the STS audience, may assume the role."""
    issuer = issuer.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{issuer}:aud": "sts.amazonaws.com",
            }},
        }],
    }


POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
# The session tags EKS Pod Identity puts on every AssumeRole (EKS User Guide, "Enable or disable session tags",
# pod-id-abac): the trust below requires three of them to name this cluster and this one service account.
POD_IDENTITY_TAGS = ("eks-cluster-arn", "kubernetes-namespace", "kubernetes-service-account")


def pod_identity_trust_policy(cluster_arn: str, namespace: str, service_account: str) -> Document:
    """EKS Pod Identity: the EKS Auth service may assume the role (and tag the session, which Pod Identity always
    does), only for `<namespace>/<service_account>` of this cluster. The conditions are the session tags the EKS
    User Guide documents for this trust ("Create IAM role with trust policy required by EKS Pod Identity"): they
    scope the role as IRSA's :sub does. aws:SourceArn/aws:SourceAccount are documented for the cluster role, not for
    this principal, and a condition on a key the request lacks denies it: they are not used."""
    values = dict(zip(POD_IDENTITY_TAGS, (cluster_arn, namespace, service_account), strict=True))
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EksPodIdentityForOneServiceAccount",
            "Effect": "Allow",
            "Principal": {"Service": POD_IDENTITY_SERVICE},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {f"aws:RequestTag/{tag}": value for tag, value in values.items()}},
        }],
    }


FARGATE_PODS_SERVICE = "eks-fargate-pods.amazonaws.com"
FARGATE_POD_EXECUTION_POLICY = "AmazonEKSFargatePodExecutionRolePolicy"  # arn:<partition>:iam::aws:policy/<this>


def fargate_pod_execution_trust_policy(partition: str, region: str, account_id: str, cluster_name: str
                                       ) -> Document:
    """The Fargate pod execution role: only Fargate profiles of this cluster may use it (the confused-deputy
    condition of the EKS User Guide, "Amazon EKS Pod execution IAM role": ArnLike aws:SourceArn
    arn:<partition>:eks:<region>:<account>:fargateprofile/<cluster>/*)."""
    return service_trust_policy(FARGATE_PODS_SERVICE, {"ArnLike": {
        "aws:SourceArn": f"arn:{partition}:eks:{region}:{account_id}:fargateprofile/{cluster_name}/*"}})


def flow_logs_trust_policy(partition: str, region: str, account_id: str) -> Document:
    """The VPC flow logs service may assume the role only for this account's flow logs in this region (the
    confused-deputy conditions of the VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs").
    The flow log's id is unknown until it exists, and it needs the role to be created: the guide allows a wildcard
    for it."""
    return service_trust_policy("vpc-flow-logs.amazonaws.com", {
        "StringEquals": {"aws:SourceAccount": account_id},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*"},
    })


def flow_logs_policy(log_group_arn: str) -> Document:
    """What the VPC flow logs service needs to write into its one log group."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        }],
    }


def external_dns_policy(zone_arn: str) -> Document:
    """ExternalDNS may change records only in this stack's zone; listing is account-wide by API design.

    No tag permission: ExternalDNS 0.21 reads zone tags (route53:ListTagsForResources, plural) only to filter zones
    by `--aws-zone-tags` (provider/aws/aws.go, AWSProvider.zones -> tagsForZone), which this stack does not pass;
    it never calls ListTagsForResource."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ChangeOwnZoneOnly", "Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
             "Resource": zone_arn},
            {"Sid": "ReadOwnZone", "Effect": "Allow",
             "Action": "route53:ListResourceRecordSets", "Resource": zone_arn},
            {"Sid": "ListZones", "Effect": "Allow", "Action": "route53:ListHostedZones", "Resource": "*"},
        ],
    }


def alb_controller_policy(chart_version: str, partition: str = "aws") -> Document:
    """The IAM policy AWS publishes for this controller version, kept verbatim in infra/data/, with its
    `arn:aws:` resources moved to `partition` (AWS's China and GovCloud variants differ exactly so)."""
    doc = json.loads((DATA / f"aws-load-balancer-controller-{chart_version}-iam-policy.json").read_text())
    for statement in doc["Statement"]:
        resources = statement.get("Resource")
        if isinstance(resources, list):
            statement["Resource"] = [in_partition(r, partition) for r in resources]
        elif isinstance(resources, str):
            statement["Resource"] = in_partition(resources, partition)
    return doc


def in_partition(arn: str, partition: str) -> str:
    """`arn:aws:...` rewritten to `arn:<partition>:...`; anything else ("*") unchanged."""
    return f"arn:{partition}:{arn.removeprefix('arn:aws:')}" if arn.startswith("arn:aws:") else arn


def cluster_autoscaler_policy(oidc_provider_arn: str, region: str, cluster_name: str) -> Document:
    """Cluster Autoscaler (kubernetes/autoscaler cloudprovider/aws README, "Full ... Features Policy"), with the
    two scaling actions limited to Auto Scaling groups that carry this cluster's auto-discovery tag, which EKS
    puts on the groups of its managed node groups (`k8s.io/cluster-autoscaler/<cluster>` = owned)."""
    # arn:<partition>:iam::<account>:oidc-provider/...: the cluster's own account and partition.
    _, partition, _, _, account, _ = oidc_provider_arn.split(":", 5)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ScaleOwnNodeGroupsOnly", "Effect": "Allow",
             "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
             "Resource": f"arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/*",
             "Condition": {"StringEquals": {
                 f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                 "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}}},
            {"Sid": "DescribeOwnNodeGroups", "Effect": "Allow", "Action": "eks:DescribeNodegroup",
             "Resource": f"arn:{partition}:eks:{region}:{account}:nodegroup/{cluster_name}/*/*"},
            # Describe/List calls have no resource-level permissions.
            {"Sid": "Discover", "Effect": "Allow", "Resource": "*", "Action": [
                "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements"]},
        ],
    }


# --- ECS extras: EFS and the scheduled task -------------------------------------------------------------
EFS_CLIENT_MOUNT = "elasticfilesystem:ClientMount"
EFS_CLIENT_WRITE = "elasticfilesystem:ClientWrite"
ECS_TASKS_SERVICE = "ecs-tasks.amazonaws.com"
ECS_SERVICE = "ecs.amazonaws.com"
# What ECS needs to move traffic in a blue/green deployment (rewrite the listener rules' forward weights, register
# tasks in either target group): the AWS managed policy the ECS developer guide names ("Amazon ECS infrastructure
# IAM role for load balancers"). Not copied: AWS maintains it as ECS's deployments change.
ECS_BLUE_GREEN_POLICY = "arn:{partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"


def efs_client_policy(file_system_arn: str, access_point_arn: str, writable: bool) -> Document:
    """A task role's EFS access: mount (and write, if `writable`) that one file system, only through its access
    point (whose POSIX user and root directory EFS then enforces). No ClientRootAccess. StringEquals, as the EFS
    guide's access point examples use (its condition key table gives the key as a string)."""
    actions = [EFS_CLIENT_MOUNT, EFS_CLIENT_WRITE] if writable else [EFS_CLIENT_MOUNT]
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "MountThroughAccessPoint",
            "Effect": "Allow",
            "Action": actions,
            "Resource": file_system_arn,
            "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": access_point_arn}},
        }],
    }


def efs_file_system_policy(file_system_arn: str) -> Document:
    """The file system's resource policy: refuse every client not using TLS. Once a file system has a policy, EFS
    no longer grants anonymous NFS access, so clients must authorise with IAM (the task role's policy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyUnencryptedTransport",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "*",
            "Resource": file_system_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    }


class EcsArn(NamedTuple):
    """The parts of an ECS cluster ARN (arn:<partition>:ecs:<region>:<account>:cluster/<name>)."""
    partition: str
    region: str
    account: str
    cluster_name: str

    @classmethod
    def parse(cls, cluster_arn: str) -> EcsArn:
        parts = cluster_arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "ecs" or not parts[5].startswith("cluster/"):
            raise ValueError(f"not an ECS cluster ARN: {cluster_arn!r}")
        return cls(parts[1], parts[3], parts[4], parts[5].removeprefix("cluster/"))

    def task_definition_family(self, family: str) -> str:
        """Every revision of one task definition family."""
        return f"arn:{self.partition}:ecs:{self.region}:{self.account}:task-definition/{family}:*"

    def tasks(self) -> str:
        """Every task of this cluster."""
        return f"arn:{self.partition}:ecs:{self.region}:{self.account}:task/{self.cluster_name}/*"


def scheduler_trust_policy(account_id: str) -> Document:
    """EventBridge Scheduler may assume the role only for schedules of this account (confused deputy)."""
    return service_trust_policy(SCHEDULER_SERVICE, {"StringEquals": {"aws:SourceAccount": account_id}})


def scheduler_run_task_policy(cluster_arn: str, family: str, task_role_arn: str,
                              execution_role_arn: str) -> Document:
    """What the schedule's role may do: run revisions of one task definition family in one cluster, tag the
    tasks it starts (RunTask with propagated tags needs ecs:TagResource), and pass exactly the task's two roles
    to ECS tasks."""
    arn = EcsArn.parse(cluster_arn)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RunTaskFamilyInCluster", "Effect": "Allow", "Action": "ecs:RunTask",
             "Resource": arn.task_definition_family(family),
             "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}}},
            {"Sid": "TagTasksItStarts", "Effect": "Allow", "Action": "ecs:TagResource", "Resource": arn.tasks(),
             "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}}},
            {"Sid": "PassTaskRoles", "Effect": "Allow", "Action": "iam:PassRole",
             "Resource": sorted({task_role_arn, execution_role_arn}),
             "Condition": {"StringEquals": {"iam:PassedToService": ECS_TASKS_SERVICE}}},
        ],
    }


# --- ECS -------------------------------------------------------------------------------------------------
def ecs_tasks_trust_policy(partition: str, region: str, account_id: str) -> Document:
    """ecs-tasks.amazonaws.com may assume the role only for tasks of this account and region (confused deputy)."""
    return service_trust_policy(ECS_TASKS_SERVICE, {
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:ecs:{region}:{account_id}:*"},
        "StringEquals": {"aws:SourceAccount": account_id},
    })


def ecs_infrastructure_trust_policy() -> Document:
    """ECS itself (ecs.amazonaws.com, not the tasks) assumes the blue/green infrastructure role. The trust policy is
    the one the ECS developer guide gives, without conditions: it documents no aws:SourceArn/SourceAccount context
    for this role, and a condition ECS does not satisfy would fail every deployment at the traffic shift."""
    return service_trust_policy(ECS_SERVICE)


def ecs_execution_policy(repository_arn: str, log_group_arn: str, secret_arns: list[str],
                         kms_key_arn: str | None, environment_files: Sequence[str] = (),
                         environment_files_kms_key_arn: str | None = None) -> Document:
    """What the ECS agent needs to start the task: pull this repository's image, write to this log group, read
    exactly the configured secrets (and decrypt them with the configured key only) and environment files. The ECR
    token call has no resource-level permissions, so it is the one `*`."""
    statements: list[Document] = [
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullAppImage", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
         "Resource": repository_arn},
        {"Sid": "WriteAppLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:*"},
    ]
    ssm = sorted(a for a in secret_arns if ":ssm:" in a)
    # IAM names the secret itself: its first 7 ARN fields, without a :json-key:version-stage:version-id tail.
    secrets_manager = sorted({":".join(a.split(":")[:7]) for a in secret_arns if ":secretsmanager:" in a})
    if ssm:
        statements.append({"Sid": "ReadParameters", "Effect": "Allow", "Action": "ssm:GetParameters",
                           "Resource": ssm})
    if secrets_manager:
        statements.append({"Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                           "Resource": secrets_manager})
    if kms_key_arn and secret_arns:
        statements.append({"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                           "Resource": kms_key_arn})
    statements += environment_file_statements(environment_files, environment_files_kms_key_arn)
    return {"Version": "2012-10-17", "Statement": statements}


def environment_file_statements(object_arns: Sequence[str], kms_key_arn: str | None) -> list[Document]:
    """ECS environment files (Developer Guide, taskdef-envfiles, "Required IAM permissions"): s3:GetObject on exactly
    these objects and s3:GetBucketLocation on their buckets (the agent looks up each bucket's region first), and
    kms:Decrypt on the bucket's customer managed key when one encrypts them."""
    if not object_arns:
        return []
    buckets = sorted({arn.split("/", 1)[0] for arn in object_arns})
    statements: list[Document] = [
        {"Sid": "ReadEnvironmentFiles", "Effect": "Allow", "Action": "s3:GetObject", "Resource": sorted(object_arns)},
        {"Sid": "LocateEnvironmentFileBuckets", "Effect": "Allow", "Action": "s3:GetBucketLocation",
         "Resource": buckets}]
    if kms_key_arn:
        statements.append({"Sid": "DecryptEnvironmentFiles", "Effect": "Allow", "Action": "kms:Decrypt",
                           "Resource": kms_key_arn})
    return statements


def ecs_otel_collector_policy(metrics_log_group_arn: str) -> Document:
    """The ADOT collector sidecar with the configuration infra/ecs/sidecars.py gives it, on the task role: its
    awsxray exporter calls PutTraceSegments only (PutTelemetryRecords needs `telemetry.enabled`, and the sampling
    calls come from the awsproxy extension or the X-Ray receiver, neither configured); X-Ray has no resource-level
    permissions for it, hence `*`. Metrics leave as EMF log events through its awsemf exporter, which calls
    PutLogEvents and, for a new stream, CreateLogStream (opentelemetry-collector-contrib internal/aws/cwlogs): into
    the stack's metrics log group only. CloudWatch extracts the metrics from those events, so no
    cloudwatch:PutMetricData and no CreateLogGroup (the stack creates the group, with its retention)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "SendTraces", "Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
            {"Sid": "WriteMetricsAsEmf", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": f"{metrics_log_group_arn}:*"},
        ],
    }


def ecs_firelens_policy(log_group_arn: str) -> Document:
    """The FireLens log router (Fluent Bit's cloudwatch_logs output, run with the task role) writing the app's logs
    into the stack's log group: CreateLogStream and PutLogEvents (fluent-bit plugins/out_cloudwatch_logs), never
    CreateLogGroup (auto_create_group is false: the group exists, with its retention)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "RouteAppLogs", "Effect": "Allow",
                       "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{log_group_arn}:*"}],
    }


def ecs_exec_policy() -> Document:
    """ECS Exec: the task's SSM agent opens its channels (these actions have no resource-level permissions)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EcsExecChannels", "Effect": "Allow",
            "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                       "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            "Resource": "*",
        }],
    }


# --- Karpenter ---------------------------------------------------------------------------------------------------
# The controller's managed policies in Karpenter's published CloudFormation template (website getting-started
# cloudformation.yaml at the chart's tag, kept verbatim in infra/data/), in the template's order.
KARPENTER_CONTROLLER_POLICIES = ("NodeLifecyclePolicy", "IAMIntegrationPolicy", "EKSIntegrationPolicy",
                                 "InterruptionPolicy", "ZonalShiftPolicy", "ResourceDiscoveryPolicy")


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Sub, !Ref, !GetAtt) as {"Fn": value} maps."""


for _tag in ("!Sub", "!Ref", "!GetAtt"):
    _CfnLoader.add_constructor(_tag, lambda loader, node, tag=_tag: {tag: loader.construct_scalar(node)})


def karpenter_template(chart_version: str) -> Document:
    """Karpenter's published CloudFormation template for this version (infra/data/)."""
    text = (DATA / f"karpenter-{chart_version}-cloudformation.yaml").read_text()
    return dict(yaml.load(text, Loader=_CfnLoader))


def _substitute(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    if "${" in text:
        raise ValueError(f"unresolved CloudFormation substitution in {text[text.index('${'):][:60]!r}")
    return text


class KarpenterNames(NamedTuple):
    """What the template's substitutions stand for in this stack."""

    partition: str
    region: str
    account_id: str
    cluster_name: str
    node_role_arn: str
    queue_arn: str

    def values(self) -> dict[str, str]:
        return {"AWS::Partition": self.partition, "AWS::Region": self.region, "AWS::AccountId": self.account_id,
                "ClusterName": self.cluster_name, "KarpenterNodeRole.Arn": self.node_role_arn,
                "KarpenterInterruptionQueue.Arn": self.queue_arn}


def karpenter_controller_policy(chart_version: str, names: KarpenterNames,
                                policies: tuple[str, ...] = KARPENTER_CONTROLLER_POLICIES) -> Document:
    """The controller's permissions exactly as Karpenter publishes them for this version: the statements of its six
    managed policies in one document (one IRSA role, one policy), scoped as upstream scopes them: launches and
    deletions only of resources tagged for this cluster (kubernetes.io/cluster/<name>, karpenter.sh/nodepool),
    PassRole only of the node role, the interruption queue's three actions only on that queue. `policies`: which of
    the six (all by default)."""
    resources = karpenter_template(chart_version)["Resources"]
    statements = []
    for policy in policies:
        document = resources[policy]["Properties"]["PolicyDocument"]["!Sub"]
        statements += json.loads(_substitute(document, names.values()))["Statement"]
    return {"Version": "2012-10-17", "Statement": statements}


def karpenter_queue_policy(queue_arn: str) -> Document:
    """The interruption queue's policy as Karpenter publishes it: EventBridge (and SQS) may send to it; plain HTTP
    is refused."""
    return {
        "Version": "2012-10-17",
        "Id": "EC2InterruptionPolicy",
        "Statement": [
            {"Sid": "EventBridgeSends", "Effect": "Allow",
             "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
             "Action": "sqs:SendMessage", "Resource": queue_arn},
            {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": queue_arn,
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }


# --- alarms and the firewall (infra/monitoring.py, infra/waf.py) -----------------------------------------------
CLOUDWATCH_SERVICE = "cloudwatch.amazonaws.com"
LOG_DELIVERY_SERVICE = "delivery.logs.amazonaws.com"


def alarm_source(partition: str, region: str, account_id: str, alarm_prefix: str) -> Document:
    """Confused deputy: CloudWatch acts only for this account's alarms named <prefix>-* in this region (CloudWatch
    sets aws:SourceArn to the alarm's ARN and aws:SourceAccount when it publishes to SNS: the topic policy)."""
    return {"StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{alarm_prefix}-*"}}


def alarm_topic_key_policy(partition: str, account_id: str) -> Document:
    """The alarm topic's customer managed key. The AWS managed key alias/aws/sns cannot work: its policy cannot be
    edited, so CloudWatch could never use it and every alarm notification would be dropped ("Enable compatibility
    between event sources from AWS services and encrypted topics",
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services). The account
    keeps full control through IAM (the default key policy's first statement); CloudWatch may only make and read
    data keys. Its statement is AWS's documented one, without aws:SourceArn/aws:SourceAccount conditions: the SNS
    guide's example has none, and it documents that a service's KMS request may not carry those keys (EventBridge's
    does not), in which case every notification would be dropped with only the alarm history saying so. The
    confused-deputy check stays where AWS documents it, on the topic policy (alarm_topic_policy): CloudWatch uses
    this key only to publish to the topic it encrypts (a key of its own), and only this stack's alarms may."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountAdministersTheKeyThroughIam", "Effect": "Allow",
             "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "CloudWatchAlarmsEncryptNotifications", "Effect": "Allow",
             "Principal": {"Service": CLOUDWATCH_SERVICE}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
             "Resource": "*"},
        ],
    }


def alarm_topic_policy(topic_arn: str, partition: str, region: str, account_id: str, alarm_prefix: str) -> Document:
    """Who may publish to the alarm topic: CloudWatch, for this stack's alarms only; nobody without TLS. (The
    account's own principals keep what their IAM policies grant: a same-account topic policy need not list them.)"""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": CLOUDWATCH_SERVICE},
             "Action": "sns:Publish", "Resource": topic_arn,
             "Condition": alarm_source(partition, region, account_id, alarm_prefix)},
            {"Sid": "DenyWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
             "Resource": topic_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }


def waf_log_delivery_policy(log_group_arn: str, partition: str, region: str, account_id: str) -> Document:
    """The log group resource policy WAF's log delivery needs (the statement AWS would otherwise add to an
    account-wide policy it creates itself, AWSLogDeliveryWrite20150319, outside the stack): delivery.logs writes
    streams of this group only, for this account's deliveries
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "WafLogDelivery", "Effect": "Allow", "Principal": {"Service": LOG_DELIVERY_SERVICE},
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{log_group_arn}:log-stream:*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                          "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:{region}:{account_id}:*"}},
        }],
    }
