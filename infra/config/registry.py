"""Registry keys: the ECR repository's name, encryption and lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core import between, length, matches, one_of, rule, setting

if TYPE_CHECKING:
    from .stack import StackConfig

# ECR CreateRepository repositoryName: 2-256 characters, this pattern (botocore ecr model, shape RepositoryName).
ECR_NAME = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
# A KMS key or alias ARN, any partition: arn:<partition>:kms:<region>:<account>:key/<id> | alias/<name>.
KMS_ARN = (r"arn:(aws|aws-[a-z-]+):kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:"
           r"(key/[A-Za-z0-9-]{1,100}|alias/[A-Za-z0-9/_-]{1,250})")


@dataclass(frozen=True, kw_only=True)
class RegistryConfig:
    repository_name: str = setting(
        "repositoryName", "webapp", "ECR repository name for the app image.",
        length(2, 256),
        matches(ECR_NAME, "webapp or team/web-app", "lowercase letters and digits with . _ - / separators"))
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
