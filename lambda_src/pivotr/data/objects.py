"""The data-access layer for S3: the stage's transfer bucket (uploads to import, reports, exports)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

from botocore.exceptions import ClientError

from pivotr.data import clients

UPLOAD_LINK_SECONDS = 3600  # an upload policy is good for an hour
DOWNLOAD_LINK_SECONDS = 3600  # a report or export link, likewise (asked for again on each GET)
MIN_PART = 5 * 1024 * 1024  # bytes: S3's smallest multipart part but the last


class Replaced(Exception):
    """The object changed since the job began (someone uploaded again under the same policy)."""


class Bucket:
    def __init__(self, name: str) -> None:
        self.name = name

    @cached_property
    def _client(self):
        # SigV4: what a browser's POST policy and a download link need in every region
        return clients.s3()

    def upload_policy(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
        """A pre-signed POST (``url`` and form ``fields``) for exactly ``key``: this content type, 1 byte
        to ``max_bytes`` (a pre-signed PUT could not cap the size)."""
        return self._client.generate_presigned_post(
            Bucket=self.name, Key=key, Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=UPLOAD_LINK_SECONDS)

    def download_link(self, key: str, filename: str) -> str:
        return self._client.generate_presigned_url(
            "get_object", ExpiresIn=DOWNLOAD_LINK_SECONDS,
            Params={"Bucket": self.name, "Key": key, "ResponseContentDisposition": f'attachment; filename="{filename}"'})

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return self._client.head_object(Bucket=self.name, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def read(self, key: str, start: int, size: int, etag: str) -> bytes:
        """``size`` bytes from ``start`` (fewer at the end) of the version whose ETag is ``etag``."""
        try:
            response = self._client.get_object(Bucket=self.name, Key=key, Range=f"bytes={start}-{start + size - 1}",
                                               IfMatch=etag)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise Replaced(key) from None
            raise
        return response["Body"].read()

    def put(self, key: str, data: bytes, content_type: str = "text/csv; charset=utf-8") -> None:
        self._client.put_object(Bucket=self.name, Key=key, Body=data, ContentType=content_type)

    def keys(self, prefix: str) -> Iterator[str]:
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            yield from (item["Key"] for item in page.get("Contents", []))

    def get(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self.name, Key=key)["Body"].read()

    # -- multipart: one object written part by part across invocations --------------------------------
    def start_multipart(self, key: str, content_type: str = "text/csv; charset=utf-8") -> str:
        return self._client.create_multipart_upload(Bucket=self.name, Key=key, ContentType=content_type)["UploadId"]

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Part ``number`` (1-based); writing the same number again replaces it. Returns its ETag."""
        return self._client.upload_part(Bucket=self.name, Key=key, UploadId=upload_id, PartNumber=number, Body=data)["ETag"]

    def finish_multipart(self, key: str, upload_id: str, etags: list[str]) -> None:
        self._client.complete_multipart_upload(
            Bucket=self.name, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": etag} for i, etag in enumerate(etags)]})
