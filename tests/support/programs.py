"""Tiny Pulumi programs in temporary folders, for the alias and `make diff` tests: rendered by the real engine
(tools/render) like the project's own program, in seconds."""

from __future__ import annotations

from pathlib import Path

NETWORK = '''import pulumi

TYPE = {type_!r}
ALIASES = {aliases}


class Network(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__(TYPE, name, None, pulumi.ResourceOptions(aliases=ALIASES))
        child = pulumi.ResourceOptions(parent=self)
        vpc = pulumi.CustomResource("test:index:Vpc", f"{{name}}-vpc", {{"cidr": "10.0.0.0/16"}}, opts=child)
        pulumi.CustomResource("test:index:Subnet", f"{{name}}-subnet", {{"vpcId": vpc.id}}, opts=child)


net = Network("net")
pulumi.CustomResource("test:index:Peer", "peer", {{"cidr": "10.1.0.0/16"}},
                      opts=pulumi.ResourceOptions(depends_on=[net]))
'''


def program(tree: Path, main: str, project: str = "moves", stacks: tuple[str, ...] = ("dev",),
            region: str = "us-east-1") -> Path:
    """`tree` holding a project of `__main__.py` = `main` and a stack file per stack (of `region`), `dev` at the top
    of the tree and `tests/stacks/dev` in that folder (as `make diff STACK=all` labels them)."""
    tree.mkdir(parents=True, exist_ok=True)
    (tree / "Pulumi.yaml").write_text(f"name: {project}\nruntime: python\n")
    for label in stacks:
        path = tree / Path(label).parent / f"Pulumi.{Path(label).name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"config:\n  aws:region: {region}\n")
    (tree / "__main__.py").write_text(main)
    return tree


def network(type_: str = "test:index:Network", aliases: str = "[]") -> str:
    """A component `net` of type `type_` (options: `aliases`, Python source) with two children, and a peer that
    depends on it."""
    return NETWORK.format(type_=type_, aliases=aliases)
