"""Named records and the one way this stack installs a Helm chart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import pulumi
import pulumi_kubernetes as k8s


class Chart(NamedTuple):
    name: str
    repo: str


class ServiceAccountRef(NamedTuple):
    namespace: str
    name: str


def release(name: str, chart: Chart, version: str, namespace: pulumi.Input[str], values: Mapping[str, object],
            opts: pulumi.ResourceOptions, *, skip_crds: bool = False) -> k8s.helm.v3.Release:
    """A chart from an HTTPS repository (`repo` its index) or an OCI registry (`repo` oci://<registry>/<path>: Helm
    pulls `<repo>/<name>:<version>`, no repository options)."""
    oci = chart.repo.startswith("oci://")
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=f"{chart.repo.rstrip('/')}/{chart.name}" if oci else chart.name,
        version=version,
        repository_opts=None if oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
        namespace=namespace,
        values=dict(values),
        # Helm installs a chart's crds/ once and never upgrades them: a chart whose CRDs another release owns skips
        # them.
        skip_crds=skip_crds or None,
        # Wait until the workloads are ready (the controller's webhooks must answer before anything
        # creates Ingresses) and roll back a failed install instead of leaving it half-done.
        skip_await=False,
        atomic=True,
        cleanup_on_fail=True,
        timeout=600,
        opts=opts,
    )
