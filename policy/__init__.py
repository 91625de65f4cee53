"""The webstack CrossGuard policy pack, by area: eks, aws, kubernetes, ecs, ecs_roles (helpers in common),
assembled into `POLICIES` in validators.py. The CLI runs __main__.py from this directory, which makes it importable
as `policy`."""
