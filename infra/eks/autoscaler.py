"""ClusterAutoscaler: the official cluster-autoscaler chart, pinned, scaling the managed node group between
nodeMinSize and nodeMaxSize when pods are Pending (scale up) or nodes stay under-used (scale down)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .. import iam
from .helm import Chart, ServiceAccountRef, release
from .identity import IdentityContext, workload_identity

TYPE = "webstack:autoscaler:ClusterAutoscaler"
CHART = Chart(name="cluster-autoscaler", repo="https://kubernetes.github.io/autoscaler")
SERVICE_ACCOUNT = ServiceAccountRef(namespace="kube-system", name="cluster-autoscaler")
# The autoscaler's minor version must match the cluster's (kubernetes/autoscaler README, "Releases"): the newest
# patch release of each supported minor, from the upstream cluster-autoscaler-<version> tags.
IMAGE_TAGS = {"1.32": "v1.32.7", "1.33": "v1.33.6", "1.34": "v1.34.5", "1.35": "v1.35.2", "1.36": "v1.36.1"}


@dataclass(frozen=True, kw_only=True)
class ClusterAutoscalerArgs:
    chart_version: str
    kubernetes_version: str
    cluster_name: pulumi.Input[str]
    region: str
    identity: IdentityContext
    provider: k8s.Provider


class ClusterAutoscaler(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        identity = workload_identity(
            name, args.identity, namespace=SERVICE_ACCOUNT.namespace, service_account=SERVICE_ACCOUNT.name,
            policy=iam.json_output(
                lambda arn, cluster: iam.cluster_autoscaler_policy(arn, args.region, cluster),
                args.identity.oidc_provider_arn, args.cluster_name),
            parent=self)
        self.release = release(
            "cluster-autoscaler", CHART, args.chart_version, SERVICE_ACCOUNT.namespace,
            {
                "cloudProvider": "aws",
                # Set explicitly: with IMDS hop limit 1 the pod cannot discover its region.
                "awsRegion": args.region,
                # Finds the node groups by the tags EKS puts on their Auto Scaling groups
                # (k8s.io/cluster-autoscaler/enabled, k8s.io/cluster-autoscaler/<cluster>): the chart's default tags.
                "autoDiscovery": {"clusterName": args.cluster_name},
                "image": {"tag": IMAGE_TAGS[args.kubernetes_version]},
                "rbac": {"serviceAccount": {"create": True, "name": SERVICE_ACCOUNT.name,
                                            "annotations": identity.annotations.service_account}},
                "podAnnotations": identity.annotations.pod,
                "extraArgs": {
                    "balance-similar-node-groups": True,
                    "expander": "least-waste",
                    # kube-system pods (coredns, controllers) have PDBs: let their nodes scale down too.
                    "skip-nodes-with-system-pods": False,
                    # Default true: any pod with an emptyDir (the app's /tmp, metrics-server's) would pin its node.
                    "skip-nodes-with-local-storage": False,
                },
                "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}, "limits": {"memory": "300Mi"}},
            },
            pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=identity.ready),
        )
        self.register_outputs({"release": self.release.status})
