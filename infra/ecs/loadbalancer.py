"""AppLoadBalancer: the internet-facing ALB in the public subnets, its HTTPS listener (validated certificate,
configured TLS policy) and HTTP->HTTPS redirect, an `ip` target group health-checking the app, the Route 53 alias
for the hostname, and the two security groups of the path ALB -> tasks (the tasks admit only the ALB's group, on
the container port).

Order around the service (a target group replacement drops as little traffic as ECS allows): the target group -> a
listener rule that attaches it to the ALB -> the service (ECS refuses a target group no load balancer uses) -> the
HTTPS listener (`route_https`, declared by the runtime after the service). A replaced target group (port, protocol)
is created first; the attaching rule moves to it, the service deploys into it and `pulumi up` waits for a steady
service; only then does the HTTPS listener forward to it; the old group is deleted last. ECS deregisters the old
tasks from the old group before the deployment counts as steady, so requests can fail for about the deregistration
delay plus Pulumi's steady-state poll before the listener moves (docs/operations.md); only one run registering the
service in both groups would close that gap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import iam
from ..tags import named

TYPE = "webstack:ecs:AppLoadBalancer"
HTTPS, HTTP = 443, 80
# The attaching rule must never route a request: it matches only a source address no internet connection has
# (TEST-NET-1, RFC 5737: documentation only, never routed), on the HTTP listener whose every other request is
# redirected to HTTPS. Priority 50000, the last one an ALB allows: after any rule added later.
UNROUTABLE_SOURCE = "192.0.2.1/32"
ATTACH_RULE_PRIORITY = 50000


# Blue/green (ecsDeploymentStrategy: blue-green) on the HTTPS listener: the test rule first (a request carrying the
# header reaches the revision being deployed, before it takes the traffic), then the production rule (every path).
TEST_HEADER, TEST_HEADER_VALUE = "X-Webstack-Test", "green"
TEST_RULE_PRIORITY, PRODUCTION_RULE_PRIORITY = 10, 20


@dataclass(frozen=True)
class BlueGreenRouting:
    """What an ECS blue/green service names in loadBalancers[].advancedConfiguration, and waits for."""

    alternate_target_group_arn: pulumi.Output[str]
    production_rule_arn: pulumi.Output[str]
    test_rule_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    ready: tuple[pulumi.Resource, ...]
    """The HTTPS listener, both rules, the role's policy attachment: they exist before the service (ECS checks the
    rules and assumes the role at creation) and are deleted after it."""


def weighted_forward(blue: pulumi.Input[str], green: pulumi.Input[str], blue_weight: int) -> list[dict[str, Any]]:
    """A forward action over both target groups (ECS native blue/green shifts traffic by rewriting these
    weights; the rule has to name both groups)."""
    return [{"type": "forward", "forward": {"target_groups": [
        {"arn": blue, "weight": blue_weight}, {"arn": green, "weight": 100 - blue_weight}]}}]


def target_health_check(health_path: str) -> dict[str, Any]:
    """The target group's health check: the app's health path on the traffic port, the same thresholds and timing
    as the EKS runtime's Ingress asks of its ALB."""
    return {"enabled": True, "path": health_path, "port": "traffic-port", "protocol": "HTTP", "matcher": "200",
            "interval": 15, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 2}


@dataclass(frozen=True, kw_only=True)
class AppLoadBalancerArgs:
    name: str
    """ALB name (at most 32 characters)."""
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    public_subnet_ids: Sequence[pulumi.Input[str]]
    container_port: int
    health_path: str
    certificate_arn: pulumi.Input[str]
    """A validated certificate (from CertificateValidation)."""
    ssl_policy: str
    hostname: str
    zone_id: pulumi.Input[str]
    deletion_protection: bool
    take_over_record: bool
    """Overwrite an existing record for the hostname (Route 53 UPSERT) instead of failing on it (CREATE)."""
    blue_green: bool
    """A second (alternate) target group for ECS blue/green deployments; route with `route_blue_green`."""
    partition: str
    nfs_egress: bool
    """Let tasks reach NFS (EFS mount targets) inside the VPC."""
    tags: Mapping[str, str]


