"""Executor selection, the GPU step's tags from configuration, and the launchType rule against moto's ECS."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from ocr_pipeline.defs.resources import default_executor
from ocr_pipeline.deploy.ecs import gpu_step_tags, prefer_capacity_provider
from ocr_pipeline_tests.ecs_harness.deployment import deploy


def test_executor_is_in_process_locally_and_ecs_in_production(monkeypatch):
    monkeypatch.delenv("OCR_PIPELINE_EXECUTOR", raising=False)
    assert default_executor().name == "in_process"
    monkeypatch.setenv("OCR_PIPELINE_EXECUTOR", "ecs")
    assert default_executor().name == "ecs"


def test_gpu_step_tags_come_from_the_environment(monkeypatch):
    assert json.loads(gpu_step_tags()["ecs/run_task_kwargs"]) == {
        "taskDefinition": "ocr-pipeline-gpu",
        "capacityProviderStrategy": [{"capacityProvider": "ocr-pipeline-g4dn", "weight": 1}]}
    for name, value in {"OCR_PIPELINE_GPU_TASK_DEFINITION": "gpu:7", "OCR_PIPELINE_GPU_CAPACITY_PROVIDER": "g5",
                        "OCR_PIPELINE_GPU_CPU": "8192", "OCR_PIPELINE_GPU_MEMORY": "30000",
                        "OCR_PIPELINE_GPU_COUNT": "2"}.items():
        monkeypatch.setenv(name, value)
    tags = gpu_step_tags()
    assert json.loads(tags["ecs/run_task_kwargs"])["taskDefinition"] == "gpu:7"
    assert json.loads(tags["ecs/run_task_kwargs"])["capacityProviderStrategy"][0]["capacityProvider"] == "g5"
    assert (tags["ecs/cpu"], tags["ecs/memory"]) == ("8192", "30000")
    assert json.loads(tags["ecs/container_overrides"]) == {"resourceRequirements": [{"type": "GPU", "value": "2"}]}


def test_capacity_provider_strategy_replaces_inherited_launch_type(cloud):
    """What the executor would send for the GPU step (launchType inherited) is refused; the hook fixes it."""
    deployment = deploy(cloud.endpoint, cloud.bucket, cloud.table)
    kwargs = {"cluster": deployment.cluster, "taskDefinition": "ocr-pipeline-gpu", "launchType": "FARGATE",
              "networkConfiguration": deployment.network(),
              "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]}
    ecs = boto3.client("ecs", endpoint_url=cloud.endpoint, region_name="us-east-1")
    with pytest.raises(ClientError, match="either Launch Type or Capacity Provider Strategy"):
        ecs.run_task(**kwargs)
    ecs.meta.events.register("provide-client-params.ecs.RunTask", prefer_capacity_provider)
    task = ecs.run_task(**kwargs)["tasks"][0]
    assert task["capacityProviderName"] == "FARGATE" and not task["launchType"]
