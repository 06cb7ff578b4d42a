"""Production runs on ECS, locally: the run launcher starts the run worker, the ECS executor one task per step.

moto serves ECS, EC2, Auto Scaling, KMS, Secrets Manager, S3, DynamoDB and CloudWatch Logs; :class:`EcsAgent`
runs every task moto starts as a local process (see its docstring for what is emulated). This process plays
the daemon's task. The deployment (tables, GPU fleet, task definitions) is the guide's (``ecs_harness``).
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import dagster as dg
import pandas as pd
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecs.models import ecs_backends

from ocr_pipeline.definitions import defs
from ocr_pipeline.defs.jobs import CATALOG_ASSETS
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.samples import generate_catalog
from ocr_pipeline_tests.ecs_harness.agent import REGION, EcsAgent
from ocr_pipeline_tests.ecs_harness.deployment import GPU_FLEET, Deployment, deploy, production_instance

pytestmark = [pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[1]
PARTITION = "Example University/catalog 2026.pdf"
RUN_TIMEOUT_S = 120
RUN_WORKER = "ocr-pipeline-run-worker"
GPU = "ocr-pipeline-gpu"


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


@dataclass
class Harness:
    """A deployment on moto, the agent running its cluster, and this process as the daemon."""

    deployment: Deployment
    agent: EcsAgent
    instance: dg.DagsterInstance
    workspace: object
    remote_job: object
    workdir: Path

    def launch(self, partition: str) -> dg.DagsterRun:
        """What the daemon does for a run request of ``process_catalog_document``."""
        self.instance.add_dynamic_partitions(catalog_documents.name, [partition])
        run = self.instance.create_run_for_job(
            job_def=defs().resolve_job_def("process_catalog_document"),
            remote_job_origin=self.remote_job.get_remote_origin(),
            job_code_origin=self.remote_job.get_python_origin(),
            tags={"dagster/partition": partition},
        )
        self.instance.launch_run(run.run_id, self.workspace)
        return self.instance.get_run_by_id(run.run_id)

    def logs(self) -> dict[str, str]:
        return {family(r.task) + ":" + (step_key(r.task) or "run"): r.log.read_text() for r in self.agent.runs.values()}


@contextmanager
def harness(
    cloud,
    tmp_path: Path,
    monkeypatch,
    *,
    unplaceable: frozenset[str] = frozenset(),
    env: dict[str, str] | None = None,
    gpu_host: bool = True,
) -> Iterator[Harness]:
    """Deploy; start the agent in an empty working directory (the tasks' ``WORKDIR``); adopt this process."""
    deployment = deploy(cloud.endpoint, cloud.bucket, cloud.table)
    home = tmp_path / "dagster_home"
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    host_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": cloud.endpoint,
        "DAGSTER_HOME": str(home),
        **(env or {}),
    }
    (tmp_path / "logs").mkdir()
    with EcsAgent(
        cloud.endpoint, deployment.cluster, host_env, tmp_path / "logs", workdir, unplaceable=unplaceable
    ) as agent:
        if gpu_host:  # managed scaling's part: the g4dn group from 0 to 1
            agent.add_gpu_host(deployment.auto_scaling_group)
        daemon_uri = agent.adopt_current_process(
            taskDefinition="ocr-pipeline-daemon", launchType="FARGATE", networkConfiguration=deployment.network()
        )
        for name, value in {
            **host_env,
            "ECS_CONTAINER_METADATA_URI_V4": daemon_uri,
            "OCR_PIPELINE_EXECUTOR": "ecs",
            "DAGSTER_RUN_TASK_DEFINITION": RUN_WORKER,
            "DAGSTER_COMPUTE_LOGS_BUCKET": cloud.bucket,
        }.items():
            if name not in ("PATH", "HOME"):
                monkeypatch.setenv(name, value)
        instance = production_instance(home)
        origin = LoadableTargetOrigin(
            executable_path=sys.executable, module_name="ocr_pipeline.definitions", working_directory=str(REPO)
        )
        target = InProcessWorkspaceLoadTarget(InProcessCodeLocationOrigin(origin, location_name="ocr_pipeline"))
        try:
            with WorkspaceProcessContext(instance, target) as process_context:
                workspace = process_context.create_request_context()
                location = workspace.get_code_location("ocr_pipeline")
                remote_job = location.get_repository("__repository__").get_full_job("process_catalog_document")
                yield Harness(deployment, agent, instance, workspace, remote_job, workdir)
        finally:
            instance.dispose()