class AppLoadBalancer(pulumi.ComponentResource):
    alb_arn: pulumi.Output[str]
    alb_arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    alb_security_group_id: pulumi.Output[str]
    task_security_group_id: pulumi.Output[str]
    http_listener: aws.lb.Listener
    attach_rule: aws.lb.ListenerRule
    """Attaches the target group to the ALB before the service is created (never matches a request)."""
    target_group: aws.lb.TargetGroup
    alternate_target_group: aws.lb.TargetGroup | None
    """Blue/green only: the second group ECS deploys into (the `green` of the first deployment)."""
    url: str

    def __init__(self, name: str, args: AppLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        alb_sg, task_sg = self._security_groups(name, args)
        alb = aws.lb.LoadBalancer(
            f"{name}-alb", name=args.name, internal=False, load_balancer_type="application",
            security_groups=[alb_sg.id], subnets=list(args.public_subnet_ids),
            drop_invalid_header_fields=True, enable_deletion_protection=args.deletion_protection,
            desync_mitigation_mode="defensive", idle_timeout=60, tags=named(tags, args.name), opts=child)
        # Autonamed: a replacement (port, protocol) is created before the old one is deleted.
        target_group = aws.lb.TargetGroup(
            f"{name}-tg", port=args.container_port, protocol="HTTP", target_type="ip", vpc_id=args.vpc_id,
            deregistration_delay=30, health_check=target_health_check(args.health_path), tags=tags, opts=child)
        # Blue/green: the same group again (ECS alternates between the two; which one serves is ECS's to say).
        self.alternate_target_group = aws.lb.TargetGroup(
            f"{name}-tg-green", port=args.container_port, protocol="HTTP", target_type="ip", vpc_id=args.vpc_id,
            deregistration_delay=30, health_check=target_health_check(args.health_path), tags=tags,
            opts=child) if args.blue_green else None
        self._name, self._args, self._alb = name, args, alb
        self.blue_green_routing: BlueGreenRouting | None = None
        self.http_listener = self._http_listener(name, args, alb)
        self.attach_rule = aws.lb.ListenerRule(
            f"{name}-attach-tg", listener_arn=self.http_listener.arn, priority=ATTACH_RULE_PRIORITY,
            conditions=[{"source_ip": {"values": [UNROUTABLE_SOURCE]}}],
            actions=[{"type": "forward", "target_group_arn": target_group.arn}], tags=tags, opts=child)
        # Created with Route 53 CREATE: an existing record for the hostname (someone else's, or ExternalDNS's from
        # the EKS runtime) makes `pulumi up` fail instead of being taken over silently and deleted at destroy. The
        # EKS -> ECS switch takes ExternalDNS's record over deliberately with ecsTakeOverHostnameRecord (UPSERT):
        # docs/operations.md "Switching an existing stack from EKS to ECS". The provider uses allow_overwrite on
        # create only; changing it later is an in-place UPSERT of the same values.
        aws.route53.Record(
            f"{name}-alias", zone_id=args.zone_id, name=args.hostname, type="A",
            allow_overwrite=args.take_over_record,
            aliases=[{"name": alb.dns_name, "zone_id": alb.zone_id, "evaluate_target_health": True}], opts=child)

        self.alb_arn = alb.arn
        self.alb_arn_suffix = alb.arn_suffix
        self.dns_name = alb.dns_name
        self.target_group = target_group
        self.target_group_arn = target_group.arn
        self.target_group_arn_suffix = target_group.arn_suffix
        self.alb_security_group_id = alb_sg.id
        self.task_security_group_id = task_sg.id
        self.url = f"https://{args.hostname}"
        # register_outputs (the component is complete) comes with its last child, in route_https.

    def _security_groups(self, name: str, args: AppLoadBalancerArgs) -> tuple[aws.ec2.SecurityGroup,
                                                                             aws.ec2.SecurityGroup]:
        """The ALB's group (HTTPS and HTTP from the internet, out to the tasks only) and the tasks' (the container
        port from the ALB only; out, HTTPS to AWS APIs and NFS inside the VPC)."""
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        alb_sg = aws.ec2.SecurityGroup(f"{name}-alb", vpc_id=args.vpc_id,
                                       description="ALB: HTTPS and HTTP (redirect) from the internet",
                                       tags=named(tags, f"{name}-alb"), opts=child)
        task_sg = aws.ec2.SecurityGroup(f"{name}-tasks", vpc_id=args.vpc_id,
                                        description="App tasks: the container port from the ALB only",
                                        tags=named(tags, f"{name}-tasks"), opts=child)
        for port in (HTTPS, HTTP):
            aws.vpc.SecurityGroupIngressRule(f"{name}-alb-in-{port}", security_group_id=alb_sg.id,
                                             ip_protocol="tcp", from_port=port, to_port=port, cidr_ipv4="0.0.0.0/0",
                                             description=f"internet to the ALB on {port}", tags=tags, opts=child)
        aws.vpc.SecurityGroupEgressRule(f"{name}-alb-to-tasks", security_group_id=alb_sg.id, ip_protocol="tcp",
                                        from_port=args.container_port, to_port=args.container_port,
                                        referenced_security_group_id=task_sg.id,
                                        description="ALB to the tasks' container port", tags=tags, opts=child)
        aws.vpc.SecurityGroupIngressRule(f"{name}-tasks-from-alb", security_group_id=task_sg.id, ip_protocol="tcp",
                                         from_port=args.container_port, to_port=args.container_port,
                                         referenced_security_group_id=alb_sg.id,
                                         description="only the ALB reaches the app", tags=tags, opts=child)
        # Out: HTTPS to ECR, CloudWatch Logs, SSM and Secrets Manager (through NAT); NFS inside the VPC for EFS.
        aws.vpc.SecurityGroupEgressRule(f"{name}-tasks-https", security_group_id=task_sg.id, ip_protocol="tcp",
                                        from_port=HTTPS, to_port=HTTPS, cidr_ipv4="0.0.0.0/0",
                                        description="AWS APIs over HTTPS", tags=tags, opts=child)
        if args.nfs_egress:
            aws.vpc.SecurityGroupEgressRule(f"{name}-tasks-nfs", security_group_id=task_sg.id, ip_protocol="tcp",
                                            from_port=2049, to_port=2049, cidr_ipv4=args.vpc_cidr,
                                            description="EFS mount targets", tags=tags, opts=child)
        return alb_sg, task_sg

    def _http_listener(self, name: str, args: AppLoadBalancerArgs, alb: aws.lb.LoadBalancer) -> aws.lb.Listener:
        """HTTP redirecting to HTTPS."""
        return aws.lb.Listener(
            f"{name}-http", load_balancer_arn=alb.arn, port=HTTP, protocol="HTTP",
            default_actions=[{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": str(HTTPS),
                                                                "status_code": "HTTP_301"}}],
            tags=dict(args.tags), opts=pulumi.ResourceOptions(parent=self))

    def route_https(self, after: Sequence[pulumi.Resource]) -> aws.lb.Listener:
        """The HTTPS listener forwarding to the target group, with the validated certificate and the configured TLS
        policy, created (and updated) after `after`: the service, steady in the target group. Declared by the
        runtime once the service exists; a child of this component like the other listener. Completes the
        component (register_outputs): call it once."""
        args = self._args
        https = aws.lb.Listener(
            f"{self._name}-https", load_balancer_arn=self._alb.arn, port=HTTPS, protocol="HTTPS",
            ssl_policy=args.ssl_policy, certificate_arn=args.certificate_arn,
            default_actions=[{"type": "forward", "target_group_arn": self.target_group.arn}], tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)))
        self.register_outputs({"alb_arn": self.alb_arn, "dns_name": self.dns_name,
                               "target_group_arn": self.target_group_arn, "url": self.url})
        return https

    def route_blue_green(self) -> BlueGreenRouting:
        """Blue/green: the HTTPS listener before the service (its rules must exist when ECS creates the service),
        the production rule (every path, weighted blue 100 / green 0), the test rule (the TEST_HEADER header,
        weighted to green), and the infrastructure role ECS assumes to rewrite them. ECS owns the rules' actions
        from the first deployment on (it moves the weights at every traffic shift), so `pulumi up` ignores them:
        resetting them would point production at a group that may have no task (terraform-aws-alb #409,
        aws-cdk #36649). Completes the component like `route_https`: call one of the two, once."""
        green = self.alternate_target_group
        if green is None:
            raise ValueError("route_blue_green needs AppLoadBalancerArgs.blue_green")
        name, tags = self._name, dict(self._args.tags)
        https = self.route_https(after=[self.target_group, green])
        ecs_owns_actions = pulumi.ResourceOptions(parent=self, ignore_changes=["actions"])
        test = aws.lb.ListenerRule(
            f"{name}-test", listener_arn=https.arn, priority=TEST_RULE_PRIORITY,
            conditions=[{"http_header": {"http_header_name": TEST_HEADER, "values": [TEST_HEADER_VALUE]}}],
            actions=weighted_forward(self.target_group.arn, green.arn, 0), tags=tags, opts=ecs_owns_actions)
        production = aws.lb.ListenerRule(
            f"{name}-production", listener_arn=https.arn, priority=PRODUCTION_RULE_PRIORITY,
            conditions=[{"path_pattern": {"values": ["/*"]}}],
            actions=weighted_forward(self.target_group.arn, green.arn, 100), tags=tags, opts=ecs_owns_actions)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}-blue-green", description="ECS shifts the app's blue/green traffic",
                            assume_role_policy=iam.to_json(iam.ecs_infrastructure_trust_policy()), tags=tags,
                            opts=child)
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-blue-green", role=role.name,
            policy_arn=iam.ECS_BLUE_GREEN_POLICY.format(partition=self._args.partition), opts=child)
        self.blue_green_routing = BlueGreenRouting(
            alternate_target_group_arn=green.arn, production_rule_arn=production.arn, test_rule_arn=test.arn,
            role_arn=role.arn, ready=(https, test, production, attachment))
        return self.blue_green_routing
