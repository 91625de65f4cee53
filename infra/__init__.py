"""Pulumi components of the webstack: network, registry, DNS/TLS, cluster, image, add-ons, workload."""
