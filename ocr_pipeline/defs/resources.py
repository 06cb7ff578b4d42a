"""Resources, all assembled here: object stores, DynamoDB sink, OCR engine and review store, from the environment.

Every setting has a default that runs on a laptop; ``OCR_PIPELINE_*`` environment variables
(read through Dagster's ``EnvVar``, so the UI shows where a value came from) point the same
code at S3, DynamoDB and GPU engines.
"""

import functools
import inspect
import os
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from ocr_pipeline.catalog.profile import CatalogProfile, profile_for
from ocr_pipeline.ocr.base import OcrEngine
from ocr_pipeline.ocr.registry import DEFAULT_CPU_ENGINE, build_engine, engine_class
from ocr_pipeline.review.store import ReviewStore, open_review_store
from ocr_pipeline.storage.dynamo import DynamoCourseSink
from ocr_pipeline.storage.objects import ObjectStore, open_store
from ocr_pipeline.storage.work import WorkStore


class StorageResource(dg.ConfigurableResource):
    """Where source PDFs land, where intermediate work goes, and where outputs are published."""

    landing_uri: str = "data/landing"
    """Source PDFs: ``<landing_uri>/<institution>/<file>.pdf`` (``s3://bucket/prefix`` or a directory)."""
    work_uri: str = "data/work"
    """Page records, page images, OCR results and parsed entries."""
    output_uri: str = "data/output"
    """``courses/`` and ``pages/`` Parquet datasets for analysts."""
    s3_endpoint_url: str | None = None
    """For S3-compatible servers (MinIO, moto); unset for AWS."""
    aws_region: str = "us-east-1"
    max_attempts: int = 8
    """botocore attempts per S3 call (adaptive retry mode: throttling, 5xx, connection errors)."""
    profiles_dir: str | None = None
    """A directory of per-institution parsing profiles (YAML)."""
    scan_max_keys_per_tick: int = 10_000
    """The upload sensor lists at most this many keys per tick and resumes next tick."""
    scan_max_runs_per_tick: int = 100
    _stores: dict[str, ObjectStore] = PrivateAttr(default_factory=dict)
    """Stores (and their boto3 clients) opened so far: built once per resource, not per call."""

    def _open(self, uri: str) -> ObjectStore:
        if uri not in self._stores:
            self._stores[uri] = open_store(
                uri, endpoint_url=self.s3_endpoint_url, region=self.aws_region, max_attempts=self.max_attempts
            )
        return self._stores[uri]

    def landing(self) -> ObjectStore:
        return self._open(self.landing_uri)

    def work(self) -> WorkStore:
        return WorkStore(self._open(self.work_uri))

    def output(self) -> ObjectStore:
        return self._open(self.output_uri)

    def profile(self, institution: str | None) -> CatalogProfile:
        return profile_for(institution, Path(self.profiles_dir) if self.profiles_dir else None)


class DynamoResource(dg.ConfigurableResource):
    """The DynamoDB table that receives validated rows; off by default locally."""

    enabled: bool = False
    table_name: str = "ocr_pipeline_courses"
    endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    create_table: bool = False
    """Create the table when missing (local and test setups; production tables come from IaC)."""

    def sink(self) -> DynamoCourseSink | None:
        if not self.enabled:
            return None
        sink = DynamoCourseSink(self.table_name, endpoint_url=self.endpoint_url, region=self.aws_region)
        if self.create_table:
            sink.ensure_table()
        return sink


class OcrEngineResource(dg.ConfigurableResource):
    """The OCR engine for pages without a usable text layer (built lazily, once per process)."""

    engine: str = DEFAULT_CPU_ENGINE
    batch_size: int = 4
    model_path: str | None = None
    """Local directory (or hub id with downloads allowed) of a DeepSeek model."""
    prompt: str | None = None
    device: str | None = None
    base_url: str | None = None
    """For the ``openai-compatible`` and ``http`` engines."""
    endpoint_name: str | None = None
    """For the ``sagemaker`` engine."""

    def options(self) -> dict[str, Any]:
        """The settings the selected engine accepts (others are ignored)."""
        candidates = {
            "model_path": self.model_path,
            "prompt": self.prompt,
            "device": self.device,
            "base_url": self.base_url,
            "endpoint_name": self.endpoint_name,
            "batch_size": self.batch_size,
        }
        accepted = inspect.signature(engine_class(self.engine)).parameters
        return {k: v for k, v in candidates.items() if v is not None and k in accepted}

    def get(self) -> OcrEngine:
        """The engine, built once per process for these settings (models load once, not per run)."""
        return _engine(self.engine, tuple(sorted(self.options().items())))


DEFAULT_REVIEW_STORE_URI = "sqlite:///data/review.db"


class ReviewStoreResource(dg.ConfigurableResource):
    """Where review tasks live: ``sqlite:///path.db`` (embedded default) or ``dynamodb://table``."""

    uri: str = DEFAULT_REVIEW_STORE_URI
    endpoint_url: str | None = None
    """For DynamoDB-compatible endpoints (moto, DynamoDB Local)."""
    aws_region: str = "us-east-1"

    def open(self) -> ReviewStore:
        return open_review_store(self.uri, endpoint_url=self.endpoint_url, region=self.aws_region)


@functools.cache
def _engine(name: str, options: tuple[tuple[str, Any], ...]) -> OcrEngine:
    return build_engine(name, **dict(options))


