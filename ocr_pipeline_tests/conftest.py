"""Shared fixtures: a real moto server (S3 + DynamoDB) on a loopback port, a real Dagster instance."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import dagster as dg
import pytest
from moto.server import ThreadedMotoServer

from ocr_pipeline.defs.resources import DynamoResource, OcrEngineResource, StorageResource
from ocr_pipeline.defs.review import ReviewStoreResource


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def aws_test_credentials() -> Iterator[None]:
    """Dummy credentials so boto3 never looks for real ones (nothing leaves loopback)."""
    patch = pytest.MonkeyPatch()
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}.items():
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
        return StorageResource(landing_uri=f"s3://{self.bucket}/landing", work_uri=f"s3://{self.bucket}/work",
                               output_uri=f"s3://{self.bucket}/output", s3_endpoint_url=self.endpoint, **overrides)

    def dynamodb(self) -> DynamoResource:
        return DynamoResource(enabled=True, table_name=self.table, endpoint_url=self.endpoint, create_table=True)

    def review_store(self) -> ReviewStoreResource:
        return ReviewStoreResource(uri=f"dynamodb://{self.table}-review?create=1", endpoint_url=self.endpoint)

    def resources(self, engine: str = "rapidocr", **storage_overrides) -> dict:
        return {"storage": self.storage(**storage_overrides), "dynamodb": self.dynamodb(),
                "ocr_engine": OcrEngineResource(engine=engine), "review_store": self.review_store()}

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
