"""Deterministic fake cloud answers for the mock runtime.

Ids and computed outputs are derived from the resource's type and name only, so two renders of
the same config are byte-identical. Values look like the real thing (ARNs, ids, digests) so code
that parses them is exercised; they are not meant to be realistic beyond their shape.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
AZ_LETTERS = "abcdef"
# The fake account's zones, as DescribeAvailabilityZones describes them: (name, zone id, zone type, opt-in status);
# other regions get six standard zones, aN -> <prefix>-azN. Names map to IDs per account (AWS shuffles them): here not
# in ID order, so a choice by ID shows. us-east-1 also has an opted-in Local Zone whose name sorts before every
# standard zone's, and use1-az3 (which the stack leaves out). us-west-1 is an older account's: two zones, one of them
# usw1-az2 (left out too), so the deploy-time check of azCount against the usable zones is exercised.
_STANDARD = ("availability-zone", "opt-in-not-required")
ZONES_BY_REGION: dict[str, list[tuple[str, str, str, str]]] = {
    "us-east-1": [("us-east-1-bos-1a", "use1-bos1-az1", "local-zone", "opted-in"),
                  *((f"us-east-1{letter}", f"use1-az{n}", *_STANDARD)
                    for letter, n in zip("abcdef", (4, 6, 1, 3, 2, 5), strict=True))],
    "us-west-1": [("us-west-1a", "usw1-az2", *_STANDARD), ("us-west-1c", "usw1-az1", *_STANDARD)],
}

# Resource id prefixes of the AWS types the stack declares.
_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/route:Route": "r-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
    "aws:efs/fileSystem:FileSystem": "fs-",
    "aws:efs/accessPoint:AccessPoint": "fsap-",
    "aws:efs/mountTarget:MountTarget": "fsmt-",
    "aws:route53/zone:Zone": "Z",
}


# Children pulumi-eks declares inside its components, which the mock never sees (no provider runs): the access entries,
# which the program's transforms alias. pulumi/pulumi-eks nodejs/eks/cluster/authenticationMode.ts createAccessEntries
# (called by createCore with the Cluster as parent): `<cluster>-<key>` under the component, each of its policy
# associations `<cluster>-<key>-<policy>` under that entry.
ACCESS_ENTRY, ACCESS_POLICY = ("aws:eks/accessEntry:AccessEntry",
                               "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")


NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
# ManagedNodeGroup inputs that are the component's own, not the aws.eks.NodeGroup's.
_COMPONENT_ONLY = ("cluster", "ignoreScalingChanges", "operatingSystem", "enableIMDSv2", "kubeletExtraArgs",
                   "bootstrapExtraArgs", "nodeadmExtraOptions", "bottlerocketSettings", "gpu", "userData")


def _node_group_child(name: str, inputs: dict[str, Any]) -> tuple[str, str, int | None, dict, list[str]]:
    """The aws.eks.NodeGroup pulumi-eks declares for a ManagedNodeGroup (pulumi/pulumi-eks nodejs/eks/nodes/
    nodegroup.ts, createManagedNodeGroupInternal): named like the component, under it, its scalingConfig with
    pulumi-eks's defaults (desired 2, min 1, max 2), and `ignoreChanges: ["scalingConfig.desiredSize"]` when
    `ignoreScalingChanges` is set."""
    given = inputs.get("scalingConfig") or {}
    scaling = {k: int(given.get(k, default)) for k, default in (("desiredSize", 2), ("minSize", 1), ("maxSize", 2))}
    props = {k: v for k, v in inputs.items() if k not in _COMPONENT_ONLY}
    props["scalingConfig"] = scaling
    ignored = ["scalingConfig.desiredSize"] if inputs.get("ignoreScalingChanges") else []
    return NODE_GROUP, name, None, props, ignored


def remote_children(typ: str, name: str, inputs: dict[str, Any]) -> list[tuple[str, str, int | None, dict, list[str]]]:
    """(type, name, index of the parent in this list or None for the component, inputs, the ignoreChanges its
    component gives it) of each modelled child."""
    if typ == "eks:index:ManagedNodeGroup":
        return [_node_group_child(name, inputs)]
    if typ != "eks:index:Cluster":
        return []
    out: list[tuple[str, str, int | None, dict, list[str]]] = []
    for key, entry in sorted((inputs.get("accessEntries") or {}).items()):
        entry = entry if isinstance(entry, dict) else {}
        out.append((ACCESS_ENTRY, f"{name}-{key}", None, dict(entry), []))
        parent = len(out) - 1
        for policy, association in sorted((entry.get("accessPolicies") or {}).items()):
            out.append((ACCESS_POLICY, f"{name}-{key}-{policy}", parent,
                        dict(association) if isinstance(association, dict) else {}, []))
    return out


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _hex_id(typ: str, name: str, length: int = 17) -> str:
    return _digest(typ, name)[:length]


class FakeCloud(pulumi.runtime.Mocks):
    """Answers resource registrations and data-source calls; the capture lives in the monitor."""

    def __init__(self, region: str, zone_name: str = ""):
        self.region = region
        # The account's public zone: what a lookup by zoneId finds (the stack's zoneName).
        self.zone_name = zone_name
        # ARNs and endpoints follow the region's partition (an unknown region is the config's to refuse)
        self.partition = partition_of(region) or "aws"
        self.dns_suffix = _dns_suffixes()[self.partition]
        self.calls: list[dict[str, Any]] = []
        # Ingresses registered so far, by `<namespace>/<name>`: what the LB controller builds its target groups from.
        self.ingresses: dict[str, dict[str, Any]] = {}

    # --- resources ---
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        if typ.startswith("pulumi:providers:"):
            return f"{name}-provider-id", inputs
        state = dict(inputs)
        rid = self._id(typ, name, inputs)
        arn = self._arn(typ, name, inputs, rid)
        if arn:
            state.setdefault("arn", arn)
        state.update(self._computed(typ, name, inputs, rid))
        if typ == INGRESS:
            self.ingresses[rid] = inputs
        return rid, state

    def _id(self, typ: str, name: str, inputs: dict) -> str:
        if typ in _ID_PREFIX:
            prefix = _ID_PREFIX[typ]
            return prefix + (_hex_id(typ, name, 13).upper() if prefix == "Z" else _hex_id(typ, name))
        if typ == "aws:sqs/queue:Queue":  # the provider's id is the queue URL
            return f"https://sqs.{self.region}.{self.dns_suffix}/{ACCOUNT_ID}/{inputs.get('name') or name}"
        if typ.startswith("kubernetes:"):
            meta = inputs.get("metadata") or {}
            ns = meta.get("namespace")
            obj = meta.get("name") or inputs.get("name") or name
            return f"{ns}/{obj}" if ns else obj
        return f"{name}-{_hex_id(typ, name, 8)}"

    def _arn(self, typ: str, name: str, inputs: dict, rid: str) -> str | None:
        r, a, p = self.region, ACCOUNT_ID, self.partition
        if typ == "aws:iam/role:Role":
            return f"arn:{p}:iam::{a}:role/{inputs.get('name') or rid}"
        if typ == "aws:iam/policy:Policy":
            return f"arn:{p}:iam::{a}:policy/{inputs.get('name') or rid}"
        if typ == "aws:kms/key:Key":
            return f"arn:{p}:kms:{r}:{a}:key/{_uuid(typ, name)}"
        if typ == "aws:ecr/repository:Repository":
            return f"arn:{p}:ecr:{r}:{a}:repository/{inputs.get('name')}"
        if typ == "aws:acm/certificate:Certificate":
            return f"arn:{p}:acm:{r}:{a}:certificate/{_uuid(typ, name)}"
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            return f"arn:{p}:logs:{r}:{a}:log-group:{inputs.get('name') or name}"
        if typ == "aws:route53/zone:Zone":
            return f"arn:{p}:route53:::hostedzone/{rid}"
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":  # the bootstrap's GitHub provider
            return f"arn:{p}:iam::{a}:oidc-provider/{str(inputs.get('url', name)).removeprefix('https://')}"
        if typ == "aws:s3/bucket:Bucket":
            return f"arn:{p}:s3:::{inputs.get('bucket') or rid}"
        ecs_arn = self._ecs_arn(typ, name, inputs) or self._ops_arn(typ, name, inputs)
        if ecs_arn:
            return ecs_arn
        if typ.startswith("aws:ec2/"):
            kind = typ.split(":")[-1].lower()
            return f"arn:{p}:ec2:{r}:{a}:{kind}/{rid}"
        return None

    def _ecs_arn(self, typ: str, name: str, inputs: dict) -> str | None:
        """ARNs of the ECS runtime's types (ECS, ELBv2, Auto Scaling, instance profiles, EFS, Scheduler, scaling
        policies, alarms)."""
        r, a, p, n = self.region, ACCOUNT_ID, self.partition, inputs.get("name") or name
        if typ == "aws:ecs/cluster:Cluster":
            return f"arn:{p}:ecs:{r}:{a}:cluster/{n}"
        if typ == "aws:ecs/taskDefinition:TaskDefinition":
            return f"arn:{p}:ecs:{r}:{a}:task-definition/{inputs.get('family')}:1"
        if typ == "aws:ecs/service:Service":
            return f"arn:{p}:ecs:{r}:{a}:service/{_last(inputs.get('cluster'))}/{n}"
        if typ == "aws:ecs/capacityProvider:CapacityProvider":
            return f"arn:{p}:ecs:{r}:{a}:capacity-provider/{n}"
        if typ == "aws:lb/loadBalancer:LoadBalancer":
            return f"arn:{p}:elasticloadbalancing:{r}:{a}:loadbalancer/app/{n}/{_hex_id(typ, name, 16)}"
        if typ == "aws:lb/targetGroup:TargetGroup":
            return f"arn:{p}:elasticloadbalancing:{r}:{a}:targetgroup/{n}/{_hex_id(typ, name, 16)}"
        if typ == "aws:lb/listener:Listener":
            return f"arn:{p}:elasticloadbalancing:{r}:{a}:listener/app/{name}/{_hex_id(typ, name, 16)}"
        if typ == "aws:lb/listenerRule:ListenerRule":  # listener-rule/app/<alb>/<alb id>/<listener id>/<rule id>
            listener = str(inputs.get("listenerArn") or f"arn:{p}:elasticloadbalancing:{r}:{a}:listener/app/x/0/0")
            return f"{listener.replace(':listener/', ':listener-rule/', 1)}/{_hex_id(typ, name, 16)}"
        if typ == "aws:autoscaling/group:Group":
            return (f"arn:{p}:autoscaling:{r}:{a}:autoScalingGroup:{_uuid(typ, name)}"
                    f":autoScalingGroupName/{n}")
        if typ == "aws:iam/instanceProfile:InstanceProfile":
            return f"arn:{p}:iam::{a}:instance-profile/{n}"
        if typ == "aws:efs/fileSystem:FileSystem":
            return f"arn:{p}:elasticfilesystem:{r}:{a}:file-system/{self._id(typ, name, inputs)}"
        if typ == "aws:efs/accessPoint:AccessPoint":
            return f"arn:{p}:elasticfilesystem:{r}:{a}:access-point/{self._id(typ, name, inputs)}"
        if typ == "aws:scheduler/schedule:Schedule":
            return f"arn:{p}:scheduler:{r}:{a}:schedule/default/{n}"
        if typ == "aws:appautoscaling/policy:Policy":  # the PutScalingPolicy response's PolicyARN
            return (f"arn:{p}:autoscaling:{r}:{a}:scalingPolicy:{_uuid(typ, name)}:resource/"
                    f"{inputs.get('serviceNamespace')}/{inputs.get('resourceId')}:policyName/{n}")
        if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            return f"arn:{p}:cloudwatch:{r}:{a}:alarm:{n}"
        if typ == "aws:sqs/queue:Queue":  # Karpenter's interruption queue
            return f"arn:{p}:sqs:{r}:{a}:{n}"
        if typ == "aws:cloudwatch/eventRule:EventRule":
            return f"arn:{p}:events:{r}:{a}:rule/{n}"
        return None

    def _ops_arn(self, typ: str, name: str, inputs: dict) -> str | None:
        """ARNs of the alarm topic and the web ACL (infra/monitoring.py, infra/waf.py; alarms: _ecs_arn)."""
        r, a, p, n = self.region, ACCOUNT_ID, self.partition, inputs.get("name") or name
        if typ == "aws:sns/topic:Topic":
            return f"arn:{p}:sns:{r}:{a}:{n}"
        if typ == "aws:sns/topicSubscription:TopicSubscription":
            return f"{inputs.get('topic')}:{_uuid(typ, name)}"
        if typ == "aws:wafv2/webAcl:WebAcl":
            return f"arn:{p}:wafv2:{r}:{a}:regional/webacl/{n}/{_uuid(typ, name)}"
        return None

    def _computed(self, typ: str, name: str, inputs: dict, rid: str) -> dict[str, Any]:
        r, a, dns = self.region, ACCOUNT_ID, self.dns_suffix
        if typ == "aws:lb/loadBalancer:LoadBalancer":
            arn = self._ecs_arn(typ, name, inputs) or ""
            return {"arnSuffix": arn.split(":loadbalancer/", 1)[1], "zoneId": "Z35SXDOTRQ7X7K",
                    "dnsName": f"{inputs.get('name') or name}-{int(_digest(name)[:8], 16)}.{r}.elb.{dns}"}
        if typ == "aws:lb/targetGroup:TargetGroup":
            arn = self._ecs_arn(typ, name, inputs) or ""
            return {"arnSuffix": arn.split(":", 5)[5]}
        if typ == "aws:ecs/taskDefinition:TaskDefinition":
            arn = self._ecs_arn(typ, name, inputs) or ""
            return {"revision": 1, "arnWithoutRevision": arn.rsplit(":", 1)[0]}
        if typ == "aws:ecr/repository:Repository":
            return {"repositoryUrl": f"{a}.dkr.ecr.{r}.{dns}/{inputs.get('name')}", "registryId": a}
        if typ == "aws:route53/zone:Zone":
            return {"zoneId": rid, "nameServers": [f"ns-{i}.awsdns-{i:02d}.{tld}" for i, tld in
                                                   ((101, "com"), (202, "net"), (303, "org"), (404, "co.uk"))]}
        if typ == "aws:acm/certificate:Certificate":
            names = [inputs.get("domainName"), *(inputs.get("subjectAlternativeNames") or [])]
            return {"domainValidationOptions": [
                {"domainName": n, "resourceRecordName": f"_{_digest(n)[:32]}.{n.removeprefix('*.')}.",
                 "resourceRecordType": "CNAME", "resourceRecordValue": f"_{_digest('v', n)[:32]}.acm-validations.aws."}
                for n in names if n]}
        if typ == "aws:route53/record:Record":
            return {"fqdn": str(inputs.get("name") or name).rstrip(".")}
        if typ == "aws:acm/certificateValidation:CertificateValidation":
            return {"id": inputs.get("certificateArn")}
        if typ == "aws:kms/key:Key":
            return {"keyId": _uuid(typ, name)}
        if typ == "aws:cloudwatch/dashboard:Dashboard":
            return {"dashboardArn": f"arn:{self.partition}:cloudwatch::{a}:dashboard/{inputs.get('dashboardName')}"}
        if typ == "aws:iam/role:Role":
            return {"name": inputs.get("name") or rid, "uniqueId": "AROA" + _hex_id(typ, name).upper()}
        if typ == "aws:ec2/eip:Eip":
            return {"publicIp": f"198.51.100.{int(_digest(name)[:2], 16) % 254 + 1}", "allocationId": rid}
        if typ == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"latestVersion": 1, "defaultVersion": 1}
        if typ == "eks:index:Cluster":
            return self._cluster_outputs(inputs)
        if typ == "docker:index/image:Image":
            image = inputs.get("imageName") or name
            repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
            return {"repoDigest": f"{repo}@sha256:{_digest('image', image)}", "baseImageName": image}
        if typ == "kubernetes:networking.k8s.io/v1:Ingress":
            host = f"k8s-{_hex_id(typ, name, 8)}-{_hex_id('alb', name, 10)}.{r}.elb.{dns}"
            return {"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}}
        if typ == "kubernetes:helm.sh/v3:Release":
            return {"status": {"name": inputs.get("name"), "namespace": inputs.get("namespace"),
                               "status": "deployed", "version": inputs.get("version"), "revision": 1}}
        return {}

    def _cluster_outputs(self, inputs: dict) -> dict[str, Any]:
        name = inputs.get("name") or "cluster"
        oidc_id = _hex_id("oidc", name, 32).upper()
        issuer = f"oidc.eks.{self.region}.{self.dns_suffix}/id/{oidc_id}"
        endpoint = f"https://{_hex_id('endpoint', name, 32).upper()}.gr7.{self.region}.eks.{self.dns_suffix}"
        kubeconfig = {
            "apiVersion": "v1", "kind": "Config", "current-context": "aws",
            "clusters": [{"name": "kubernetes", "cluster": {"server": endpoint,
                                                             "certificate-authority-data": "bW9jaw=="}}],
            "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
            "users": [{"name": "aws", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", name, "--output", "json"]}}}],
        }
        return {
            "kubeconfig": kubeconfig,
            "kubeconfigJson": json.dumps(kubeconfig, sort_keys=True),
            "oidcProviderArn": f"arn:{self.partition}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
            "oidcProviderUrl": f"https://{issuer}",
            "oidcIssuer": issuer,
            "clusterSecurityGroupId": "sg-" + _hex_id("cluster-sg", name),
            "nodeSecurityGroupId": "sg-" + _hex_id("node-sg", name),
            "core": {
                "cluster": None, "clusterIamRole": None, "endpoint": endpoint, "instanceRoles": [],
                "nodeGroupOptions": {}, "provider": None,
                "subnetIds": list(inputs.get("privateSubnetIds") or []) + list(inputs.get("publicSubnetIds") or []),
                "vpcId": inputs.get("vpcId"),
            },
        }

    # --- data sources ---
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        token, a = args.token, dict(args.args)
        self.calls.append({"token": token, "args": a})
        r, p = self.region, self.partition
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            zones = [z for z in _zones(r) if _zone_matches(z, a)]
            return {"names": [z[0] for z in zones], "zoneIds": [z[1] for z in zones], "id": r}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:{p}:iam::{ACCOUNT_ID}:user/ci",
                    "userId": "AIDAMOCK", "id": ACCOUNT_ID}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": p, "dnsSuffix": self.dns_suffix, "id": p}
        if token == "aws:index/getRegion:getRegion":
            return {"name": r, "region": r, "id": r}
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {"userName": "AWS", "password": "mock-ecr-password",
                    "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{r}.{self.dns_suffix}",
                    "authorizationToken": "bW9jaw==", "id": r}
        if token == "aws:route53/getZone:getZone":
            zone = str(a.get("name") or self.zone_name).rstrip(".")
            zid = str(a.get("zoneId") or "Z" + _hex_id("zone", zone, 13).upper())
            return {"zoneId": zid, "id": zid, "name": zone, "privateZone": False,
                    "arn": f"arn:{p}:route53:::hostedzone/{zid}",
                    "nameServers": [f"ns-1.awsdns-01.{t}" for t in ("com", "net", "org", "co.uk")]}
        if token == "aws:ssm/getParameter:getParameter":
            # The public ECS-optimized AMI parameters: an AMI id derived from the parameter name.
            param = str(a.get("name"))
            return {"name": param, "value": "ami-" + _hex_id("ami", param), "type": "String", "id": param,
                    "arn": f"arn:{self.partition}:ssm:{self.region}::parameter{param}", "version": 1,
                    "insecureValue": None}
        if token in (LOAD_BALANCER_LOOKUP, TARGET_GROUP_LOOKUP):
            return self._lb_lookup(token, a)
        if token == "aws:eks/getAddonVersion:getAddonVersion":
            minor = int(_digest(str(a.get("addonName")), str(a.get("kubernetesVersion")))[:2], 16) % 20
            return {"version": f"v1.{minor}.0-eksbuild.1", "addonName": a.get("addonName"),
                    "kubernetesVersion": a.get("kubernetesVersion"), "id": str(a.get("addonName"))}
        return {}

    def _lb_lookup(self, token: str, a: dict[str, Any]) -> dict[str, Any]:
        """What the AWS Load Balancer Controller made from the Ingress: its ALB by name, its target group by the
        controller's tags (the names follow the controller: k8s-<namespace>-<service>-<hash>)."""
        if token == LOAD_BALANCER_LOOKUP:
            return self._alb(str(a.get("name")))
        prefix = f"arn:{self.partition}:elasticloadbalancing:{self.region}:{ACCOUNT_ID}:"
        tags = {str(k): str(v) for k, v in dict(a.get("tags") or {}).items()}
        # The LB controller's tags or EKS Auto Mode's (infra/eks/workload.py TARGET_GROUP_TAG_KEYS: Auto Mode's are
        # looked up without the resource tag, so its name here comes from the stack tag `<namespace>/<ingress>`).
        resource = tags.get("ingress.k8s.aws/resource") or tags.get("ingress.eks.amazonaws.com/stack", "")
        namespace, _, rest = resource.partition("/")
        name = f"k8s-{namespace[:8]}-{rest.split(':')[0][:8]}-{_hex_id('tg', resource, 10)}"
        suffix = f"targetgroup/{name}/{_hex_id('tg', name, 16)}"
        found = {"arn": prefix + suffix, "arnSuffix": suffix, "name": name, "id": prefix + suffix, "tags": tags}
        # As the controller builds it from the Ingress registered before the lookup (`ingress.k8s.aws/stack` is
        # `<namespace>/<ingress>`): its target type, attached to the ALB its load-balancer-name annotation names.
        ingress = self.ingresses.get(tags.get("ingress.k8s.aws/stack")
                                     or tags.get("ingress.eks.amazonaws.com/stack", ""))
        if ingress is not None:
            annotations = dict((ingress.get("metadata") or {}).get("annotations") or {})
            found["targetType"] = annotations.get("alb.ingress.kubernetes.io/target-type", "instance")
            alb_name = annotations.get("alb.ingress.kubernetes.io/load-balancer-name")
            found["loadBalancerArns"] = [self._alb(str(alb_name))["arn"]] if alb_name else []
        return found

    def _alb(self, name: str) -> dict[str, Any]:
        prefix = f"arn:{self.partition}:elasticloadbalancing:{self.region}:{ACCOUNT_ID}:"
        suffix = f"app/{name}/{_hex_id('lb', name, 16)}"
        return {"arn": prefix + "loadbalancer/" + suffix, "arnSuffix": suffix, "name": name, "id": suffix,
                "dnsName": f"{name}-{int(_digest(name)[:8], 16)}.{self.region}.elb.{self.dns_suffix}",
                "zoneId": "Z35SXDOTRQ7X7K", "loadBalancerType": "application"}


LOAD_BALANCER_LOOKUP = "aws:lb/getLoadBalancer:getLoadBalancer"
TARGET_GROUP_LOOKUP = "aws:lb/getTargetGroup:getTargetGroup"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


def _zones(region: str) -> list[tuple[str, str, str, str]]:
    if region in ZONES_BY_REGION:
        return ZONES_BY_REGION[region]
    words = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
             "northwest": "nw", "southeast": "se", "southwest": "sw", "gov": "g"}
    parts = region.split("-")
    prefix = parts[0] + "".join(words.get(p, p[:1]) for p in parts[1:-1]) + parts[-1]
    return [(f"{region}{c}", f"{prefix}-az{i}", *_STANDARD) for i, c in enumerate(AZ_LETTERS, start=1)]


def _zone_matches(zone: tuple[str, str, str, str], args: dict[str, Any]) -> bool:
    """DescribeAvailabilityZones' filters as the data source sends them: `opt-in-status`, `zone-type`, `zone-id`,
    `zone-name` (any of the values), and the data source's own exclusions. Zones not opted in are never listed
    (all_availability_zones is not modelled); every zone is `available`."""
    name, zone_id, zone_type, opt_in = zone
    fields = {"opt-in-status": opt_in, "zone-type": zone_type, "zone-id": zone_id, "zone-name": name,
              "state": "available"}
    for f in args.get("filters") or []:
        if f.get("name") not in fields:
            raise ValueError(f"getAvailabilityZones filter {f.get('name')!r} is not modelled by the fake")
        if fields[f["name"]] not in (f.get("values") or []):
            return False
    if args.get("state") not in (None, "available"):
        return False
    return zone_id not in (args.get("excludeZoneIds") or []) and name not in (args.get("excludeNames") or [])


def _last(value: Any) -> str:
    """The name at the end of an ARN or plain name (an ECS cluster given by ARN)."""
    return str(value or "").rsplit("/", 1)[-1]


def _uuid(typ: str, name: str) -> str:
    h = _digest("uuid", typ, name)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


@functools.cache
def _endpoint_partitions() -> tuple[dict[str, object], ...]:
    """botocore's endpoint data, read once: the engine knows regions without importing the program it renders."""
    from botocore.loaders import create_loader

    return tuple(create_loader().load_data("endpoints")["partitions"])


def partition_of(region: str) -> str | None:
    return next((str(p["partition"]) for p in _endpoint_partitions() if region in p.get("regions", {})), None)


@functools.cache
def _dns_suffixes() -> dict[str, str]:
    """partition -> DNS suffix (amazonaws.com, amazonaws.com.cn, ...), from botocore's endpoint data."""
    return {str(p["partition"]): str(p["dnsSuffix"]) for p in _endpoint_partitions()}
