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
            opts: pulumi.ResourceOptions) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=chart.name,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
        namespace=namespace,
        values=dict(values),
        # Wait until the workloads are ready (the controller's webhooks must answer before anything
        # creates Ingresses) and roll back a failed install instead of leaving it half-done.
        skip_await=False,
        atomic=True,
        cleanup_on_fail=True,
        timeout=600,
        opts=opts,
    )
