"""The bucket that holds every stage's Terraform state (created by the bootstrap stack)."""

from __future__ import annotations

from modules import tf
from modules.bucket import lock_down

NONCURRENT_STATE_DAYS = 90  # days an overwritten state version is kept
ABORT_MULTIPART_DAYS = 7  # days


class StateBucket(tf.Construct):
    """Versioned, KMS-encrypted, private, TLS-only, and protected from ``terraform destroy``."""

    def __init__(self, scope: tf.Construct, id: str, *, bucket_name: str) -> None:
        super().__init__(scope, id)
        self.bucket = tf.S3Bucket(
            self,
            "bucket",
            bucket=bucket_name,
            force_destroy=False,
            lifecycle=tf.TerraformResourceLifecycle(prevent_destroy=True),
        )
        tf.S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=tf.S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        lock_down(self, self.bucket)
        tf.S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                tf.S3BucketLifecycleConfigurationRule(
                    id="expire-old-state-versions",
                    status="Enabled",
                    filter=[tf.S3BucketLifecycleConfigurationRuleFilter()],  # empty: every object
                    noncurrent_version_expiration=[
                        tf.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=NONCURRENT_STATE_DAYS
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        tf.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=ABORT_MULTIPART_DAYS
                        )
                    ],
                )
            ],
        )
