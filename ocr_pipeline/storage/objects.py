"""One small object-store interface over a local directory and S3 (boto3).

Every asset reads and writes through it. Writes publish atomically: a local file is renamed
into place, an S3 object appears whole, so a killed worker never leaves a partial object.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, Protocol
from urllib.parse import urlparse

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError


class StorageError(Exception):
    """An object store could not be reached or refused a request; names the object."""


class StorageAccessDenied(StorageError):
    """S3 refused a request for lack of permission (403): one line naming the operation, bucket and key,
    and the permission that is missing. Raised without the boto3 exception chain (the message says it all).
    """

    def __init__(self, action: str, operation: str, bucket: str, key: str, code: str) -> None:
        self.operation, self.bucket, self.key, self.code = operation, bucket, key, code
        permission = _IAM_ACTIONS.get(operation, f"the permission for {operation}")
        target = f"prefix {key!r}" if permission == "s3:ListBucket" else f"key {key!r}"
        message = (
            f"S3 {action} failed for s3://{bucket}/{key}: access denied ({code}) to {operation}: "
            f"the credentials in use lack {permission} on bucket {bucket!r}, {target}"
        )
        if operation in ("HeadObject", "GetObject"):
            message += ", or s3:ListBucket on the bucket (without it S3 answers 403, not 404, for a missing key)"
        super().__init__(message)


_IAM_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "ListObjectsV2": "s3:ListBucket",
}
_DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled", "403"})
"""S3's answers for a refused permission (``403``: a HEAD, which has no error body)."""


def _denied(error: BaseException) -> tuple[str, str] | None:
    """(operation, code) when ``error`` (or the ClientError boto3's upload wrapped) is S3's access denied."""
    if isinstance(error, S3UploadFailedError) and isinstance(error.__context__, ClientError):
        error = error.__context__
    if not isinstance(error, ClientError):
        return None
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in _DENIED_CODES:
        return error.operation_name or "request", code
    return None


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str | None
    last_modified: datetime


class ObjectStore(Protocol):
    """Keys are ``/``-separated strings relative to the store's root."""

    def uri(self, key: str) -> str: ...
    def get(self, key: str) -> bytes: ...
    def put(self, key: str, data: bytes) -> None: ...
    def put_file(self, key: str, path: Path) -> None: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def head(self, key: str) -> ObjectInfo: ...
    def list(self, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]: ...


_SPECIAL_SEGMENT = re.compile(r"~*\.*")
"""Key segments a file system would not keep as written (``""``, ``.``, ``..``), and those that look like their
escaped form (``~``, ``~..``)."""


def _segment_to_name(segment: str) -> str:
    return "~" + segment if _SPECIAL_SEGMENT.fullmatch(segment) else segment


def _name_to_segment(name: str) -> str:
    return name[1:] if name.startswith("~") and _SPECIAL_SEGMENT.fullmatch(name) else name


