"""The Pulumi state backend of the account: one S3 bucket, versioned, encrypted with a key of its own, private,
TLS-only. Pulumi's DIY backend locks a stack with lock objects in the bucket itself (`.pulumi/locks/`, every
`up`/`refresh`/`destroy` since Pulumi 3.20; a preview takes none), so no lock table is needed."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import policies

TYPE = "webstack-bootstrap:state:StateBackend"


@dataclass(frozen=True, kw_only=True)
class StateBackendArgs:
    bucket_name: str
    """Fixed and account-unique (`<prefix>-state-<account>-<region>`): the backend URL names it."""
    partition: str
    account: str
    region: str
    preview_role_arn: pulumi.Input[str] | None
    deploy_role_arns: list[pulumi.Input[str]]
    """Denied the key's administration in its policy (their IAM policy allows kms:* for the stack's own keys)."""
    tags: dict[str, str]


class StateBackend(pulumi.ComponentResource):
    def __init__(self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        arn = f"arn:{args.partition}:s3:::{args.bucket_name}"
        # Losing the bucket loses every stack's state: protected, and kept if the bootstrap is ever destroyed.
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        self.key = aws.kms.Key(
            f"{name}-key", description="Pulumi state bucket encryption (webstack bootstrap)",
            enable_key_rotation=True, deletion_window_in_days=30, tags=args.tags,
            policy=pulumi.Output.all(args.preview_role_arn, *args.deploy_role_arns).apply(
                lambda arns: json.dumps(policies.key_policy(args.partition, args.account, args.region, arn,
                                                            arns[0], list(arns[1:])))),
            opts=keep)
        aws.kms.Alias(f"{name}-key-alias", name=f"alias/{args.bucket_name}", target_key_id=self.key.key_id,
                      opts=child)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", bucket=args.bucket_name, tags=args.tags, opts=keep)
        bucket_child = pulumi.ResourceOptions(parent=self, depends_on=[self.bucket])
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=bucket_child)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block", bucket=self.bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=bucket_child)
        aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=bucket_child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3
                .BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=self.key.arn),
                bucket_key_enabled=True)],  # one data key per bucket: fewer KMS calls, bucket-ARN context
            opts=bucket_child)
        aws.s3.BucketPolicy(f"{name}-policy", bucket=self.bucket.id, policy=json.dumps(policies.bucket_policy(arn)),
                            opts=bucket_child)
        self.bucket_arn = arn
        self.url = f"s3://{args.bucket_name}?region={args.region}"
        self.register_outputs({"url": self.url, "bucket_arn": arn})
