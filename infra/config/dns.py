"""DNS keys: the public zone, the app's hostname and the certificate's names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core import Check, each, length, matches, rule, setting, unique

if TYPE_CHECKING:
    from .stack import StackConfig

# A DNS label (RFC 1035 LDH, 1-63 octets); the last label (TLD) is not all digits.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)
# ACM RequestCertificate: the first name (DomainName, the certificate's CN) is at most 64 octets (RFC 5280),
# any name at most 253 (botocore acm model, DomainName / SubjectAlternativeNames documentation).
ACM_FIRST_NAME_MAX = 64
# ACM's initial quota: 10 domain names per certificate (acm-limits.html; the API maximum is 100).
ACM_NAMES_MAX = 10


def dns_name(*, wildcard: bool = False) -> Check:
    what = "a lowercase DNS name such as app.example.com" + (" (a leading '*.' is allowed)" if wildcard else "")

    def check(name: str) -> str | None:
        name = name.removesuffix(".")
        labels = name.split(".")
        if wildcard and labels[0] == "*":
            labels = labels[1:]
        if len(name) > 253 or len(labels) < 2 or labels[-1].isdigit():
            return f"must be {what}, at most 253 characters"
        if not all(_LABEL.fullmatch(label) for label in labels):
            return f"must be {what}: labels of 1-63 lowercase letters, digits or '-', not starting or ending with '-'"
        return None

    return check


def zone_name_check(name: str) -> str | None:
    return dns_name()(name.lower()) and "must be a DNS name such as example.com (no wildcard)"


def in_zone(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


@dataclass(frozen=True, kw_only=True)
class DnsConfig:
    zone_name: str = setting("zoneName", "", "Public Route 53 zone the app lives in, e.g. example.com.",
                             zone_name_check, required=True)
    create_zone: bool = setting(
        "createZone", False, "Create the public zone (then delegate its name servers) instead of looking it up.")
    # Route 53 ResourceId: at most 32 characters (botocore's route53 model); hosted zone IDs start with Z.
    zone_id: str = setting(
        "zoneId", "", "The public zone's hosted zone ID, when the account has more than one public zone named "
        "zoneName (the lookup by name then fails); empty: looked up by name. Not with createZone.",
        matches(r"(Z[A-Z0-9]{1,31})?", "Z0123456789ABCDEFGHIJ", "a Route 53 hosted zone ID"))
    hostname: str = setting("hostname", "", "The app's DNS name, inside zoneName; at most 64 characters.",
                            dns_name(), required=True)
    certificate_extra_names: tuple[str, ...] = setting(
        "certificateExtraNames", (), "Extra names (inside zoneName) on the ACM certificate; at most 9.",
        length(0, ACM_NAMES_MAX - 1), each(dns_name(wildcard=True)), unique())


@rule("hostname")
def _hostname_fits_the_certificate(cfg: StackConfig) -> str | None:
    if len(cfg.dns.hostname) > ACM_FIRST_NAME_MAX:
        return (f"must be at most {ACM_FIRST_NAME_MAX} characters: it is the certificate's first name "
                "(ACM, RFC 5280 common name)")
    return None


@rule("zoneId", "createZone")
def _zone_id_is_for_a_looked_up_zone(cfg: StackConfig) -> str | None:
    if cfg.dns.zone_id and cfg.dns.create_zone:
        return "zoneId picks an existing zone; with createZone true the stack creates its own: set one of them"
    return None


@rule("hostname", "zoneName")
def _hostname_in_zone(cfg: StackConfig) -> str | None:
    if not in_zone(cfg.dns.hostname, cfg.dns.zone_name):
        return f"hostname must be inside zoneName {cfg.dns.zone_name!r} (the certificate and record live there)"
    return None


@rule("certificateExtraNames", "zoneName")
def _extra_names_in_zone(cfg: StackConfig) -> str | None:
    outside = [n for n in cfg.dns.certificate_extra_names if not in_zone(n.removeprefix("*."), cfg.dns.zone_name)]
    return f"each entry must be inside zoneName {cfg.dns.zone_name!r}; not {', '.join(outside)}" if outside else None


@rule("certificateExtraNames", "hostname")
def _extra_names_not_the_hostname(cfg: StackConfig) -> str | None:
    if cfg.dns.hostname in cfg.dns.certificate_extra_names:
        return "must not repeat hostname (it is already the certificate's first name)"
    return None
