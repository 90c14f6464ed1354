"""Stack foundations: the pinned AWS provider with default tags, and the remote state backend."""

from __future__ import annotations

from functools import cached_property

from modules import tf
from modules.config import StateBackend

AWS_PROVIDER_SOURCE = "hashicorp/aws"
# The provider version the prebuilt bindings (cdktf-cdktf-provider-aws 21.22.1) were generated from.
AWS_PROVIDER_VERSION = "6.25.0"
# The S3 backend's lock file (use_lockfile) is generally available from Terraform 1.11; an older
# Terraform would fail at init with an unhelpful message, so the plan says what it needs.
TERRAFORM_REQUIRED_VERSION = ">= 1.11"


class AwsStack(tf.TerraformStack):
    """A stack with the AWS provider pinned by its full source and every resource tagged."""

    def __init__(
        self, scope: tf.Construct, id: str, *, region: str, tags: dict[str, str], account_id: str = ""
    ) -> None:
        super().__init__(scope, id)
        self.region = region
        self.provider = tf.AwsProvider(
            self,
            "aws",
            region=region,
            default_tags=[tf.AwsProviderDefaultTags(tags=tags)],
            allowed_account_ids=[account_id] if account_id else None,
        )
        # The bindings write source "aws"; pin the registry address in full.
        self.add_override(
            "terraform.required_providers.aws",
            {"source": AWS_PROVIDER_SOURCE, "version": AWS_PROVIDER_VERSION},
        )
        self.add_override("terraform.required_version", TERRAFORM_REQUIRED_VERSION)

    @cached_property
    def account_id(self) -> str:
        """The account the credentials point at (one data source per stack, read once)."""
        return tf.DataAwsCallerIdentity(self, "account").account_id

    def use_remote_state(self, state: StateBackend, key: str) -> None:
        """S3 state with encryption and S3-native locking (no DynamoDB lock table)."""
        tf.S3Backend(self, bucket=state.bucket, key=key, region=state.region, encrypt=True)
        # cdktf 0.21's S3Backend has no use_lockfile argument yet.
        self.add_override("terraform.backend.s3.use_lockfile", True)
