"""The ``sagemaker`` engine: pages sent to a SageMaker endpoint running :mod:`ocr_pipeline.serve`.

botocore retries throttling and 5xx from SageMaker itself; a ``ModelError`` whose container
answered 429/5xx (e.g. a full queue) is retried here with backoff.
"""

from __future__ import annotations

from typing import Any

from ocr_pipeline.ocr.ocr_service_client import RETRY_STATUS, ServiceEngine, TransientError


class SageMakerEngine(ServiceEngine):
    """``sagemaker-runtime`` ``invoke_endpoint`` per page."""

    name = "sagemaker"

    def __init__(
        self,
        endpoint_name: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        timeout: float = 300.0,
        botocore_retries: int = 5,
        client: Any = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.endpoint_name = endpoint_name
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "sagemaker-runtime",
                region_name=region,
                endpoint_url=endpoint_url,
                config=Config(
                    read_timeout=timeout,
                    max_pool_connections=self.concurrency,
                    retries={"mode": "standard", "max_attempts": botocore_retries},
                ),
            )
        self.client = client

    def _invoke(self, body: bytes) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self.client.invoke_endpoint(
                EndpointName=self.endpoint_name, Body=body, ContentType="application/json", Accept="application/json"
            )
        except ClientError as error:
            details = error.response
            status = details.get("OriginalStatusCode")
            if details.get("Error", {}).get("Code") == "ModelError" and status in RETRY_STATUS:
                raise TransientError(f"model error {status}: {details.get('OriginalMessage', '')[:500]}") from error
            raise
        return response["Body"].read()
