"""The bootstrap program's package: what CI needs once per AWS account, derived from the workflow files.

Named `ci_bootstrap`, not `infra`: the bootstrap is a Pulumi project of its own (bootstrap/Pulumi.yaml) whose
folder is the program directory Pulumi puts on sys.path, so its package must not shadow the webstack program's."""
