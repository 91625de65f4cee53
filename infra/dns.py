"""Dns: the public hosted zone (created or looked up) and a DNS-validated ACM certificate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .tags import named

TYPE = "webstack:dns:Dns"


# The zone's resource name: `make up` creates it first (pulumi up --target) on a stack that creates its zone.
ZONE_RESOURCE = "zone"


@dataclass(frozen=True, kw_only=True)
class DnsArgs:
    zone_name: str
    create_zone: bool
    """Create the public zone (then delegate it at the registrar) or look up an existing one by name."""
    zone_id: str = ""
    """Look the existing zone up by this ID instead (the account has several public zones of that name); "": by
    name."""
    hostname: str
    """The app's name, inside the zone: the certificate's subject."""
    certificate_extra_names: Sequence[str]
    """More names on the certificate (subject alternative names)."""
    tags: Mapping[str, str]


def checked_zone_id(zone_id: str, zone_name: str, found_id: str, found_name: str, private: bool | None) -> str:
    """The looked-up zone's ID; refused at the lookup (preview, before anything is created) when zoneId names another
    zone or a private one: records, certificate validation and ExternalDNS would all go to the wrong place."""
    problems = []
    if found_name.rstrip(".").lower() != zone_name.rstrip(".").lower():
        problems.append(f"is the zone {found_name.rstrip('.')!r}, not zoneName {zone_name!r}")
    if private:
        problems.append("is a private zone; the app's certificate and record need the public one")
    if problems:
        raise pulumi.RunError(f"webstack:zoneId {zone_id} " + " and ".join(problems))
    return found_id


class Dns(pulumi.ComponentResource):
    zone_id: pulumi.Output[str]
    zone_arn: pulumi.Output[str]
    zone_name: str
    name_servers: pulumi.Output[list[str]]
    certificate_arn: pulumi.Output[str]
    """The ARN of the certificate once ACM has validated it (from CertificateValidation)."""

    def __init__(self, name: str, args: DnsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        if args.create_zone:
            zone = aws.route53.Zone(
                f"{name}-{ZONE_RESOURCE}", name=args.zone_name, comment=f"Public zone for {args.hostname}",
                force_destroy=False, tags=tags,
                # Deleting the zone breaks the registrar delegation; make it a deliberate act.
                opts=pulumi.ResourceOptions(parent=self, protect=True))
            self.zone_id, self.zone_arn, self.name_servers = zone.zone_id, zone.arn, zone.name_servers
        else:
            # By name, the lookup fails when the account has several public zones of that name: zoneId picks one.
            by = {"zone_id": args.zone_id} if args.zone_id else {"name": args.zone_name, "private_zone": False}
            found = aws.route53.get_zone_output(**by, opts=pulumi.InvokeOutputOptions(parent=self))
            zone_id = found.zone_id
            if args.zone_id:
                zone_id = pulumi.Output.all(found.zone_id, found.name, found.private_zone).apply(
                    lambda z: checked_zone_id(args.zone_id, args.zone_name, *z))
            self.zone_id, self.zone_arn, self.name_servers = zone_id, found.arn, found.name_servers
        self.zone_name = args.zone_name

        names = [args.hostname, *args.certificate_extra_names]
        cert = aws.acm.Certificate(
            f"{name}-cert", domain_name=args.hostname,
            subject_alternative_names=list(args.certificate_extra_names) or None,
            validation_method="DNS", key_algorithm="EC_prime256v1",
            tags=named(tags, args.hostname), opts=child)

        # "*.x" and "x" share one validation record: declare each record once.
        fqdns = []
        for base in dict.fromkeys(n.removeprefix("*.") for n in names):
            option = cert.domain_validation_options.apply(
                lambda opts, b=base: next(o for o in opts if o.domain_name.removeprefix("*.") == b))
            record = aws.route53.Record(
                f"{name}-validation-{base}", zone_id=self.zone_id, name=option.resource_record_name,
                type=option.resource_record_type, records=[option.resource_record_value], ttl=60,
                allow_overwrite=True, opts=child)
            fqdns.append(record.fqdn)
        validation = aws.acm.CertificateValidation(
            f"{name}-cert-validation", certificate_arn=cert.arn, validation_record_fqdns=fqdns, opts=child)
        self.certificate_arn = validation.certificate_arn
        self.register_outputs({"zone_id": self.zone_id, "name_servers": self.name_servers,
                               "certificate_arn": self.certificate_arn})
