"""``docker/``: task definitions accepted by ECS (moto), IAM policies well-formed, the production dagster.yaml valid."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import pytest
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import class_from_code_pointer

from ocr_pipeline_tests.ecs_harness.deployment import DOCKER, deploy, render

POLICIES = sorted((DOCKER / "iam").glob("*.json"))


def test_task_definition_templates_register(cloud):
    deploy(cloud.endpoint, cloud.bucket, cloud.table)
    ecs = boto3.client("ecs", endpoint_url=cloud.endpoint, region_name="us-east-1")
    families = {path.stem: json.loads(path.read_text())["family"] for path in (DOCKER / "ecs").glob("*.json")}
    registered = {name: ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
                  for name, family in families.items()}
    assert set(registered) == {"webserver", "daemon", "code-server", "run-worker", "gpu-worker"}
    gpu, worker = registered["gpu-worker"], registered["run-worker"]
    assert gpu["requiresCompatibilities"] == ["EC2"] and worker["requiresCompatibilities"] == ["FARGATE"]
    assert gpu["containerDefinitions"][0]["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
    # the executor overrides the container by the launcher's container_name, in both definitions
    assert gpu["containerDefinitions"][0]["name"] == worker["containerDefinitions"][0]["name"] == "run"
    assert all(d["networkMode"] == "awsvpc" for d in registered.values())


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_iam_policies_are_well_formed_and_scoped(path: Path):
    values = {name: "x" for name in ("ACCOUNT_ID", "REGION", "DATA_BUCKET", "LOGS_BUCKET", "MODEL_BUCKET",
                                      "DYNAMODB_TABLE", "CLUSTER", "PG_SECRET_ARN")}
    policy = render(path, values)
    assert policy["Version"] == "2012-10-17" and policy["Statement"]
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Action"]
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(":" in a and not a.endswith(":*") and a != "*" for a in actions), actions
        if path.stem != "ecs-tasks-trust":
            assert statement["Resource"]


def test_production_dagster_yaml_is_valid(tmp_path, monkeypatch):
    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_DB", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD",
                 "DAGSTER_RUN_TASK_DEFINITION", "DAGSTER_COMPUTE_LOGS_BUCKET"):
        monkeypatch.setenv(name, "dummy")
    shutil.copy(DOCKER / "dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))  # the instance schema, Postgres storage included
    for section in ("run_launcher", "run_coordinator", "compute_logs"):
        cls = class_from_code_pointer(config[section]["module"], config[section]["class"])
        result = validate_config(cls.config_type(), config[section].get("config", {}))
        assert result.success, (section, result.errors)
    assert config["concurrency"]["pools"]["default_limit"] >= 1 and "run_queue" not in config
