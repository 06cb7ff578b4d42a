"""Course rows in DynamoDB, upserted per document so re-runs never duplicate or lose rows.

Table design (one table, on-demand capacity):

- partition key ``document_id`` (S), sort key ``entry_id`` (S) = ``<course_code>#<occurrence>``,
  so a document's rows are one ``Query`` and a re-run overwrites the same items;
- GSI ``by_course`` on ``course_code`` (S) + ``institution_document`` (S) for "which catalogs list
  CS 101";
- attributes: every column of ``courses.parquet`` (floats as Numbers, nulls omitted).

``replace_document`` writes the new rows, then deletes the items of that document that are no
longer produced, so a re-processed document ends with exactly its new rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from ocr_pipeline.storage.objects import StorageError

KEY_ATTRIBUTES = ("document_id", "entry_id")


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
        elif isinstance(value, list):
            value = [Decimal(str(v)) if isinstance(v, float) else v for v in value]
        item[key] = value
    item["institution_document"] = f"{row.get('institution') or ''}#{row['document_id']}"
    return item


class DynamoCourseSink:
    """Writes one document's validated rows to a DynamoDB table."""

    def __init__(self, table_name: str, *, resource=None, endpoint_url: str | None = None, region: str | None = None) -> None:
        self.resource = resource or dynamodb_client(endpoint_url=endpoint_url, region=region)
        self.table = self.resource.Table(table_name)
        self.table_name = table_name

    def ensure_table(self) -> None:
        """Create the table (and its index) if it does not exist: for local and test setups."""
        try:
            self.resource.meta.client.describe_table(TableName=self.table_name)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise StorageError(f"DynamoDB describe_table {self.table_name} failed: {error}") from error
        self.resource.create_table(
            TableName=self.table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in
                                  ("document_id", "entry_id", "course_code", "institution_document")],
            KeySchema=[{"AttributeName": "document_id", "KeyType": "HASH"}, {"AttributeName": "entry_id", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "by_course",
                "KeySchema": [{"AttributeName": "course_code", "KeyType": "HASH"},
                              {"AttributeName": "institution_document", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
        )
        self.table.wait_until_exists()

    def existing_keys(self, document_id: str) -> set[str]:
        keys: set[str] = set()
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "document_id = :d",
            "ExpressionAttributeValues": {":d": document_id},
            "ProjectionExpression": "entry_id",
        }
        while True:
            response = self.table.query(**kwargs)
            keys.update(item["entry_id"] for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return keys
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def replace_document(self, document_id: str, rows: Sequence[dict[str, Any]],
                         stale_document_ids: Sequence[str] = ()) -> dict[str, int]:
        """Upsert ``rows`` and delete the document's items that are no longer produced.

        ``stale_document_ids``: earlier content of the same source object, removed whole.
        """
        try:
            before = self.existing_keys(document_id)
            keep = {row["entry_id"] for row in rows}
            with self.table.batch_writer(overwrite_by_pkeys=list(KEY_ATTRIBUTES)) as batch:
                for row in rows:
                    batch.put_item(Item=_item(row))
                for entry_id in before - keep:
                    batch.delete_item(Key={"document_id": document_id, "entry_id": entry_id})
                removed_stale = 0
                for stale in stale_document_ids:
                    if stale == document_id:
                        continue
                    for entry_id in self.existing_keys(stale):
                        batch.delete_item(Key={"document_id": stale, "entry_id": entry_id})
                        removed_stale += 1
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"DynamoDB write to {self.table_name} failed for document {document_id}: {error}") from error
        return {"written": len(rows), "deleted": len(before - keep), "deleted_stale": removed_stale}
