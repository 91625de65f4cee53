"""Kubernetes workloads, whatever declares them (the stack's own objects; Helm charts are judged in policy/eks.py):
hardened containers, images pinned by digest, Ingresses behind the ALB with TLS only."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .common import (
    ADDABLE_CAPABILITIES,
    DIGEST,
    TLS_POLICIES,
    Area,
    Props,
    as_list,
    as_map,
    dig,
    has_key,
    known,
    set_or_unknown,
)

WORKLOADS = Area("Kubernetes workloads")

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
ALB = "alb.ingress.kubernetes.io/"


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
    ok, declared = known(lambda: args.props.get("kind"))
    return declared if ok and isinstance(declared, str) else kind


def _pod_spec(args: ResourceValidationArgs) -> Props | None:
    """The pod spec of a Kubernetes workload (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, ...)."""
    path = POD_SPEC_PATHS.get(_k8s_kind(args) or "")
    if path is None:
        return None
    spec = dig(args.props, *path)
    return spec if isinstance(spec, Mapping) else {}


def _containers(pod: Props, init: bool = True) -> Iterator[tuple[str, Props, bool]]:
    """(name, container, is_init) for every container (and init container) of a pod spec."""
    groups = [("containers", False), ("initContainers", True)] if init else [("containers", False)]
    for key, is_init in groups:
        for i, c in enumerate(as_list(pod.get(key))):
            c = as_map(c)
            yield str(c.get("name") or f"{key}[{i}]"), c, is_init


# --- pods ---------------------------------------------------------------------------------------------------
def _container_problems(pod: Props, c: Props, is_init: bool) -> list[str]:
    pod_sc, sc = as_map(pod.get("securityContext")), as_map(c.get("securityContext"))
    problems = []
    non_root = sc.get("runAsNonRoot") if has_key(sc, "runAsNonRoot") else pod_sc.get("runAsNonRoot")
    if non_root is not True:
        problems.append("runAsNonRoot is not true (pod or container securityContext)")
    if (sc.get("runAsUser") if has_key(sc, "runAsUser") else pod_sc.get("runAsUser")) == 0:
        problems.append("runAsUser is 0 (root)")
    resources = as_map(c.get("resources"))
    for kind in ("requests", "limits"):
        for res in ("cpu", "memory"):
            if not as_map(resources.get(kind)).get(res):
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
    if "ALL" not in [str(x).upper() for x in as_list(dig(sc, "capabilities", "drop"))]:
        problems.append("capabilities.drop does not include ALL")
    added = [str(x).upper().removeprefix("CAP_") for x in as_list(dig(sc, "capabilities", "add"))]
    extra = [x for x in added if x not in ADDABLE_CAPABILITIES]
    if extra:
        problems.append(f"capabilities.add has {', '.join(extra)}: only {', '.join(sorted(ADDABLE_CAPABILITIES))} "
                        "may be added back")
    return problems


@WORKLOADS.resource("containers-hardened", "Workload containers run as non-root without privilege escalation, with "
                                           "a read-only root filesystem, ALL capabilities dropped (only "
                                           "NET_BIND_SERVICE added back), cpu/memory "
                                           "requests and limits, and readiness and liveness probes.")
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


@WORKLOADS.resource("images-pinned-by-digest", "Workload container images are referenced by digest (@sha256:).")
def images_pinned_by_digest(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = _pod_spec(args)
    if pod is None:
        return
    for name, c, _ in _containers(pod):
        image = str(c.get("image") or "")
        if not DIGEST.search(image):
            report_violation(f"container {name!r} image {image!r} is not pinned by digest (repo@sha256:<64 hex>): "
                             "a tag can be moved, a digest cannot")


# --- ingresses: ALB with TLS and redirect -------------------------------------------------------------------
# The LB controller's IngressClass and EKS Auto Mode's (infra/eks/automode.py INGRESS_CLASS): both read these
# alb.ingress.kubernetes.io annotations (Auto Mode's unsupported ones are none of them: AWS docs auto-configure-alb).
ALB_CLASSES = ("alb", "eks-auto-alb")
@WORKLOADS.resource("ingress-alb-tls-only", "Ingresses use the alb class with an ACM certificate, an HTTPS:443 "
                                            "listener, ssl-redirect to 443 and a current TLS policy (TLS 1.2+).")
def ingress_tls_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _k8s_kind(args) != "Ingress":
        return
    annotations = as_map(dig(args.props, "metadata", "annotations"))
    cls = dig(args.props, "spec", "ingressClassName") or annotations.get("kubernetes.io/ingress.class")
    if cls not in ALB_CLASSES:
        report_violation(f"ingress class is {cls!r}: every Ingress must use the 'alb' class (the LB controller) or "
                         "'eks-auto-alb' (EKS Auto Mode's ALB), which terminate TLS with the ACM certificate")
        return
    if not set_or_unknown(lambda: annotations.get(f"{ALB}certificate-arn")):
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
    ssl_policy = annotations.get(f"{ALB}ssl-policy")
    if ssl_policy not in TLS_POLICIES:
        report_violation(f"annotation {ALB}ssl-policy is {ssl_policy!r}: it must be a current TLS policy, one of "
                         f"{', '.join(TLS_POLICIES)}")


# --- storage: encrypted volumes, EFS over TLS ---------------------------------------------------------------
EBS_PROVISIONERS = ("ebs.csi.aws.com", "ebs.csi.eks.amazonaws.com", "kubernetes.io/aws-ebs")
EFS_DRIVER = "efs.csi.aws.com"


@WORKLOADS.resource("storage-encrypted", "StorageClasses of EBS provisioners encrypt their volumes (parameters."
                                         "encrypted \"true\"); EFS PersistentVolumes never turn TLS off "
                                         "(volumeAttributes.encryptInTransit false).")
def storage_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind = _k8s_kind(args)
    if kind == "StorageClass":
        provisioner, spec = args.props.get("provisioner"), args.props
    elif kind == "PersistentVolume":
        spec = as_map(args.props.get("spec"))
        provisioner = dig(spec, "csi", "driver")
    else:
        return
    name = dig(args.props, "metadata", "name")
    if provisioner in EBS_PROVISIONERS and kind == "StorageClass":
        ok, encrypted = known(lambda: as_map(spec.get("parameters")).get("encrypted"))
        if ok and encrypted != "true":
            report_violation(f"StorageClass {name!r} ({provisioner}) has parameters.encrypted={encrypted!r}: EBS "
                             "volumes must be encrypted (\"true\"; the driver's default is unencrypted)")
    if provisioner == EFS_DRIVER:
        # The EFS driver mounts with TLS unless a volume's encryptInTransit parses false (Go's strconv.ParseBool);
        # the `tls` mount option is deprecated (aws-efs-csi-driver pkg/driver/node.go): its absence is no finding.
        attributes = as_map(dig(spec, "csi", "volumeAttributes"))
        if str(attributes.get("encryptInTransit", "true")) in ("0", "f", "F", "false", "FALSE", "False"):
            report_violation(f"{kind} {name!r} (EFS) must mount with TLS: volumeAttributes.encryptInTransit is "
                             f"{attributes.get('encryptInTransit')!r} (leave it unset or \"true\")")