def describe(cloud, deployment: Deployment, arns: list[str]) -> list[dict]:
    ecs = boto3.client("ecs", endpoint_url=cloud.endpoint, region_name=REGION)
    return ecs.describe_tasks(cluster=deployment.cluster, tasks=arns, include=["TAGS"])["tasks"]


@pytest.fixture
def ecs_run(cloud, tmp_path, monkeypatch):
    """Launch one run for a born-digital catalog and wait for it."""
    catalog = generate_catalog("units_parenthetical", n_courses=6)
    cloud.upload(PARTITION, catalog.pdf)
    with harness(cloud, tmp_path, monkeypatch) as h:
        run = h.launch(PARTITION)
        finished = wait_for_run(h.instance, run.run_id)
        h.agent.wait_until_idle(timeout_s=30)
        tasks = [r.task for r in h.agent.runs.values()]
        yield catalog, cloud, h, finished, tasks, h.logs()


def test_one_run_executes_every_step_in_its_own_ecs_task(ecs_run):
    catalog, cloud, h, run, tasks, logs = ecs_run
    deployment, instance = h.deployment, h.instance
    assert run.status == dg.DagsterRunStatus.SUCCESS, "\n\n".join(f"== {k}\n{v[-3000:]}" for k, v in logs.items())
    described = describe(cloud, deployment, [t["taskArn"] for t in tasks])
    assert all(t["lastStatus"] == "STOPPED" and t["containers"][0]["exitCode"] == 0 for t in described)
    run_workers = [t for t in described if not step_key(t)]
    assert [t["taskDefinitionArn"] for t in run_workers] == [deployment.releases[0][RUN_WORKER]]
    steps = {step_key(t): t for t in described if step_key(t)}
    succeeded = {
        r.event_log_entry.step_key
        for r in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS).records
    }
    assert set(steps) == succeeded and set(CATALOG_ASSETS) <= succeeded  # one task per step, every step ran
    assert len(described) == len(steps) + 1

    ecs = boto3.client("ecs", endpoint_url=cloud.endpoint, region_name=REGION)
    cluster = ecs.describe_clusters(clusters=[deployment.cluster])["clusters"][0]
    assert GPU_FLEET in cluster["capacityProviders"]  # attached as the guide attaches it
    group = boto3.client("autoscaling", endpoint_url=cloud.endpoint, region_name=REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[deployment.auto_scaling_group]
    )["AutoScalingGroups"][0]
    backend = ecs_backends[DEFAULT_ACCOUNT_ID][REGION]
    for key, task in steps.items():
        container = task["overrides"]["containerOverrides"]
        assert [c["name"] for c in container] == ["run"]
        assert container[0]["command"][-2:] == ["api", "execute_step"]
        assert [e["name"] for e in container[0]["environment"]] == ["DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS"]
        assert {"key": "dagster/run_id", "value": run.run_id} in task["tags"]
        assert task["attachments"][0]["details"][0] == {"name": "subnetId", "value": deployment.subnet}
        network = backend.tasks[deployment.cluster][task["taskArn"]].network_configuration["awsvpcConfiguration"]
        if key == "ocr_pages":  # the GPU revision of the same release, on the g4dn capacity provider, one GPU
            assert task["taskDefinitionArn"] == deployment.releases[0][GPU]
            assert task["capacityProviderName"] == GPU_FLEET and not task["launchType"]
            (host,) = ecs.describe_container_instances(
                cluster=deployment.cluster, containerInstances=[task["containerInstanceArn"]]
            )["containerInstances"]
            assert host["ec2InstanceId"] in {i["InstanceId"] for i in group["Instances"]}  # an instance of the group
            assert "assignPublicIp" not in network
            assert container[0]["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
            assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == ("4096", "15360")
        else:  # the run worker's own revision, on Fargate, small
            assert task["taskDefinitionArn"] == deployment.releases[0][RUN_WORKER]
            assert task["launchType"] == "FARGATE" and not task.get("capacityProviderName")
            assert network["assignPublicIp"] == "DISABLED"
            assert "resourceRequirements" not in container[0]
            assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == ("1024", "4096")

    objects = cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix="output/courses/")["Contents"]
    courses = pd.concat(
        pd.read_parquet(io.BytesIO(cloud.s3.get_object(Bucket=cloud.bucket, Key=o["Key"])["Body"].read()))
        for o in objects
        if o["Key"].endswith(".parquet")
    )
    assert set(courses["course_code"]) == {c.course_code for c in catalog.truth}
    assert sorted(i["course_code"] for i in cloud.dynamo_items(courses["source_id"].iloc[0])) == sorted(
        courses["course_code"]
    )
    compute_logs = cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix="compute-logs/").get("KeyCount", 0)
    assert compute_logs > 0  # S3ComputeLogManager from docker/dagster.yaml wrote the steps' stdout/stderr
    # Every store is remote (the review store is the guide's DynamoDB table): no task wrote into its WORKDIR.
    assert list(h.workdir.iterdir()) == []


