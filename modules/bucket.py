"""Private S3 buckets: the lock-down every bucket here gets, and the stage's transfer bucket (uploads
to import, invalid-row reports, exports) with its grants and its upload notification."""

from __future__ import annotations

import json
from dataclasses import dataclass

from modules import tf
from modules.iam import Grantee, Statement
from modules.queues import Configurable, Queue

UPLOADS, REPORTS, EXPORTS = "uploads/", "reports/", "exports/"  # the worker's key prefixes (services/transfers.py)
ABORT_TRANSFER_MULTIPART_DAYS = 2  # days: an export's multipart upload spans minutes, never days
NONCURRENT_TRANSFER_DAYS = 1  # days an overwritten upload or report version is kept
CORS_MAX_AGE = 3600  # seconds a browser may cache the preflight answer


def lock_down(scope: tf.Construct, bucket: tf.S3Bucket) -> None:
    """KMS encryption at rest (AWS-managed key, bucket key on), every form of public access blocked,
    ACLs disabled (bucket owner owns every object) and any request without TLS denied."""
    tf.S3BucketServerSideEncryptionConfigurationA(
        scope, "encryption", bucket=bucket.id,
        rule=[tf.S3BucketServerSideEncryptionConfigurationRuleA(
            apply_server_side_encryption_by_default=tf.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms"),
            bucket_key_enabled=True)])
    tf.S3BucketPublicAccessBlock(scope, "public-access", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                 ignore_public_acls=True, restrict_public_buckets=True)
    tf.S3BucketOwnershipControls(scope, "ownership", bucket=bucket.id,
                                 rule=tf.S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"))
    tf.S3BucketPolicy(scope, "tls-only", bucket=bucket.id, policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": [bucket.arn, f"{bucket.arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
    }, sort_keys=True))


@dataclass(frozen=True)
class TransferBucketProps:
    cors_origins: tuple[str, ...]  # the frontend origins that upload and download from a browser
    retention_days: int  # uploads, reports and exports are deleted after this many days
    protect: bool = False  # prod: keep the bucket through a careless destroy

    def __post_init__(self) -> None:
        if not 1 <= self.retention_days <= 365:
            raise ValueError(f"transfer retention {self.retention_days} days outside 1..365")
        for origin in self.cors_origins:
            if origin == "*" or not origin.startswith(("https://", "http://localhost", "http://127.0.0.1")):
                raise ValueError(f"CORS origin {origin!r}: name an https origin (or localhost), never *")


class TransferBucket(tf.Construct):
    """Private, encrypted, TLS-only; CORS for the frontend's upload and downloads; every file deleted
    after ``retention_days`` (they are copies of data the tables hold, kept only to be fetched)."""

    def __init__(self, scope: tf.Construct, id: str, *, bucket_name: str, props: TransferBucketProps) -> None:
        super().__init__(scope, id)
        self.props = props
        account = tf.DataAwsCallerIdentity(self, "account").account_id  # bucket names are global: add the account
        self.bucket = tf.S3Bucket(self, "bucket", bucket=f"{bucket_name}-{account}", force_destroy=not props.protect,
                                  lifecycle=tf.TerraformResourceLifecycle(prevent_destroy=props.protect))
        self.name, self.arn = self.bucket.bucket, self.bucket.arn
        lock_down(self, self.bucket)
        tf.S3BucketVersioningA(self, "versioning", bucket=self.bucket.id,
                               versioning_configuration=tf.S3BucketVersioningVersioningConfiguration(status="Enabled"))
        tf.S3BucketLifecycleConfiguration(self, "lifecycle", bucket=self.bucket.id, rule=[
            tf.S3BucketLifecycleConfigurationRule(
                id=f"expire-{prefix.rstrip('/')}", status="Enabled",
                filter=[tf.S3BucketLifecycleConfigurationRuleFilter(prefix=prefix)],
                expiration=[tf.S3BucketLifecycleConfigurationRuleExpiration(days=props.retention_days)],
                noncurrent_version_expiration=[tf.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=NONCURRENT_TRANSFER_DAYS)],
                abort_incomplete_multipart_upload=[tf.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=ABORT_TRANSFER_MULTIPART_DAYS)])
            for prefix in (UPLOADS, REPORTS, EXPORTS)])
        if props.cors_origins:
            tf.S3BucketCorsConfiguration(self, "cors", bucket=self.bucket.id, cors_rule=[tf.S3BucketCorsConfigurationCorsRule(
                allowed_methods=["GET", "POST"], allowed_origins=list(props.cors_origins), allowed_headers=["*"],
                expose_headers=["ETag"], max_age_seconds=CORS_MAX_AGE)])

    def _objects(self, *prefixes: str) -> tuple[str, ...]:
        return tuple(f"{self.arn}/{prefix}*" for prefix in prefixes)

    def grant_sign_uploads(self, grantee: Grantee) -> None:
        """s3:PutObject on uploads/*: a pre-signed POST acts with its signer's rights."""
        grantee.add_to_policy(Statement(("s3:PutObject",), self._objects(UPLOADS)))

    def grant_sign_downloads(self, grantee: Grantee) -> None:
        """s3:GetObject on reports/* and exports/*: the download links the API hands out."""
        grantee.add_to_policy(Statement(("s3:GetObject",), self._objects(REPORTS, EXPORTS)))

    def grant_process(self, grantee: Grantee) -> None:
        """What the worker does: s3:GetObject on uploads/* and reports/*; s3:PutObject (multipart parts
        too) on reports/* and exports/*; s3:ListBucket of reports/ only. (An unfinished multipart
        upload is aborted by the lifecycle rule, not by the worker.)"""
        grantee.add_to_policy(Statement(("s3:GetObject",), self._objects(UPLOADS, REPORTS)))
        grantee.add_to_policy(Statement(("s3:PutObject",), self._objects(REPORTS, EXPORTS)))
        grantee.add_to_policy(Statement(("s3:ListBucket",), (self.arn,), (("StringLike", "s3:prefix", (f"{REPORTS}*",)),)))

    def connect(self, function: Configurable) -> None:
        """``TRANSFERS_BUCKET``: the bucket's name for ``function``; the grants say what it may do there."""
        function.add_environment("TRANSFERS_BUCKET", self.name)

    def notify_uploads(self, queue: Queue) -> None:
        """Each new object under uploads/ becomes a message on ``queue``; its policy admits this bucket's
        events only."""
        policy = queue.accept_events_from("s3.amazonaws.com", self.arn)
        tf.S3BucketNotification(self, "uploads-notification", bucket=self.bucket.id, depends_on=[policy], queue=[
            tf.S3BucketNotificationQueue(events=["s3:ObjectCreated:*"], queue_arn=queue.arn, filter_prefix=UPLOADS,
                                         filter_suffix=".csv")])
