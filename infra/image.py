"""AppImage: the app in app/ built for the nodes' architecture and pushed to ECR (pulumi-docker)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from .dockerignore import context_digest

TYPE = "webstack:image:AppImage"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_DIR = PROJECT_ROOT / "app"
CONTRACT = APP_DIR / "contract.json"
# The image's USER (nginxinc/nginx-unprivileged): the ECS task runs as it, EFS access points write as it.
APP_UID = 101


def app_contract(path: Path = CONTRACT) -> dict[str, Any]:
    """The port and health path the image serves (app/contract.json, checked against the Dockerfile and nginx)."""
    return json.loads(path.read_text())


def content_tag(directory: Path = APP_DIR, *, platform: str, dockerfile: Path | None = None) -> str:
    """A tag derived from exactly what the build sends (the context less what its .dockerignore excludes, and the
    Dockerfile) and the target platform: same build, same tag; a change the build sees (content, file mode,
    architecture), a new tag.

    The repository's tags are immutable and pulumi-docker rebuilds and pushes again whenever its digest of the
    context changes: the tag covers the same files the same way (infra/dockerignore.py), so a push never reuses a tag
    (ImageTagAlreadyExists), and a file the build never sees (app/README.md) changes neither.
    """
    digest = hashlib.sha256()
    digest.update(b"platform\0" + platform.encode() + b"\0")
    digest.update(context_digest(directory, dockerfile or directory / "Dockerfile").encode())
    return "sha-" + digest.hexdigest()[:16]


def project_relative(path: Path) -> str:
    """`path` relative to the project root, where Pulumi runs the program and its providers.

    pulumi-docker diffs the `build` paths as given: an absolute path differs in every clone and on every CI runner,
    and each difference rebuilds and re-pushes the same tag, which the immutable repository refuses."""
    return Path(os.path.relpath(path, PROJECT_ROOT)).as_posix()


@dataclass(frozen=True, kw_only=True)
class AppImageArgs:
    repository_url: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    architecture: str  # amd64 | arm64, from the node instance types
    context: Path = APP_DIR

    @property
    def platform(self) -> str:
        return f"linux/{self.architecture}"


class AppImage(pulumi.ComponentResource):
    image_name: pulumi.Output[str]
    repo_digest: pulumi.Output[str]
    """`<repository>@sha256:<digest>`: what workloads deploy."""
    tag: str

    def __init__(self, name: str, args: AppImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.tag = content_tag(args.context, platform=args.platform)
        creds = aws.ecr.get_authorization_token_output(registry_id=args.registry_id,
                                                       opts=pulumi.InvokeOutputOptions(parent=self))
        image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(args.repository_url, ":", self.tag),
            build=docker.DockerBuildArgs(
                context=project_relative(args.context),
                dockerfile=project_relative(args.context / "Dockerfile"),
                platform=args.platform,
                args={"APP_VERSION": self.tag},
            ),
            registry=docker.RegistryArgs(
                server=args.repository_url,
                username=creds.user_name,
                password=pulumi.Output.secret(creds.password),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.image_name = image.image_name
        self.repo_digest = image.repo_digest
        self.register_outputs({"image_name": self.image_name, "repo_digest": self.repo_digest})
