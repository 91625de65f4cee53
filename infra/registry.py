"""Registry: the private ECR repository the app image is pushed to."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

TYPE = "webstack:registry:Registry"


def lifecycle_policy(untagged_expiry_days: int, images_to_keep: int) -> dict[str, Any]:
    """ECR lifecycle rules: drop untagged images after N days, then keep only the newest N images.

    ECR requires the `tagStatus: any` rule to have the highest rulePriority number.
    """
    return {"rules": [
        {"rulePriority": 1, "description": f"Expire untagged images after {untagged_expiry_days} days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": untagged_expiry_days},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"Keep the newest {images_to_keep} images",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": images_to_keep},
         "action": {"type": "expire"}},
    ]}


@dataclass(frozen=True, kw_only=True)
class RegistryArgs:
    repository_name: str
    encryption: str
    """AES256 | KMS."""
    kms_key_arn: str | None
    """With KMS: the customer key (None: the AWS-managed one)."""
    force_delete: bool
    """Delete the repository with its images (throwaway stacks only)."""
    untagged_expiry_days: int
    images_to_keep: int
    tags: Mapping[str, str]


class Registry(pulumi.ComponentResource):
    repository_name: pulumi.Output[str]
    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    registry_id: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        encryption: dict[str, Any] = {"encryption_type": args.encryption}
        if args.encryption == "KMS" and args.kms_key_arn:
            encryption["kms_key"] = args.kms_key_arn
        repo = aws.ecr.Repository(
            f"{name}-repo",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[encryption],
            force_delete=args.force_delete,
            tags=dict(args.tags),
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle", repository=repo.name,
            policy=json.dumps(lifecycle_policy(args.untagged_expiry_days, args.images_to_keep)), opts=child)
        self.repository_name = repo.name
        self.repository_url = repo.repository_url
        self.repository_arn = repo.arn
        self.registry_id = repo.registry_id
        self.register_outputs({"repository_name": repo.name, "repository_url": repo.repository_url,
                               "repository_arn": repo.arn})
