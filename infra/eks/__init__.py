"""The EKS runtime: cluster and node group, platform add-ons (Helm), and the app's Kubernetes workload."""
