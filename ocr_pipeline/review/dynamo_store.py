"""The production review store: a DynamoDB table, writes conditional on the stored version.

Table: partition key ``task_id`` (S); attributes ``status``, ``updated_at``, ``version`` (N) and
``data`` (the task as JSON); GSI ``by_status`` on ``status`` + ``updated_at`` for the queue and
the sensor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ocr_pipeline.review.model import ReviewTask, TaskStatus
from ocr_pipeline.review.store import OPEN_STATUSES, ConflictError
from ocr_pipeline.storage.dynamo import dynamodb_client
from ocr_pipeline.storage.objects import StorageError

STATUS_INDEX = "by_status"


def _item(task: ReviewTask) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "status": task.status.value,
        "updated_at": task.updated_at,
        "version": task.version,
        "data": json.dumps(task.to_dict()),
    }


def _conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoReviewStore:
    """Review tasks in one table; a missing table fails every call with one :class:`StorageError` naming the
    table, its region and ``OCR_PIPELINE_REVIEW_STORE_URI`` (production tables come from docs/deploy.md)."""

    def __init__(
        self, table_name: str, *, resource=None, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        self.resource = resource or dynamodb_client(endpoint_url=endpoint_url, region=region)
        self.table_name = table_name
        self.table = self.resource.Table(table_name)

    def ensure_table(self) -> None:
        """Create the table and its index when missing (local and test setups)."""
        client = self.resource.meta.client
        if self.table_name in client.list_tables()["TableNames"]:
            return
        self.resource.create_table(
            TableName=self.table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("task_id", "status", "updated_at")
            ],
            KeySchema=[{"AttributeName": "task_id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": STATUS_INDEX,
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "updated_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        self.table.wait_until_exists()

    @contextmanager
    def _existing_table(self) -> Iterator[None]:
        try:
            yield
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            region = self.resource.meta.client.meta.region_name
            raise StorageError(
                f"DynamoDB review table {self.table_name} does not exist in {region} (set by "
                "OCR_PIPELINE_REVIEW_STORE_URI=dynamodb://<table>): create it as in docs/deploy.md, or point the "
                "variable at the table that holds the review tasks"
            ) from None

    def add(self, task: ReviewTask) -> bool:
        try:
            with self._existing_table():
                self.table.put_item(Item=_item(task), ConditionExpression=Attr("task_id").not_exists())
        except ClientError as error:
            if _conditional_failure(error):
                return False
            raise
        return True

    def get(self, task_id: str) -> ReviewTask | None:
        with self._existing_table():
            item = self.table.get_item(Key={"task_id": task_id}, ConsistentRead=True).get("Item")
        return ReviewTask.from_dict(json.loads(item["data"])) if item else None

    def save(self, task: ReviewTask, expected_version: int) -> ReviewTask:
        try:
            with self._existing_table():
                self.table.put_item(Item=_item(task), ConditionExpression=Attr("version").eq(expected_version))
        except ClientError as error:
            if _conditional_failure(error):
                raise ConflictError(f"task {task.task_id} is no longer at version {expected_version}") from error
            raise
        return task

    def list(
        self, statuses: Sequence[TaskStatus] = OPEN_STATUSES, updated_since: str | None = None, limit: int = 500
    ) -> list[ReviewTask]:
        items: list[dict[str, Any]] = []
        for status in statuses:
            condition = Key("status").eq(status.value)
            if updated_since:
                condition = condition & Key("updated_at").gte(updated_since)
            kwargs: dict[str, Any] = {"IndexName": STATUS_INDEX, "KeyConditionExpression": condition, "Limit": limit}
            found = 0
            while True:
                with self._existing_table():
                    response = self.table.query(**kwargs)
                items += response["Items"]
                found += len(response["Items"])
                if found >= limit or "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        items.sort(key=lambda item: item["updated_at"])
        return [ReviewTask.from_dict(json.loads(item["data"])) for item in items[:limit]]
