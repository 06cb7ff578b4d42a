"""Executor selection, the GPU step's tags from configuration, the launchType and assignPublicIp rules, and the
run launcher's revision resolution, against moto's ECS."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from ocr_pipeline.defs.resources import default_executor
from ocr_pipeline.deploy.ecs import LatestRevisionEcsRunLauncher, gpu_step_tags, prefer_capacity_provider
from ocr_pipeline_tests.ecs_harness.deployment import deploy

pytestmark = pytest.mark.slow


def test_executor_is_in_process_locally_and_ecs_in_production(monkeypatch):
    monkeypatch.delenv("OCR_PIPELINE_EXECUTOR", raising=False)
    assert default_executor().name == "in_process"
    monkeypatch.setenv("OCR_PIPELINE_EXECUTOR", "ecs")
    assert default_executor().name == "ecs"


def test_gpu_step_tags_come_from_the_environment(monkeypatch):
    assert json.loads(gpu_step_tags()["ecs/run_task_kwargs"]) == {
        "taskDefinition": "ocr-pipeline-gpu",
        "capacityProviderStrategy": [{"capacityProvider": "ocr-pipeline-g4dn", "weight": 1}],
    }
    for name, value in {
        "OCR_PIPELINE_GPU_TASK_DEFINITION": "gpu:7",
        "OCR_PIPELINE_GPU_CAPACITY_PROVIDER": "g5",
        "OCR_PIPELINE_GPU_CPU": "8192",
        "OCR_PIPELINE_GPU_MEMORY": "30000",
        "OCR_PIPELINE_GPU_COUNT": "2",
    }.items():
        monkeypatch.setenv(name, value)
    tags = gpu_step_tags()
    assert json.loads(tags["ecs/run_task_kwargs"])["taskDefinition"] == "gpu:7"
    assert json.loads(tags["ecs/run_task_kwargs"])["capacityProviderStrategy"][0]["capacityProvider"] == "g5"
    assert (tags["ecs/cpu"], tags["ecs/memory"]) == ("8192", "30000")
    assert json.loads(tags["ecs/container_overrides"]) == {"resourceRequirements": [{"type": "GPU", "value": "2"}]}


def test_capacity_provider_strategy_replaces_inherited_launch_type(cloud):
    """What the executor would send for the GPU step (launchType inherited) is refused; the hook fixes it."""
    deployment = deploy(cloud.endpoint, cloud.bucket, cloud.table)
    kwargs = {
        "cluster": deployment.cluster,
        "taskDefinition": "ocr-pipeline-gpu",
        "launchType": "FARGATE",
        "networkConfiguration": deployment.network(),
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
    }
    ecs = boto3.client("ecs", endpoint_url=cloud.endpoint, region_name="us-east-1")
    with pytest.raises(ClientError, match="either Launch Type or Capacity Provider Strategy"):
        ecs.run_task(**kwargs)
    ecs.meta.events.register("provide-client-params.ecs.RunTask", prefer_capacity_provider)
    task = ecs.run_task(**kwargs)["tasks"][0]
    assert task["capacityProviderName"] == "FARGATE" and not task["launchType"]


def test_gpu_step_on_ec2_gets_no_public_ip_and_the_shared_configuration_is_untouched():
    """assignPublicIp is Fargate-only: the GPU step's run_task drops the value inherited from the run worker
    (a copy: the executor passes the same nested dict to every step), Fargate steps keep it."""
    inherited = {
        "awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED"}
    }
    gpu = {
        "launchType": "FARGATE",
        "networkConfiguration": inherited,
        "capacityProviderStrategy": [{"capacityProvider": "ocr-pipeline-g4dn", "weight": 1}],
    }
    prefer_capacity_provider(gpu)
    assert "launchType" not in gpu
    assert gpu["networkConfiguration"] == {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
    assert inherited["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"
    for strategy in (
        [{"capacityProvider": "FARGATE", "weight": 1}],
        [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
    ):
        fargate = {"launchType": "FARGATE", "networkConfiguration": inherited, "capacityProviderStrategy": strategy}
        prefer_capacity_provider(fargate)
        assert fargate["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"
    cpu_step = {"launchType": "FARGATE", "networkConfiguration": inherited}  # no strategy: nothing changes
    prefer_capacity_provider(cpu_step)
    assert cpu_step == {"launchType": "FARGATE", "networkConfiguration": inherited}


def test_launcher_keeps_a_family_and_pins_a_revision(cloud, monkeypatch):
    """The family stays a family (ECS resolves the newest ACTIVE revision at each run_task); an explicit revision
    stays pinned; the container name is still checked when the launcher starts."""
    deployment = deploy(cloud.endpoint, cloud.bucket, cloud.table)
    monkeypatch.setenv("AWS_ENDPOINT_URL", cloud.endpoint)
    monkeypatch.setenv("DAGSTER_RUN_TASK_DEFINITION", "ocr-pipeline-run-worker")
    assert (
        LatestRevisionEcsRunLauncher(task_definition={"env": "DAGSTER_RUN_TASK_DEFINITION"}).task_definition
        == "ocr-pipeline-run-worker"
    )
    pinned = deployment.releases[0]["ocr-pipeline-run-worker"]
    assert LatestRevisionEcsRunLauncher(task_definition=pinned).task_definition == pinned
    assert LatestRevisionEcsRunLauncher(task_definition="ocr-pipeline-run-worker:1").task_definition.endswith(
        "task-definition/ocr-pipeline-run-worker:1"
    )
    with pytest.raises(Exception, match="container 'other'"):
        LatestRevisionEcsRunLauncher(task_definition="ocr-pipeline-run-worker", container_name="other")
