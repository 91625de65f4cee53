"""Registry keys: the ECR repository's name, encryption and lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core import between, length, matches, one_of, rule, setting, when_set

if TYPE_CHECKING:
    from .stack import StackConfig

# ECR CreateRepository repositoryName: 2-256 characters, this pattern (botocore ecr model, shape RepositoryName).
ECR_NAME = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
# A KMS key or alias ARN, any partition: arn:<partition>:kms:<region>:<account>:key/<id> | alias/<name>.
KMS_ARN = (r"arn:(aws|aws-[a-z-]+):kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:"
           r"(key/[A-Za-z0-9-]{1,100}|alias/[A-Za-z0-9/_-]{1,250})")


_ECR_NAME_TEXT = "lowercase letters and digits with . _ - / separators"


def default_repository_name(project: str, stack: str) -> str:
    """`<project>-<stack>/webapp`: repository names are unique per account and region, so two stacks there
    never claim the same repository (ECR CreateRepository: RepositoryAlreadyExistsException)."""
    return f"{project}-{stack}".lower() + "/webapp"


@dataclass(frozen=True, kw_only=True)
class RegistryConfig:
    repository_name: str = setting(
        "repositoryName", "",
        "ECR repository name for the app image (default: <project>-<stack>/webapp, unique per stack). A stack "
        "deployed before this default existed has `webapp`: set it to keep that repository (docs/operations.md).",
        when_set(length(2, 256), matches(ECR_NAME, "webapp or team/web-app", _ECR_NAME_TEXT)))
    encryption: str = setting("registryEncryption", "AES256", "ECR encryption: 'AES256' or 'KMS'.",
                              one_of("AES256", "KMS"))
    kms_key_arn: str | None = setting(
        "registryKmsKeyArn", None,
        "KMS key ARN for ECR when registryEncryption is KMS (unset: the AWS managed aws/ecr key).",
        matches(KMS_ARN, "arn:aws:kms:us-east-1:123456789012:key/<key id>", "a KMS key or alias ARN"))
    force_delete: bool = setting(
        "registryForceDelete", False,
        "Allow destroying the repository while it still holds images (throwaway stacks only).")
    untagged_expiry_days: int = setting("untaggedImageExpiryDays", 14, "Expire untagged images after this many days.",
                                        between(1, 3650))
    images_to_keep: int = setting("imagesToKeep", 30, "Keep at most this many images.", between(1, 10000))


@rule("repositoryName")
def _repository_name(cfg: StackConfig) -> str | None:
    """The resolved name (default <project>-<stack>/webapp) must suit ECR: a stack name may not."""
    import re

    name = cfg.registry.repository_name
    if not 2 <= len(name) <= 256 or not re.fullmatch(ECR_NAME, name, re.ASCII):
        return f"'{name}' must be 2-256 {_ECR_NAME_TEXT} (set repositoryName)"
    return None


@rule("registryKmsKeyArn", "registryEncryption")
def _kms_needs_kms(cfg: StackConfig) -> str | None:
    if cfg.registry.kms_key_arn is not None and cfg.registry.encryption != "KMS":
        return "a key is only allowed with registryEncryption = 'KMS'"
    return None


@rule("registryKmsKeyArn", "aws:region")
def _kms_key_in_region(cfg: StackConfig) -> str | None:
    # ECR: "The key must exist in the same Region as the repository" (botocore ecr, EncryptionConfiguration).
    arn = cfg.registry.kms_key_arn
    if arn is None:
        return None
    partition, region = arn.split(":")[1], arn.split(":")[3]
    if region != cfg.region or partition != cfg.partition:
        return f"the key must be in the stack's region and partition (arn:{cfg.partition}:kms:{cfg.region}:...)"
    return None
