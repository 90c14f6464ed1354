"""The state bucket: versioned, encrypted, private, TLS-only, never destroyed by a plan."""

from __future__ import annotations

import json

from modules.rules import resources
from tests.synth import BOOTSTRAP, Synth


def one(plan: dict, type_: str) -> dict:
    [(_, _, body)] = list(resources(plan, type_))
    return body


def test_state_bucket_is_protected_from_destroy(synth: Synth) -> None:
    bucket = one(synth.stack(BOOTSTRAP), "aws_s3_bucket")
    assert bucket["lifecycle"]["prevent_destroy"] is True
    assert bucket["force_destroy"] is False


def test_state_bucket_is_versioned_encrypted_and_private(synth: Synth) -> None:
    plan = synth.stack(BOOTSTRAP)
    assert one(plan, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    [rule] = one(plan, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    block = one(plan, "aws_s3_bucket_public_access_block")
    assert all(block[key] is True for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))


def test_state_bucket_refuses_plain_http(synth: Synth) -> None:
    policy = json.loads(one(synth.stack(BOOTSTRAP), "aws_s3_bucket_policy")["policy"])
    [deny] = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_incomplete_uploads_are_aborted_for_every_object(synth: Synth) -> None:
    [rule] = one(synth.stack(BOOTSTRAP), "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == [{}]
    assert rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] > 0


def test_bootstrap_keeps_local_state_and_stages_use_the_bucket(synth: Synth) -> None:
    bucket = one(synth.stack(BOOTSTRAP), "aws_s3_bucket")["bucket"]
    assert "local" in synth.stack(BOOTSTRAP)["terraform"]["backend"]
    for stage in ("dev", "staging", "prod"):
        assert synth.stage(stage)["terraform"]["backend"]["s3"]["bucket"] == bucket