def test_gpu_task_no_instance_takes_fails_its_step_at_the_start_timeout(cloud, tmp_path, monkeypatch):
    """The g4dn group cannot place the GPU task (it stays PROVISIONING): the step fails after
    OCR_PIPELINE_STEP_START_TIMEOUT_S with the capacity provider and the task named, the task is stopped,
    and nothing downstream starts."""
    cloud.upload(PARTITION, generate_catalog("units_parenthetical", n_courses=6).pdf)
    timeouts = {"OCR_PIPELINE_STEP_START_TIMEOUT_S": "2", "OCR_PIPELINE_STEP_HEALTH_CHECK_INTERVAL_S": "1"}
    with harness(cloud, tmp_path, monkeypatch, unplaceable=frozenset({GPU_FLEET}), env=timeouts) as h:
        run = h.launch(PARTITION)
        finished = wait_for_run(h.instance, run.run_id)
        h.agent.wait_until_idle(timeout_s=30)
        started = {step_key(r.task) for r in h.agent.runs.values()}
        (gpu_task,) = [t for t in h.agent.held.values() if step_key(t) == "ocr_pages"]
        failures = h.instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
        logs = h.logs()
    assert finished.status == dg.DagsterRunStatus.FAILURE, "\n\n".join(f"== {k}\n{v[-3000:]}" for k, v in logs.items())
    assert [f.event_log_entry.step_key for f in failures] == ["ocr_pages"]
    message = failures[0].event_log_entry.dagster_event.step_failure_data.error.message
    for part in (
        "PROVISIONING",
        f"capacity provider {GPU_FLEET}",
        gpu_task["taskArn"],
        h.deployment.cluster,
        "OCR_PIPELINE_STEP_START_TIMEOUT_S",
    ):
        assert part in message, (part, message)
    (stopped,) = describe(cloud, h.deployment, [gpu_task["taskArn"]])
    assert stopped["lastStatus"] == "STOPPED" and "OCR_PIPELINE_STEP_START_TIMEOUT_S" in stopped["stoppedReason"]
    assert started == {None, "raw_catalog_pdfs", "rendered_pages"}  # the run worker and the steps before OCR only


def test_a_release_reaches_the_next_run_and_a_rollback_is_a_newer_revision(cloud, tmp_path, monkeypatch):
    """One launcher (one daemon process) across a release and a rollback: each run gets the run worker revision
    registered last, whose environment names the GPU revision of the same release; nothing is deregistered."""
    with harness(cloud, tmp_path, monkeypatch, unplaceable=frozenset({"FARGATE"}), gpu_host=False) as h:
        first = h.launch("Example University/one.pdf")
        h.deployment.release("v2")
        second = h.launch("Example University/two.pdf")
        h.deployment.release("test")  # rollback: the previous images, registered anew
        third = h.launch("Example University/three.pdf")
        launched = [describe(cloud, h.deployment, [run.tags["ecs/task_arn"]])[0] for run in (first, second, third)]
    ecs = boto3.client("ecs", endpoint_url=cloud.endpoint, region_name=REGION)
    assert [t["taskDefinitionArn"] for t in launched] == [r[RUN_WORKER] for r in h.deployment.releases]
    images = []
    for release in h.deployment.releases:
        worker = ecs.describe_task_definition(taskDefinition=release[RUN_WORKER])["taskDefinition"]
        env = {e["name"]: e["value"] for e in worker["containerDefinitions"][0]["environment"]}
        assert env["OCR_PIPELINE_GPU_TASK_DEFINITION"] == release[GPU]
        gpu = ecs.describe_task_definition(taskDefinition=release[GPU])["taskDefinition"]
        images.append((worker["containerDefinitions"][0]["image"], gpu["containerDefinitions"][0]["image"]))
        assert worker["status"] == gpu["status"] == "ACTIVE"
    assert images == [
        ("ocr-pipeline:test", "ocr-pipeline-gpu:test"),
        ("ocr-pipeline:v2", "ocr-pipeline-gpu:v2"),
        ("ocr-pipeline:test", "ocr-pipeline-gpu:test"),
    ]
    revisions = [int(r[RUN_WORKER].rsplit(":", 1)[1]) for r in h.deployment.releases]
    assert revisions == sorted(revisions) and len(set(revisions)) == 3
