"""Shared fixtures: a real moto server (S3 + DynamoDB) on a loopback port, a real Dagster instance."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import dagster as dg
import pytest
from moto.server import ThreadedMotoServer

from ocr_pipeline.defs.resources import DynamoResource, ReviewStoreResource, StorageResource, pipeline_resources
from ocr_pipeline_tests.support import free_port

REPO = Path(__file__).resolve().parents[1]
# Never looked into: git's and the tools' own directories (caches, the venv, the editable install's metadata).
_NOT_OURS = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
# New files with these suffixes that git would list as untracked are someone's work in progress (source,
# docs, config), not a test's output; tests write data (*.db, *.parquet, *.pdf, *.png, logs) or ignored paths.
_SOURCE_SUFFIXES = {
    ".py",
    ".pyi",
    ".md",
    ".rst",
    ".toml",
    ".cfg",
    ".ini",
    ".txt",
    ".yaml",
    ".yml",
    ".json",
    ".sh",
    ".html",
    ".css",
    ".js",
}


def checkout_files() -> set[str]:
    """Every file under the checkout (relative paths), less ``_NOT_OURS``."""
    found = set()
    for directory, subdirectories, files in os.walk(REPO):
        subdirectories[:] = [d for d in subdirectories if d not in _NOT_OURS and not d.endswith(".egg-info")]
        found.update(os.path.relpath(os.path.join(directory, name), REPO) for name in files)
    return found


def _git_ignored(paths: list[str]) -> set[str] | None:
    """The paths git ignores; None when this is not a git checkout (or git is missing)."""
    try:
        checked = subprocess.run(
            ["git", "check-ignore", "--stdin", "-z"],
            cwd=REPO,
            input="\0".join(paths),
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if checked.returncode not in (0, 1):  # 1: none ignored; 128: not a repository
        return None
    return set(filter(None, checked.stdout.split("\0")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test on the moto server is an integration test; modules with other services mark themselves (and
    modules of slow tests mark themselves ``slow``: ``pytestmark``)."""
    for item in items:
        if "moto_endpoint" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def tests_never_write_into_the_checkout() -> Iterator[None]:
    """Fails the session if a test left a new file in the checkout (``data/review.db``, ``.dagster_home/``, ...):
    tests write under ``tmp_path``. Only new paths count, so other people's edits to existing files never trip
    it, and new untracked source files (``_SOURCE_SUFFIXES``) are taken for someone's work in progress."""
    before = checkout_files()
    yield
    new = sorted(checkout_files() - before)
    if not new:
        return
    ignored = _git_ignored(new)
    left = [
        path
        for path in new
        if (ignored is not None and path in ignored) or os.path.splitext(path)[1] not in _SOURCE_SUFFIXES
    ]
    assert not left, "the tests wrote into the checkout (write under tmp_path instead; delete these): " + ", ".join(
        left
    )


@pytest.fixture(scope="session", autouse=True)
def aws_test_credentials() -> Iterator[None]:
    """Dummy credentials so boto3 never looks for real ones (nothing leaves loopback)."""
    patch = pytest.MonkeyPatch()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        patch.setenv(name, value)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def moto_endpoint(aws_test_credentials) -> Iterator[str]:
    """A moto server in server mode (a real HTTP endpoint), for S3 and DynamoDB."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@dataclass
class Cloud:
    """A fresh bucket (and table name) on the moto server, and resources pointing at them."""

    endpoint: str
    bucket: str
    table: str

    @property
    def s3(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")

    def upload(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=f"landing/{key}", Body=data)

    def storage(self, **overrides) -> StorageResource:
        return self.resources(**overrides)["storage"]

    def dynamodb(self) -> DynamoResource:
        return self.resources()["dynamodb"]

    def review_store(self) -> ReviewStoreResource:
        return self.resources()["review_store"]

    def resources(self, engine: str = "rapidocr", **overrides) -> dict:
        """The graph's resources on this bucket and table (``overrides``: :func:`pipeline_resources` settings)."""
        settings = {
            "landing_uri": f"s3://{self.bucket}/landing",
            "work_uri": f"s3://{self.bucket}/work",
            "output_uri": f"s3://{self.bucket}/output",
            "s3_endpoint_url": self.endpoint,
            "dynamodb_enabled": True,
            "dynamodb_table": self.table,
            "dynamodb_endpoint_url": self.endpoint,
            "dynamodb_create_table": True,
            "engine": engine,
            "review_store_uri": f"dynamodb://{self.table}-review?create=1",
            "review_endpoint_url": self.endpoint,
        }
        return pipeline_resources(**{**settings, **overrides})

    def dynamo_items(self, source_id: str) -> list[dict]:
        """The items of one source object (the table's partition key)."""
        table = boto3.resource("dynamodb", endpoint_url=self.endpoint, region_name="us-east-1").Table(self.table)
        response = table.query(KeyConditionExpression="source_id = :s", ExpressionAttributeValues={":s": source_id})
        return response["Items"]


@pytest.fixture
def cloud(moto_endpoint: str, request: pytest.FixtureRequest) -> Cloud:
    slug = "".join(c if c.isalnum() else "-" for c in request.node.originalname.lower())[:40].strip("-")
    name = f"t-{slug}-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return Cloud(moto_endpoint, name, f"{name}-courses")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance
