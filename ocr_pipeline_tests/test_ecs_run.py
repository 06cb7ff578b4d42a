"""One production run on ECS, locally: EcsRunLauncher starts the run worker, the ECS executor one task per step.

moto serves ECS, EC2, Secrets Manager, S3 and DynamoDB; :class:`EcsAgent` runs every task moto starts as a
local process (see its docstring for what is emulated). This process plays the daemon's task.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import boto3
import dagster as dg
import pandas as pd
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

from ocr_pipeline.definitions import defs
from ocr_pipeline.defs.jobs import CATALOG_ASSETS
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.storage.dynamo import DynamoCourseSink
from ocr_pipeline_tests.ecs_harness.agent import EcsAgent
from ocr_pipeline_tests.ecs_harness.deployment import deploy, production_instance
from ocr_pipeline_tests.synthetic.generator import generate_catalog

REPO = Path(__file__).resolve().parents[1]
PARTITION = "Example University/catalog 2026.pdf"
RUN_TIMEOUT_S = 120


def family(task: dict) -> str:
    return task["taskDefinitionArn"].rsplit("/", 1)[-1].split(":")[0]


def step_key(task: dict) -> str | None:
    return next((t["value"] for t in task.get("tags", []) if t["key"] == "dagster/step-key"), None)


def wait_for_run(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run.is_finished:
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish in {RUN_TIMEOUT_S} s")


@pytest.fixture
def ecs_run(cloud, tmp_path, monkeypatch):
    """Deploy, start the agent, launch one run for a born-digital catalog and wait for it."""
    catalog = generate_catalog("units_parenthetical", n_courses=6)
    cloud.upload(PARTITION, catalog.pdf)
    DynamoCourseSink(cloud.table, endpoint_url=cloud.endpoint, region="us-east-1").ensure_table()
    deployment = deploy(cloud.endpoint, cloud.bucket, cloud.table)
    home = tmp_path / "dagster_home"
    host_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ENDPOINT_URL": cloud.endpoint, "DAGSTER_HOME": str(home)}
    (tmp_path / "logs").mkdir()
    with EcsAgent(cloud.endpoint, deployment.cluster, host_env, tmp_path / "logs", REPO) as agent:
        agent.add_gpu_host(deployment.subnet)
        daemon_uri = agent.adopt_current_process(taskDefinition="ocr-pipeline-daemon", launchType="FARGATE",
                                                 networkConfiguration=deployment.network())
        for name, value in {**host_env, "ECS_CONTAINER_METADATA_URI_V4": daemon_uri, "OCR_PIPELINE_EXECUTOR": "ecs",
                            "DAGSTER_RUN_TASK_DEFINITION": "ocr-pipeline-run-worker",
                            "DAGSTER_COMPUTE_LOGS_BUCKET": cloud.bucket}.items():
            if name not in ("PATH", "HOME"):
                monkeypatch.setenv(name, value)
        instance = production_instance(home)
        instance.add_dynamic_partitions(catalog_documents.name, [PARTITION])
        origin = LoadableTargetOrigin(executable_path=sys.executable, module_name="ocr_pipeline.definitions",
                                      working_directory=str(REPO))
        target = InProcessWorkspaceLoadTarget(InProcessCodeLocationOrigin(origin, location_name="ocr_pipeline"))
        with WorkspaceProcessContext(instance, target) as process_context:
            workspace = process_context.create_request_context()
            location = workspace.get_code_location("ocr_pipeline")
            remote_job = location.get_repository("__repository__").get_full_job("process_catalog_document")
            run = instance.create_run_for_job(
                job_def=defs().resolve_job_def("process_catalog_document"), remote_job_origin=remote_job.get_remote_origin(),
                job_code_origin=remote_job.get_python_origin(), tags={"dagster/partition": PARTITION},
            )
            instance.launch_run(run.run_id, workspace)
            finished = wait_for_run(instance, run.run_id)
        agent.wait_until_idle(timeout_s=30)
        tasks = [r.task for r in agent.runs.values()]
        logs = {family(r.task) + ":" + (step_key(r.task) or "run"): r.log.read_text() for r in agent.runs.values()}
    yield catalog, cloud, deployment, instance, finished, tasks, logs
    instance.dispose()


def test_one_run_executes_every_step_in_its_own_ecs_task(ecs_run):
    catalog, cloud, deployment, instance, run, tasks, logs = ecs_run
    assert run.status == dg.DagsterRunStatus.SUCCESS, "\n\n".join(f"== {k}\n{v[-3000:]}" for k, v in logs.items())
    ecs = boto3.client("ecs", endpoint_url=cloud.endpoint, region_name="us-east-1")
    described = ecs.describe_tasks(cluster=deployment.cluster, tasks=[t["taskArn"] for t in tasks], include=["TAGS"])["tasks"]
    assert all(t["lastStatus"] == "STOPPED" and t["containers"][0]["exitCode"] == 0 for t in described)
    run_workers = [t for t in described if not step_key(t)]
    assert [family(t) for t in run_workers] == ["ocr-pipeline-run-worker"]
    steps = {step_key(t): t for t in described if step_key(t)}
    succeeded = {r.event_log_entry.step_key for r in instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS).records}
    assert set(steps) == succeeded and set(CATALOG_ASSETS) <= succeeded  # one task per step, every step ran
    assert len(described) == len(steps) + 1

    for key, task in steps.items():
        container = task["overrides"]["containerOverrides"]
        assert [c["name"] for c in container] == ["run"]
        assert container[0]["command"][-2:] == ["api", "execute_step"]
        assert [e["name"] for e in container[0]["environment"]] == ["DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS"]
        assert {"key": "dagster/run_id", "value": run.run_id} in task["tags"]
        assert task["attachments"][0]["details"][0] == {"name": "subnetId", "value": deployment.subnet}
        if key == "ocr_pages":  # GPU task definition on the g4dn capacity provider (no launchType), one GPU
            assert family(task) == "ocr-pipeline-gpu" and task["capacityProviderName"] == "ocr-pipeline-g4dn"
            assert not task["launchType"] and task["containerInstanceArn"]
            assert container[0]["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
            assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == ("4096", "15360")
        else:  # the run worker's definition on Fargate, small
            assert family(task) == "ocr-pipeline-run-worker" and task["launchType"] == "FARGATE"
            assert "resourceRequirements" not in container[0]
            assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == ("1024", "4096")

    objects = cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix="output/courses/")["Contents"]
    courses = pd.concat(pd.read_parquet(io.BytesIO(cloud.s3.get_object(Bucket=cloud.bucket, Key=o["Key"])["Body"].read()))
                        for o in objects if o["Key"].endswith(".parquet"))
    assert set(courses["course_code"]) == {c.course_code for c in catalog.truth}
    assert sorted(i["course_code"] for i in cloud.dynamo_items(courses["source_id"].iloc[0])) == sorted(courses["course_code"])
    compute_logs = cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix="compute-logs/").get("KeyCount", 0)
    assert compute_logs > 0  # S3ComputeLogManager from docker/dagster.yaml wrote the steps' stdout/stderr