def _setting(name: str, default: Any) -> Any:
    """``EnvVar(name)`` when the variable is set, else the default."""
    return dg.EnvVar(name) if name in os.environ else default


def _set_setting(name: str, default: Any) -> Any:
    """``EnvVar(name)`` when the variable is set and not empty, else the default (the review store's variables)."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def pipeline_resources(
    *,
    landing_uri: Any,
    work_uri: Any,
    output_uri: Any,
    s3_endpoint_url: Any = None,
    aws_region: Any = "us-east-1",
    profiles_dir: Any = None,
    dynamodb_enabled: bool = False,
    dynamodb_table: Any = "ocr_pipeline_courses",
    dynamodb_endpoint_url: Any = None,
    dynamodb_create_table: bool = False,
    engine: Any = DEFAULT_CPU_ENGINE,
    model_path: Any = None,
    ocr_base_url: Any = None,
    sagemaker_endpoint: Any = None,
    review_store_uri: Any = DEFAULT_REVIEW_STORE_URI,
    review_endpoint_url: Any = None,
    **storage_options: Any,
) -> dict[str, Any]:
    """The one place the graph's resources are assembled (values may be ``dg.EnvVar``s): the code location
    (:func:`default_resources`), local runs (:func:`local_resources`) and the tests all come through here.
    ``storage_options``: further :class:`StorageResource` settings (S3 attempts, the upload sensor's limits)."""
    return {
        "storage": StorageResource(
            landing_uri=landing_uri,
            work_uri=work_uri,
            output_uri=output_uri,
            s3_endpoint_url=s3_endpoint_url,
            aws_region=aws_region,
            profiles_dir=profiles_dir,
            **storage_options,
        ),
        "dynamodb": DynamoResource(
            enabled=dynamodb_enabled,
            table_name=dynamodb_table,
            endpoint_url=dynamodb_endpoint_url,
            aws_region=aws_region,
            create_table=dynamodb_create_table,
        ),
        "ocr_engine": OcrEngineResource(
            engine=engine, model_path=model_path, base_url=ocr_base_url, endpoint_name=sagemaker_endpoint
        ),
        "review_store": ReviewStoreResource(
            uri=review_store_uri, endpoint_url=review_endpoint_url, aws_region=aws_region
        ),
    }


def default_resources() -> dict[str, Any]:
    """Resources for the code location, from ``OCR_PIPELINE_*`` variables or defaults."""
    return pipeline_resources(
        landing_uri=_setting("OCR_PIPELINE_LANDING_URI", "data/landing"),
        work_uri=_setting("OCR_PIPELINE_WORK_URI", "data/work"),
        output_uri=_setting("OCR_PIPELINE_OUTPUT_URI", "data/output"),
        s3_endpoint_url=_setting("OCR_PIPELINE_S3_ENDPOINT_URL", None),
        aws_region=_setting("AWS_REGION", "us-east-1"),
        profiles_dir=_setting("OCR_PIPELINE_PROFILES_DIR", None),
        dynamodb_enabled=_flag("OCR_PIPELINE_DYNAMODB_ENABLED", False),
        dynamodb_table=_setting("OCR_PIPELINE_DYNAMODB_TABLE", "ocr_pipeline_courses"),
        dynamodb_endpoint_url=_setting("OCR_PIPELINE_DYNAMODB_ENDPOINT_URL", None),
        dynamodb_create_table=_flag("OCR_PIPELINE_DYNAMODB_CREATE_TABLE", False),
        engine=_setting("OCR_PIPELINE_OCR_ENGINE", DEFAULT_CPU_ENGINE),
        model_path=_setting("OCR_PIPELINE_MODEL_PATH", None),
        ocr_base_url=_setting("OCR_PIPELINE_OCR_BASE_URL", None),
        sagemaker_endpoint=_setting("OCR_PIPELINE_SAGEMAKER_ENDPOINT", None),
        review_store_uri=_set_setting("OCR_PIPELINE_REVIEW_STORE_URI", DEFAULT_REVIEW_STORE_URI),
        review_endpoint_url=_set_setting("OCR_PIPELINE_REVIEW_ENDPOINT_URL", None),
    )


def local_resources(landing: Path, data: Path, *, engine: str = DEFAULT_CPU_ENGINE) -> dict[str, Any]:
    """Resources for a run on local folders (``ocr-pipeline demo`` and ``extract``): PDFs under ``landing``, work
    files, Parquet and the review store under ``data``, DynamoDB off."""
    return pipeline_resources(
        landing_uri=str(landing),
        work_uri=str(data / "work"),
        output_uri=str(data / "output"),
        engine=engine,
        review_store_uri=f"sqlite:///{data / 'review.db'}",
    )


def default_executor() -> dg.ExecutorDefinition:
    """``OCR_PIPELINE_EXECUTOR``: ``in_process`` (default: one process per run, no start-up per step),
    ``multiprocess``, or ``ecs`` (each step its own ECS task; see ``ocr_pipeline.deploy.ecs``)."""
    name = os.environ.get("OCR_PIPELINE_EXECUTOR", "in_process")
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "ecs":
        from ocr_pipeline.deploy.ecs import ecs_step_executor

        return ecs_step_executor()
    raise ValueError(f"OCR_PIPELINE_EXECUTOR={name!r}: use in_process, multiprocess or ecs")


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=default_resources(), executor=default_executor())
