"""The ECS runtime: cluster, task definition, service, load balancer, and the optional EFS and scheduled task."""
