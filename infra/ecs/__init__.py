"""The ECS runtime: the same app image on ECS (Fargate, Fargate Spot or EC2 capacity) behind an ALB.

One component per file: `cluster` (cluster, capacity providers, default strategy), `capacity` (optional EC2
capacity), `task` (task definition, roles, log group), `loadbalancer` (ALB, listeners, target group, security
groups, Route 53 alias), `service` (the ECS service), `autoscaling` (Application Auto Scaling). `efs` and
`scheduled` are optional extras. `__main__.py` wires them when `webstack:runtime` is `ecs`.
"""