class LocalObjectStore:
    """A directory on local disk (the embedded default).

    Keys map to paths one to one, as on S3: ``a/../b.pdf`` is its own object (stored as
    ``a/~../b.pdf``), never ``b.pdf``, so a landing key cannot reach another document's files.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*(_segment_to_name(segment) for segment in key.split("/"))).resolve()
        if self.root not in path.parents:
            raise StorageError(f"key {key!r} escapes the store root {self.root}")
        return path

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as error:
            raise StorageError(f"cannot read {self.uri(key)}: {error}") from error

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as handle,
            open(path, "rb") as source,
        ):
            while chunk := source.read(1 << 20):
                handle.write(chunk)
        os.replace(handle.name, target)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def head(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            stat = path.stat()
        except OSError as error:
            raise StorageError(f"cannot stat {self.uri(key)}: {error}") from error
        return ObjectInfo(
            key, stat.st_size, f"{stat.st_mtime_ns:x}-{stat.st_size:x}", datetime.fromtimestamp(stat.st_mtime, UTC)
        )

    def list(self, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        if not self.root.is_dir():
            return
        keys = sorted(
            "/".join(_name_to_segment(name) for name in path.relative_to(self.root).parts)
            for path in self.root.rglob("*")
            if path.is_file() and not path.name.startswith(".tmp-")
        )
        for key in keys:
            if key.startswith(prefix) and (start_after is None or key > start_after):
                yield self.head(key)


class S3ObjectStore:
    """A bucket and key prefix on S3 or any S3-compatible endpoint."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client=None,
        endpoint_url: str | None = None,
        region: str | None = None,
        max_attempts: int = 8,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or s3_client(endpoint_url=endpoint_url, region=region, max_attempts=max_attempts)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _raise(self, action: str, key: str, error: Exception) -> NoReturn:
        """Fail a request on ``key`` (store-relative): access denied as one line, anything else with its cause."""
        denied = _denied(error)
        if denied:  # the message names operation, bucket and key: no boto3 traceback under it
            raise StorageAccessDenied(action, denied[0], self.bucket, self._key(key), denied[1]) from None
        raise StorageError(f"S3 {action} failed for {self.uri(key)}: {error}") from error

    def _call(self, action: str, key: str, **kwargs):
        try:
            return getattr(self.client, action)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError) as error:
            self._raise(action, key, error)

    def get(self, key: str) -> bytes:
        return self._call("get_object", key, Key=self._key(key))["Body"].read()

    def put(self, key: str, data: bytes) -> None:
        self._call("put_object", key, Key=self._key(key), Body=data)

    def put_file(self, key: str, path: Path) -> None:
        try:
            self.client.upload_file(str(path), self.bucket, self._key(key))
        except (BotoCoreError, ClientError, S3UploadFailedError) as error:  # boto3 wraps upload errors
            self._raise("upload", key, error)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            self._raise("head_object", key, error)
        except BotoCoreError as error:
            self._raise("head_object", key, error)

    def delete(self, key: str) -> None:
        self._call("delete_object", key, Key=self._key(key))

    def head(self, key: str) -> ObjectInfo:
        response = self._call("head_object", key, Key=self._key(key))
        return ObjectInfo(
            key, response["ContentLength"], response.get("ETag", "").strip('"') or None, response["LastModified"]
        )

    def list(self, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        kwargs = {"Bucket": self.bucket, "Prefix": self._key(prefix)}
        if start_after is not None:
            kwargs["StartAfter"] = self._key(start_after)
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(**kwargs):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        item["Key"][len(self.prefix) :],
                        item["Size"],
                        item.get("ETag", "").strip('"') or None,
                        item["LastModified"],
                    )
        except (BotoCoreError, ClientError) as error:
            denied = _denied(error)
            if denied:
                raise StorageAccessDenied("list", denied[0], self.bucket, self._key(prefix), denied[1]) from None
            raise StorageError(f"S3 list failed for s3://{self.bucket}/{self._key(prefix)}: {error}") from error


def s3_client(*, endpoint_url: str | None = None, region: str | None = None, max_attempts: int = 8):
    """A boto3 S3 client with adaptive retries (throttling, 5xx, connection resets)."""
    config = BotoConfig(
        retries={"total_max_attempts": max_attempts, "mode": "adaptive"}, connect_timeout=5, read_timeout=60
    )
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config)


def open_store(
    uri: str, *, endpoint_url: str | None = None, region: str | None = None, max_attempts: int = 8
) -> ObjectStore:
    """A store for ``s3://bucket/prefix``, ``file:///dir`` or a plain directory path."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        return S3ObjectStore(
            parsed.netloc, parsed.path, endpoint_url=endpoint_url, region=region, max_attempts=max_attempts
        )
    if parsed.scheme == "file":
        return LocalObjectStore(parsed.path)
    if parsed.scheme in ("", None) or len(parsed.scheme) == 1:  # plain path (or a Windows drive)
        return LocalObjectStore(uri)
    raise ValueError(f"unsupported store URI {uri!r}: use s3://bucket/prefix, file:///dir or a path")
