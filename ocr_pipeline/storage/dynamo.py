"""Course rows in DynamoDB, upserted per source object so re-runs never duplicate or lose rows.

Table design (one table, on-demand capacity):

- partition key ``source_id`` (S: the source object, ``DocumentInfo.source_id``), sort key
  ``entry_id`` (S) = ``<course_code>#<occurrence>``, so an object's rows are one ``Query`` and a
  re-run overwrites the same items; ``document_id`` (the content hash) is an attribute, so two
  objects with the same bytes keep separate rows;
- GSI ``by_course`` on ``course_code`` (S) + ``institution_source`` (S) for "which catalogs list
  CS 101";
- attributes: every column of ``courses.parquet`` (floats as Numbers, nulls omitted).

``replace_source`` writes the new rows, then deletes the object's items that are no longer
produced (earlier content of the same object included), so it ends with exactly its new rows.
Tables keyed by ``document_id`` (before 0.2) are refused with the migration command to run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from ocr_pipeline.storage.objects import StorageError

KEY_ATTRIBUTES = ("source_id", "entry_id")
MIGRATION_HINT = "run `ocr-pipeline migrate-source-keys` (docs/migrations.md)"


def dynamodb_client(*, endpoint_url: str | None = None, region: str | None = None):
    """A DynamoDB client with adaptive retries (throttling, 5xx, connection resets)."""
    config = BotoConfig(retries={"total_max_attempts": 8, "mode": "adaptive"}, connect_timeout=5, read_timeout=30)
    return boto3.resource("dynamodb", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config)


def _item(row: dict[str, Any]) -> dict[str, Any]:
    item = {}
    for key, value in row.items():
        if value is None or (isinstance(value, (list, str)) and not value):
            continue
        if isinstance(value, float):
            value = Decimal(str(value))
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, list):
            value = [Decimal(str(v)) if isinstance(v, float) else v for v in value]
        item[key] = value
    item["institution_source"] = f"{row.get('institution') or ''}#{row['source_id']}"
    return item


class DynamoCourseSink:
    """Writes one document's validated rows to a DynamoDB table."""

    def __init__(
        self, table_name: str, *, resource=None, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        self.resource = resource or dynamodb_client(endpoint_url=endpoint_url, region=region)
        self.table = self.resource.Table(table_name)
        self.table_name = table_name
        self._checked = False

    def _describe(self) -> dict[str, Any] | None:
        """The table's description, or None when it does not exist."""
        try:
            return self.resource.meta.client.describe_table(TableName=self.table_name)["Table"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise StorageError(f"DynamoDB describe_table {self.table_name} failed: {error}") from error
        except BotoCoreError as error:
            raise StorageError(f"DynamoDB describe_table {self.table_name} failed: {error}") from error

    def check_table(self) -> None:
        """Refuse a missing table, or one keyed the old way (rows per content, not per object)."""
        if self._checked:
            return
        table = self._describe()
        if table is None:
            raise StorageError(
                f"DynamoDB table {self.table_name} does not exist (OCR_PIPELINE_DYNAMODB_TABLE; "
                "create it as in docs/deploy.md)"
            )
        keys = [key["AttributeName"] for key in table["KeySchema"]]
        if keys != list(KEY_ATTRIBUTES):
            raise StorageError(
                f"DynamoDB table {self.table_name} is keyed by {keys}, not {list(KEY_ATTRIBUTES)}: {MIGRATION_HINT}"
            )
        self._checked = True

    def ensure_table(self) -> None:
        """Create the table (and its index) if it does not exist: for local and test setups."""
        if self._describe() is not None:
            self.check_table()
            return
        self.resource.create_table(
            TableName=self.table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"}
                for n in (*KEY_ATTRIBUTES, "course_code", "institution_source")
            ],
            KeySchema=[
                {"AttributeName": KEY_ATTRIBUTES[0], "KeyType": "HASH"},
                {"AttributeName": KEY_ATTRIBUTES[1], "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_course",
                    "KeySchema": [
                        {"AttributeName": "course_code", "KeyType": "HASH"},
                        {"AttributeName": "institution_source", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        self.table.wait_until_exists()

    def existing_keys(self, source_id: str) -> set[str]:
        items = query_all(
            self.table,
            KeyConditionExpression="source_id = :s",
            ExpressionAttributeValues={":s": source_id},
            ProjectionExpression="entry_id",
        )
        return {item["entry_id"] for item in items}

    def replace_source(self, source_id: str, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Upsert ``rows`` (all of ``source_id``) and delete the object's items that are no longer produced."""
        self.check_table()
        if any(row["source_id"] != source_id for row in rows):
            raise ValueError(f"rows of another source object passed to replace_source({source_id!r})")
        try:
            before = self.existing_keys(source_id)
            keep = {row["entry_id"] for row in rows}
            with self.table.batch_writer(overwrite_by_pkeys=list(KEY_ATTRIBUTES)) as batch:
                for row in rows:
                    batch.put_item(Item=_item(row))
                for entry_id in before - keep:
                    batch.delete_item(Key={"source_id": source_id, "entry_id": entry_id})
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"DynamoDB write to {self.table_name} failed for source {source_id}: {error}") from error
        return {"written": len(rows), "deleted": len(before - keep)}


def query_all(table: Any, **query: Any) -> Iterator[dict[str, Any]]:
    """Every item a DynamoDB ``Query`` matches, following ``LastEvaluatedKey`` across pages (1 MB each)."""
    while True:
        response = table.query(**query)
        yield from response["Items"]
        if "LastEvaluatedKey" not in response:
            return
        query = {**query, "ExclusiveStartKey": response["LastEvaluatedKey"]}
