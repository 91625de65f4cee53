"""Typed stack configuration: one place for every knob, its safe default and its validation.

`load_config` takes the raw `project:key` values (strings as the Pulumi CLI hands them over, or
already-parsed YAML values) and either returns a fully validated `StackConfig` or raises one
`ConfigError` listing every problem, before any resource is declared.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

PROJECT = "webstack"

# EKS versions in standard or extended support as of 2026-11 (1.31 leaves extended support on 2026-11-26);
# the default, 1.35, is in standard support until 2027-03.
SUPPORTED_KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34", "1.35", "1.36")
DEFAULT_KUBERNETES_VERSION = "1.35"
# The chart versions whose published IAM policy / values schema this project ships (infra/data/).
ALB_CONTROLLER_CHART_VERSIONS = ("3.5.0",)
EXTERNAL_DNS_CHART_VERSIONS = ("1.21.1",)
# Cluster Autoscaler chart versions whose values keys the tests check (tests/data/charts/).
CLUSTER_AUTOSCALER_CHART_VERSIONS = ("9.59.0",)
CLUSTER_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
REQUIRED_CLUSTER_LOG_TYPES = ("api", "audit", "authenticator")
EKS_ADDONS = ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent")
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
# Modern ALB TLS policies (TLS 1.2+; the TLS13 family also offers 1.3).
ALB_SSL_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)

_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/-]+$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CPU = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
_MEMORY = re.compile(r"^\d+(Ki|Mi|Gi)$")
_LABEL_KEY = re.compile(r"^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_INSTANCE_TYPE = re.compile(r"^([a-z]+)(\d+)([a-z-]*)\.(\w+)$")
_CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")


class ConfigError(ValueError):
    """All configuration problems found, one per line, each naming its key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{listing}")


@dataclass(frozen=True)
class NetworkConfig:
    vpc_cidr: str = "10.0.0.0/16"
    az_count: int = 3
    private_subnet_prefix_length: int = 19
    public_subnet_prefix_length: int = 24
    nat_strategy: str = "per-az"
    flow_logs_enabled: bool = True
    flow_logs_retention_days: int = 90


@dataclass(frozen=True)
class RegistryConfig:
    repository_name: str = "webapp"
    encryption: str = "AES256"
    kms_key_arn: str | None = None
    force_delete: bool = False
    untagged_expiry_days: int = 14
    images_to_keep: int = 30


@dataclass(frozen=True)
class DnsConfig:
    zone_name: str = ""
    create_zone: bool = False
    hostname: str = ""
    certificate_extra_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterConfig:
    name: str = ""
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    endpoint_public_access: bool = True
    public_access_cidrs: tuple[str, ...] = ()
    admin_principal_arns: tuple[str, ...] = ()
    log_types: tuple[str, ...] = REQUIRED_CLUSTER_LOG_TYPES
    log_retention_days: int = 90
    node_instance_types: tuple[str, ...] = ("m6i.large",)
    node_capacity_type: str = "ON_DEMAND"
    node_min_size: int = 2
    node_desired_size: int = 3
    node_max_size: int = 6
    node_disk_size_gb: int = 50
    node_max_unavailable: int = 1
    node_labels: tuple[tuple[str, str], ...] = ()
    addon_versions: tuple[tuple[str, str], ...] = ()

    @property
    def node_architecture(self) -> str:
        return instance_architecture(self.node_instance_types[0])


@dataclass(frozen=True)
class AddonsConfig:
    alb_controller_chart_version: str = "3.5.0"
    external_dns_chart_version: str = "1.21.1"
    # sync: ExternalDNS deletes the records it owns (TXT registry) once their Ingress is gone.
    external_dns_policy: str = "sync"
    metrics_server_chart_version: str = "3.13.0"
    cluster_autoscaler_chart_version: str = CLUSTER_AUTOSCALER_CHART_VERSIONS[0]


@dataclass(frozen=True)
class AppConfig:
    name: str = "webapp"
    namespace: str = "webapp"
    replicas: int = 2
    cpu_request: str = "500m"
    memory_request: str = "128Mi"
    cpu_limit: str = "1000m"
    memory_limit: str = "256Mi"
    service_type: str = "NodePort"
    hpa_min_replicas: int = 2
    hpa_max_replicas: int = 6
    hpa_cpu_target_percent: int = 70
    load_balancer_name: str = ""
    ssl_policy: str = ALB_SSL_POLICIES[0]

    @property
    def target_type(self) -> str:
        # NodePort services are reached through the nodes (instance mode); ClusterIP needs pod IPs.
        return "instance" if self.service_type == "NodePort" else "ip"


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    region: str
    network: NetworkConfig = field(default_factory=NetworkConfig)
    registry: RegistryConfig = field(default_factory=RegistryConfig)
    dns: DnsConfig = field(default_factory=DnsConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    addons: AddonsConfig = field(default_factory=AddonsConfig)
    app: AppConfig = field(default_factory=AppConfig)
    extra_tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Key:
    """One config key: where it lands in StackConfig, how it is parsed, and its documentation."""

    name: str
    section: str
    attr: str
    kind: str  # string | integer | boolean | array | object
    description: str


def _k(name: str, section: str, attr: str, kind: str, description: str) -> Key:
    return Key(name, section, attr, kind, description)


# Every project key. Pulumi.yaml declares exactly these (a test keeps the two in step).
KEYS: tuple[Key, ...] = (
    _k("vpcCidr", "network", "vpc_cidr", "string", "VPC IPv4 CIDR; an RFC 1918 range, /16 to /24."),
    _k("azCount", "network", "az_count", "integer", "Availability zones to span (2-6)."),
    _k("privateSubnetPrefixLength", "network", "private_subnet_prefix_length", "integer",
       "Prefix length of each private (node and pod) subnet."),
    _k("publicSubnetPrefixLength", "network", "public_subnet_prefix_length", "integer",
       "Prefix length of each public (load balancer) subnet."),
    _k("natStrategy", "network", "nat_strategy", "string",
       "'per-az' (one NAT gateway per AZ, production) or 'single' (one shared NAT, cheap dev)."),
    _k("flowLogsEnabled", "network", "flow_logs_enabled", "boolean", "Send VPC flow logs to CloudWatch Logs."),
    _k("flowLogsRetentionDays", "network", "flow_logs_retention_days", "integer",
       "Retention of the flow log group, in days (a CloudWatch Logs retention value)."),
    _k("repositoryName", "registry", "repository_name", "string", "ECR repository name for the app image."),
    _k("registryEncryption", "registry", "encryption", "string", "ECR encryption: 'AES256' or 'KMS'."),
    _k("registryKmsKeyArn", "registry", "kms_key_arn", "string",
       "KMS key ARN for ECR when registryEncryption is KMS (unset: the AWS managed aws/ecr key)."),
    _k("registryForceDelete", "registry", "force_delete", "boolean",
       "Allow destroying the repository while it still holds images (throwaway stacks only)."),
    _k("untaggedImageExpiryDays", "registry", "untagged_expiry_days", "integer",
       "Expire untagged images after this many days."),
    _k("imagesToKeep", "registry", "images_to_keep", "integer", "Keep at most this many images."),
    _k("zoneName", "dns", "zone_name", "string", "Public Route 53 zone the app lives in, e.g. example.com."),
    _k("createZone", "dns", "create_zone", "boolean",
       "Create the public zone (then delegate its name servers) instead of looking it up."),
    _k("hostname", "dns", "hostname", "string", "The app's DNS name, inside zoneName."),
    _k("certificateExtraNames", "dns", "certificate_extra_names", "array",
       "Extra names (inside zoneName) on the ACM certificate."),
    _k("clusterName", "cluster", "name", "string", "EKS cluster name (default: <project>-<stack>)."),
    _k("kubernetesVersion", "cluster", "kubernetes_version", "string", "EKS Kubernetes version."),
    _k("endpointPublicAccess", "cluster", "endpoint_public_access", "boolean",
       "Expose the API server publicly (only to publicAccessCidrs); false for runners inside the VPC."),
    _k("publicAccessCidrs", "cluster", "public_access_cidrs", "array",
       "CIDRs allowed to reach the public API endpoint (required when it is on)."),
    _k("adminPrincipalArns", "cluster", "admin_principal_arns", "array",
       "IAM role/user ARNs given cluster-admin through EKS access entries, each once, e.g. an IAM Identity Center "
       "role arn:aws:iam::<account>:role/aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_<PermissionSet>_<id>."
       " Never the identity that creates the cluster: EKS makes it admin already."),
    _k("clusterLogTypes", "cluster", "log_types", "array",
       "Control plane log types (api, audit and authenticator are always on)."),
    _k("clusterLogRetentionDays", "cluster", "log_retention_days", "integer",
       "Retention of the control plane log group, in days."),
    _k("nodeInstanceTypes", "cluster", "node_instance_types", "array",
       "Node instance types; all of one CPU architecture."),
    _k("nodeCapacityType", "cluster", "node_capacity_type", "string", "'ON_DEMAND' or 'SPOT'."),
    _k("nodeMinSize", "cluster", "node_min_size", "integer", "Node group minimum size."),
    _k("nodeDesiredSize", "cluster", "node_desired_size", "integer", "Node group desired size."),
    _k("nodeMaxSize", "cluster", "node_max_size", "integer", "Node group maximum size."),
    _k("nodeDiskSizeGb", "cluster", "node_disk_size_gb", "integer", "Encrypted gp3 root volume size (GiB)."),
    _k("nodeMaxUnavailable", "cluster", "node_max_unavailable", "integer",
       "Nodes replaced at once during a node group update."),
    _k("nodeLabels", "cluster", "node_labels", "object", "Kubernetes labels put on every node."),
    _k("addonVersions", "cluster", "addon_versions", "object",
       "Pinned EKS add-on versions by name (default: the newest for the cluster version)."),
    _k("albControllerChartVersion", "addons", "alb_controller_chart_version", "string",
       "aws-load-balancer-controller chart version."),
    _k("externalDnsChartVersion", "addons", "external_dns_chart_version", "string", "external-dns chart version."),
    _k("externalDnsPolicy", "addons", "external_dns_policy", "string",
       "ExternalDNS policy: 'sync' (deletes the records it owns once their Ingress is gone) or 'upsert-only' "
       "(never deletes records)."),
    _k("metricsServerChartVersion", "addons", "metrics_server_chart_version", "string",
       "metrics-server chart version."),
    _k("clusterAutoscalerChartVersion", "addons", "cluster_autoscaler_chart_version", "string",
       "cluster-autoscaler chart version (it scales the node group between nodeMinSize and nodeMaxSize)."),
    _k("appName", "app", "name", "string", "Name of the app's Kubernetes objects."),
    _k("appNamespace", "app", "namespace", "string", "Namespace of the app."),
    _k("appReplicas", "app", "replicas", "integer", "Deployment replicas (at least 2)."),
    _k("appCpuRequest", "app", "cpu_request", "string", "Container CPU request."),
    _k("appMemoryRequest", "app", "memory_request", "string", "Container memory request."),
    _k("appCpuLimit", "app", "cpu_limit", "string", "Container CPU limit."),
    _k("appMemoryLimit", "app", "memory_limit", "string", "Container memory limit."),
    _k("serviceType", "app", "service_type", "string",
       "'NodePort' (ALB target type instance) or 'ClusterIP' (target type ip)."),
    _k("hpaMinReplicas", "app", "hpa_min_replicas", "integer", "HPA minimum replicas."),
    _k("hpaMaxReplicas", "app", "hpa_max_replicas", "integer", "HPA maximum replicas."),
    _k("hpaCpuTargetPercent", "app", "hpa_cpu_target_percent", "integer", "HPA target CPU utilisation (%)."),
    _k("loadBalancerName", "app", "load_balancer_name", "string",
       "ALB name (default: <cluster>-<app>, at most 32 characters)."),
    _k("sslPolicy", "app", "ssl_policy", "string", "ALB TLS security policy."),
    _k("extraTags", "stack", "extra_tags", "object", "Extra tags added to every AWS resource."),
)

_SECTIONS: dict[str, type] = {
    "network": NetworkConfig, "registry": RegistryConfig, "dns": DnsConfig, "cluster": ClusterConfig,
    "addons": AddonsConfig, "app": AppConfig,
}


def _code_default(section: str, attr: str) -> Any:
    cls = StackConfig if section == "stack" else _SECTIONS[section]
    return cls.__dataclass_fields__[attr].default


def default_of(key: Key) -> Any:
    """The code default of a key, as a plain (JSON-able) value."""
    value = _code_default(key.section, key.attr)
    if key.kind == "object":
        return dict(value)
    if key.kind == "array":
        return list(value)
    return value


def instance_architecture(instance_type: str) -> str:
    """'arm64' for Graviton families (a 'g' after the generation digit, e.g. m7g, c6gn, t4g), else 'amd64'."""
    m = _INSTANCE_TYPE.match(instance_type)
    if not m:
        raise ValueError(f"not an EC2 instance type: {instance_type!r}")
    family, _generation, attrs = m.group(1), m.group(2), m.group(3)
    if family == "a" or attrs.startswith("g"):
        return "arm64"
    return "amd64"


class _Reader:
    """Parses raw values; records a problem (and returns None) instead of raising."""

    def __init__(self, raw: Mapping[str, Any], problems: list[str]):
        self.raw = raw
        self.problems = problems

    def bad(self, key: str, value: Any, allowed: str) -> None:
        self.problems.append(f"{PROJECT}:{key} = {value!r}: {allowed}")

    def parse(self, key: Key) -> Any:
        if key.name not in self.raw or self.raw[key.name] is None:
            return None
        value = self.raw[key.name]
        kind = key.kind
        if kind == "string":
            if isinstance(value, (dict, list, bool)):
                return self.bad(key.name, value, "must be a string")
            return str(value)
        if kind == "integer":
            if isinstance(value, bool):
                return self.bad(key.name, value, "must be a whole number")
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
                return int(value)
            return self.bad(key.name, value, "must be a whole number")
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
            return self.bad(key.name, value, "must be true or false")
        decoded = value
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except json.JSONDecodeError:
                return self.bad(key.name, value, f"must be a JSON/YAML {kind}")
        if kind == "array":
            if not isinstance(decoded, list) or not all(isinstance(v, str) for v in decoded):
                return self.bad(key.name, value, "must be a list of strings")
            return tuple(decoded)
        if not isinstance(decoded, dict) or not all(isinstance(v, str) for v in decoded.values()):
            return self.bad(key.name, value, "must be a map of string to string")
        return tuple(sorted(decoded.items()))


def _is_in_zone(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _valid_dns_name(name: str, allow_wildcard: bool = False) -> bool:
    if not name or len(name) > 253 or name != name.lower():
        return False
    labels = name.split(".")
    if allow_wildcard and labels[0] == "*":
        labels = labels[1:]
    return len(labels) >= 2 and all(_DNS_LABEL.match(label) for label in labels)


def _check_cidrs(key: str, values: tuple[str, ...], bad: Callable[[str, Any, str], None]) -> None:
    for cidr in values:
        try:
            net = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            bad(key, cidr, "each entry must be a CIDR with no host bits set, e.g. 203.0.113.0/24")
            continue
        if net.version == 4 and net.prefixlen == 0:
            bad(key, cidr, "the API server must not be open to the whole internet; list your runners' CIDRs")


def plan_subnets(vpc_cidr: str, az_count: int, private_prefix: int, public_prefix: int
                 ) -> tuple[list[str], list[str]]:
    """Deterministic, non-overlapping subnet CIDRs: private subnets first, then public ones, each aligned.

    Raises ValueError when they do not fit in the VPC.
    """
    vpc = ipaddress.ip_network(vpc_cidr)
    cursor = int(vpc.network_address)
    end = int(vpc.broadcast_address)
    planned: dict[str, list[str]] = {"private": [], "public": []}
    for bucket, prefix in (("private", private_prefix), ("public", public_prefix)):
        size = 2 ** (32 - prefix)
        for _ in range(az_count):
            cursor = (cursor + size - 1) // size * size  # align to the block size
            if cursor + size - 1 > end:
                raise ValueError(f"{az_count} private and {az_count} public subnets do not fit in {vpc_cidr}")
            planned[bucket].append(str(ipaddress.ip_network((cursor, prefix))))
            cursor += size
    return planned["private"], planned["public"]


def load_config(raw: Mapping[str, Any], *, project: str, stack: str, region: str | None) -> StackConfig:
    """Validate every key and build the StackConfig, or raise one ConfigError listing all problems.

    `raw` maps bare key names (no `project:` prefix) to their raw values.
    """
    problems: list[str] = []
    reader = _Reader(raw, problems)
    bad = reader.bad
    known = {k.name for k in KEYS}
    for name in sorted(set(raw) - known):
        problems.append(f"{PROJECT}:{name}: unknown key; known keys are listed in Pulumi.yaml")

    values: dict[str, dict[str, Any]] = {s: {} for s in [*_SECTIONS, "stack"]}
    for key in KEYS:
        parsed = reader.parse(key)
        if parsed is not None:
            values[key.section][key.attr] = parsed

    def get(section: str, attr: str) -> Any:
        return values[section][attr] if attr in values[section] else _code_default(section, attr)

    if not region:
        problems.append("aws:region is not set: allowed is an AWS region such as us-east-1")
        region = ""
    elif not _REGION.match(region):
        problems.append(f"aws:region = {region!r}: must be an AWS region such as us-east-1")

    # --- network ---
    vpc_cidr = get("network", "vpc_cidr")
    az_count = get("network", "az_count")
    vpc_net = None
    try:
        vpc_net = ipaddress.ip_network(vpc_cidr, strict=True)
    except ValueError:
        bad("vpcCidr", vpc_cidr, "must be an IPv4 CIDR with no host bits set, e.g. 10.0.0.0/16")
    if vpc_net is not None:
        if vpc_net.version != 4 or not any(
            vpc_net.subnet_of(ipaddress.ip_network(p))  # type: ignore[arg-type]
            for p in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
        ):
            bad("vpcCidr", vpc_cidr, "must be inside a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)")
            vpc_net = None
        elif not 16 <= vpc_net.prefixlen <= 24:
            bad("vpcCidr", vpc_cidr, "prefix length must be /16 to /24 (room for node and pod subnets in every AZ)")
            vpc_net = None
    if not 2 <= az_count <= 6:
        bad("azCount", az_count, "must be 2 to 6 (EKS and ALBs need subnets in at least two AZs)")
    private_prefix = get("network", "private_subnet_prefix_length")
    public_prefix = get("network", "public_subnet_prefix_length")
    prefixes_ok = True
    for key, val in (("privateSubnetPrefixLength", private_prefix), ("publicSubnetPrefixLength", public_prefix)):
        if not 16 <= val <= 28:
            bad(key, val, "must be 16 to 28 (AWS subnets are /16 to /28)")
            prefixes_ok = False
        elif vpc_net is not None and val <= vpc_net.prefixlen:
            bad(key, val, f"must be longer than the VPC prefix /{vpc_net.prefixlen}")
            prefixes_ok = False
    if vpc_net is not None and prefixes_ok and 2 <= az_count <= 6:
        try:
            plan_subnets(vpc_cidr, az_count, private_prefix, public_prefix)
        except ValueError as err:
            problems.append(
                f"{PROJECT}:vpcCidr/azCount/privateSubnetPrefixLength/publicSubnetPrefixLength: {err}; "
                "use a larger VPC, fewer AZs or smaller subnets"
            )
    nat = get("network", "nat_strategy")
    if nat not in ("single", "per-az"):
        bad("natStrategy", nat, "allowed: 'single' or 'per-az'")
    retention = get("network", "flow_logs_retention_days")
    if retention not in LOG_RETENTION_DAYS:
        bad("flowLogsRetentionDays", retention, f"allowed: one of {list(LOG_RETENTION_DAYS)}")

    # --- registry ---
    repo = get("registry", "repository_name")
    if not re.fullmatch(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*", repo) or len(repo) > 256:
        bad("repositoryName", repo, "must be lowercase letters, digits and . _ - / separators (ECR naming)")
    enc = get("registry", "encryption")
    if enc not in ("AES256", "KMS"):
        bad("registryEncryption", enc, "allowed: 'AES256' or 'KMS'")
    kms_arn = get("registry", "kms_key_arn")
    if kms_arn is not None:
        if not _KMS_KEY_ARN.match(kms_arn):
            bad("registryKmsKeyArn", kms_arn, "must be a KMS key or alias ARN")
        elif enc != "KMS":
            bad("registryKmsKeyArn", kms_arn, "only allowed with registryEncryption = 'KMS'")
    for key, attr, lo, hi in (("untaggedImageExpiryDays", "untagged_expiry_days", 1, 3650),
                              ("imagesToKeep", "images_to_keep", 1, 10000)):
        val = get("registry", attr)
        if not lo <= val <= hi:
            bad(key, val, f"must be {lo} to {hi}")

    # --- dns ---
    zone = get("dns", "zone_name").rstrip(".").lower() if get("dns", "zone_name") else ""
    hostname = get("dns", "hostname").rstrip(".") if get("dns", "hostname") else ""
    if not zone:
        problems.append(f"{PROJECT}:zoneName is not set: allowed is your public DNS zone, e.g. example.com")
    elif not _valid_dns_name(zone):
        bad("zoneName", zone, "must be a DNS name such as example.com")
    if not hostname:
        problems.append(f"{PROJECT}:hostname is not set: allowed is a DNS name inside zoneName, e.g. app.example.com")
    elif not _valid_dns_name(hostname):
        bad("hostname", hostname, "must be a lowercase DNS name such as app.example.com")
    elif zone and not _is_in_zone(hostname, zone):
        bad("hostname", hostname, f"must be inside zoneName {zone!r} (the certificate and record live there)")
    for name in get("dns", "certificate_extra_names"):
        if not _valid_dns_name(name, allow_wildcard=True):
            bad("certificateExtraNames", name, "each entry must be a DNS name (a leading '*.' is allowed)")
        elif zone and not _is_in_zone(name.removeprefix("*."), zone):
            bad("certificateExtraNames", name, f"each entry must be inside zoneName {zone!r}")

    # --- cluster ---
    cluster_name = get("cluster", "name") or f"{project}-{stack}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", cluster_name):
        bad("clusterName", cluster_name, "must be 1-100 letters, digits, '-' or '_', starting alphanumeric")
    version = get("cluster", "kubernetes_version")
    if version not in SUPPORTED_KUBERNETES_VERSIONS:
        bad("kubernetesVersion", version, f"allowed (EKS-supported): {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}")
    public = get("cluster", "endpoint_public_access")
    cidrs = get("cluster", "public_access_cidrs")
    if public and not cidrs:
        problems.append(
            f"{PROJECT}:publicAccessCidrs is empty while endpointPublicAccess is true: list the CIDRs of the "
            "machines running `pulumi up`, or set endpointPublicAccess to false and run from inside the VPC"
        )
    if not public and cidrs:
        bad("publicAccessCidrs", list(cidrs), "only allowed when endpointPublicAccess is true")
    _check_cidrs("publicAccessCidrs", cidrs, bad)
    seen_admins: set[str] = set()
    for arn in get("cluster", "admin_principal_arns"):
        if not _IAM_PRINCIPAL_ARN.match(arn):
            bad("adminPrincipalArns", arn, "each entry must be an IAM role or user ARN")
        elif arn.lower() in seen_admins:
            # EKS allows one access entry per principal: a second one fails the deploy.
            bad("adminPrincipalArns", arn, "listed twice; each principal may appear once")
        seen_admins.add(arn.lower())
    log_types = get("cluster", "log_types")
    unknown_logs = [t for t in log_types if t not in CLUSTER_LOG_TYPES]
    if unknown_logs:
        bad("clusterLogTypes", list(log_types), f"allowed: {', '.join(CLUSTER_LOG_TYPES)}")
    # The security-relevant log types are always on; the key can only add to them.
    log_types = tuple(t for t in CLUSTER_LOG_TYPES if t in set(log_types) | set(REQUIRED_CLUSTER_LOG_TYPES))
    if get("cluster", "log_retention_days") not in LOG_RETENTION_DAYS:
        bad("clusterLogRetentionDays", get("cluster", "log_retention_days"),
            f"allowed: one of {list(LOG_RETENTION_DAYS)}")
    types = get("cluster", "node_instance_types")
    archs: dict[str, list[str]] = {}
    if not types:
        bad("nodeInstanceTypes", list(types), "must list at least one instance type")
    for t in types:
        try:
            archs.setdefault(instance_architecture(t), []).append(t)
        except ValueError:
            bad("nodeInstanceTypes", t, "each entry must be an EC2 instance type such as m6i.large")
    if len(archs) > 1:
        bad("nodeInstanceTypes", list(types),
            f"all types must share one CPU architecture (the image is built for one), got {archs}")
    if get("cluster", "node_capacity_type") not in ("ON_DEMAND", "SPOT"):
        bad("nodeCapacityType", get("cluster", "node_capacity_type"), "allowed: 'ON_DEMAND' or 'SPOT'")
    lo, want, hi = (get("cluster", a) for a in ("node_min_size", "node_desired_size", "node_max_size"))
    if hi < 1:
        bad("nodeMaxSize", hi, "must be at least 1")
    if lo < 0:
        bad("nodeMinSize", lo, "must be 0 or more")
    if not lo <= want <= hi:
        problems.append(
            f"{PROJECT}:nodeMinSize/nodeDesiredSize/nodeMaxSize = {lo}/{want}/{hi}: must satisfy min <= desired <= max"
        )
    disk = get("cluster", "node_disk_size_gb")
    if not 20 <= disk <= 16384:
        bad("nodeDiskSizeGb", disk, "must be 20 to 16384 GiB")
    unavailable = get("cluster", "node_max_unavailable")
    if not 1 <= unavailable <= 100:
        bad("nodeMaxUnavailable", unavailable, "must be 1 to 100")
    for label_key, _ in get("cluster", "node_labels"):
        if not _LABEL_KEY.match(label_key):
            bad("nodeLabels", label_key, "each key must be a Kubernetes label key")
    for addon, addon_version in get("cluster", "addon_versions"):
        if addon not in EKS_ADDONS:
            bad("addonVersions", addon, f"add-on must be one of {', '.join(EKS_ADDONS)}")
        elif not _ADDON_VERSION.match(addon_version):
            bad("addonVersions", f"{addon}={addon_version}", "version must look like v1.2.3-eksbuild.1")

    # --- add-ons ---
    alb_version = get("addons", "alb_controller_chart_version")
    if alb_version not in ALB_CONTROLLER_CHART_VERSIONS:
        bad("albControllerChartVersion", alb_version,
            f"allowed: {', '.join(ALB_CONTROLLER_CHART_VERSIONS)} (the versions whose IAM policy infra/data/ ships)")
    dns_version = get("addons", "external_dns_chart_version")
    if dns_version not in EXTERNAL_DNS_CHART_VERSIONS:
        bad("externalDnsChartVersion", dns_version,
            f"allowed: {', '.join(EXTERNAL_DNS_CHART_VERSIONS)} (the versions whose values schema is checked)")
    if get("addons", "external_dns_policy") not in ("upsert-only", "sync"):
        bad("externalDnsPolicy", get("addons", "external_dns_policy"), "allowed: 'upsert-only' or 'sync'")
    ca_version = get("addons", "cluster_autoscaler_chart_version")
    if ca_version not in CLUSTER_AUTOSCALER_CHART_VERSIONS:
        bad("clusterAutoscalerChartVersion", ca_version,
            f"allowed: {', '.join(CLUSTER_AUTOSCALER_CHART_VERSIONS)} (the versions whose values are checked)")
    if not _CHART_VERSION.match(get("addons", "metrics_server_chart_version")):
        bad("metricsServerChartVersion", get("addons", "metrics_server_chart_version"),
            "must be an exact chart version such as 3.13.0")

    # --- app ---
    for key, attr in (("appName", "name"), ("appNamespace", "namespace")):
        val = get("app", attr)
        if not _K8S_NAME.match(val):
            bad(key, val, "must be a DNS-1123 label (lowercase letters, digits, '-', at most 63)")
    if get("app", "replicas") < 2:
        bad("appReplicas", get("app", "replicas"), "must be at least 2 (one pod per zone survives a zone loss)")
    for key, attr, rx, example in (("appCpuRequest", "cpu_request", _CPU, "500m"),
                                   ("appCpuLimit", "cpu_limit", _CPU, "1000m"),
                                   ("appMemoryRequest", "memory_request", _MEMORY, "128Mi"),
                                   ("appMemoryLimit", "memory_limit", _MEMORY, "256Mi")):
        if not rx.match(get("app", attr)):
            bad(key, get("app", attr), f"must be a Kubernetes quantity such as {example}")
    cpu_req, cpu_lim = get("app", "cpu_request"), get("app", "cpu_limit")
    if _CPU.match(cpu_req) and _CPU.match(cpu_lim) and _millicores(cpu_req) > _millicores(cpu_lim):
        bad("appCpuRequest", cpu_req, "must not exceed appCpuLimit")
    mem_req, mem_lim = get("app", "memory_request"), get("app", "memory_limit")
    if _MEMORY.match(mem_req) and _MEMORY.match(mem_lim) and _mebibytes(mem_req) > _mebibytes(mem_lim):
        bad("appMemoryRequest", mem_req, "must not exceed appMemoryLimit")
    if get("app", "service_type") not in ("NodePort", "ClusterIP"):
        bad("serviceType", get("app", "service_type"), "allowed: 'NodePort' or 'ClusterIP'")
    hpa_min, hpa_max = get("app", "hpa_min_replicas"), get("app", "hpa_max_replicas")
    if hpa_min < 2:
        bad("hpaMinReplicas", hpa_min, "must be at least 2")
    if hpa_max < hpa_min:
        bad("hpaMaxReplicas", hpa_max, f"must be at least hpaMinReplicas ({hpa_min})")
    if not 1 <= get("app", "hpa_cpu_target_percent") <= 100:
        bad("hpaCpuTargetPercent", get("app", "hpa_cpu_target_percent"), "must be 1 to 100")
    lb_name = get("app", "load_balancer_name") or f"{cluster_name}-{get('app', 'name')}"[:32].rstrip("-")
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?", lb_name) or lb_name.startswith(
        "internal-"
    ):
        bad("loadBalancerName", lb_name, "must be 1-32 letters, digits or '-', not starting or ending with '-'")
    if get("app", "ssl_policy") not in ALB_SSL_POLICIES:
        bad("sslPolicy", get("app", "ssl_policy"), f"allowed (TLS 1.2+): {', '.join(ALB_SSL_POLICIES)}")

    for tag_key, tag_value in get("stack", "extra_tags"):
        if tag_key.lower().startswith("aws:") or not 1 <= len(tag_key) <= 128 or len(tag_value) > 256:
            bad("extraTags", tag_key, "keys must be 1-128 characters and not start with 'aws:'; values <= 256")

    if problems:
        raise ConfigError(problems)

    def build(section: str, **overrides: Any) -> Any:
        cls = _SECTIONS[section]
        kwargs = {f.name: get(section, f.name) for f in fields(cls)}
        kwargs.update(overrides)
        return cls(**kwargs)

    return StackConfig(
        project=project,
        stack=stack,
        region=region,
        network=build("network"),
        registry=build("registry"),
        dns=build("dns", zone_name=zone, hostname=hostname),
        cluster=build("cluster", name=cluster_name, log_types=log_types),
        addons=build("addons"),
        app=build("app", load_balancer_name=lb_name),
        extra_tags=get("stack", "extra_tags"),
    )


def _millicores(q: str) -> float:
    return float(q[:-1]) if q.endswith("m") else float(q) * 1000


def _mebibytes(q: str) -> float:
    scale = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}[q[-2:]]
    return float(q[:-2]) * scale


def from_pulumi() -> StackConfig:
    """Read this stack's config through the Pulumi SDK and validate it."""
    import pulumi

    cfg = pulumi.Config(PROJECT)
    raw: dict[str, Any] = {}
    for key in KEYS:
        value = cfg.get(key.name)
        if value is not None:
            raw[key.name] = value
    # Unknown keys are caught too: the SDK exposes the whole config map.
    from pulumi.runtime.config import CONFIG

    for full_key in CONFIG.get():
        ns, _, name = full_key.partition(":")
        if ns == PROJECT and name not in raw and name not in {k.name for k in KEYS}:
            raw[name] = CONFIG.get()[full_key]
    region = pulumi.Config("aws").get("region")
    return load_config(raw, project=pulumi.get_project(), stack=pulumi.get_stack(), region=region)
