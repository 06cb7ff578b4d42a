"""An ECS agent for a moto server: each task the cluster starts runs as a local subprocess.

What it emulates, and how:

* Placement and start: it polls ``list_tasks`` / ``describe_tasks`` (moto creates tasks in
  ``RUNNING`` at ``run_task``), and for a new task runs the essential container's command
  (``containerOverrides.command`` or the definition's) as a subprocess. The image and its
  ``ENTRYPOINT`` are not run: the command runs with this machine's Python.
* Environment, as ECS builds it: the definition's ``environment``, its ``secrets`` resolved from
  Secrets Manager (moto), the override's ``environment``, ``ECS_CONTAINER_METADATA_URI_V4`` (served
  by :class:`TaskMetadataServer`), then ``host_env`` last: credentials, ``AWS_ENDPOINT_URL`` and
  local paths that stand in for the image's (``DAGSTER_HOME``).
* Stop: when the process exits, ``stop_task`` (moto frees the container instance's resources) and
  the container's ``exitCode`` is written into moto's ECS backend, in this process (moto has no
  API for the agent's state reports). ``stop_task`` from a client kills the process.
* Task states: moto advances a task's status on every ``describe_tasks``; the agent pins it
  (moto's state-manager API) so that only the agent moves a task to ``STOPPED``.
* GPU hosts: :meth:`EcsAgent.add_gpu_host` does what managed scaling does for a task waiting on
  the g4dn capacity provider: it raises the Auto Scaling group's desired capacity (moto launches
  the instance) and registers that instance as a container instance sized like a g4dn.xlarge, so
  moto can place tasks that name the capacity provider. No GPU is attached.
* No capacity: tasks whose capacity provider (or launch type) is in ``unplaceable`` are left in
  ``PROVISIONING`` and never started, as ECS leaves a task no instance can take; ``stop_task`` then
  stops them.
* Refusals: ECS refuses, at ``run_task``, a capacity provider the cluster does not have and
  ``assignPublicIp`` outside Fargate; moto accepts both, so the agent stops such a task at once with
  ECS's reason (the step then fails, as it would on AWS).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecs.models import ecs_backends

from ocr_pipeline_tests.ecs_harness.metadata import TaskMetadataServer

REGION = "us-east-1"
FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
G4DN_XLARGE = {"CPU": 4096, "MEMORY": 15731}
"""What the ECS agent registers for a g4dn.xlarge (4 vCPUs, 16 GiB less the agent's reserve)."""


@dataclass
class TaskRun:
    """A task the agent started: its process, and the container's log file."""

    task: dict[str, Any]
    process: subprocess.Popen
    log: Path
    exit_code: int | None = None


@dataclass
class EcsAgent:
    """Runs the tasks of one cluster on a moto server as local subprocesses (see the module docstring)."""

    endpoint: str
    cluster: str
    host_env: dict[str, str]
    log_dir: Path
    workdir: Path
    unplaceable: frozenset[str] = frozenset()
    """Capacity providers (or launch types) that place nothing: their tasks stay ``PROVISIONING``."""
    runs: dict[str, TaskRun] = field(default_factory=dict)
    held: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Tasks left in ``PROVISIONING`` (``unplaceable``) or refused, by ARN."""
    _ignored: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.ecs = boto3.client("ecs", endpoint_url=self.endpoint, region_name=REGION)
        self.metadata = TaskMetadataServer()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> EcsAgent:
        self._pin_task_states(True)
        self.metadata.__enter__()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for run in self.runs.values():
            if run.process.poll() is None:
                run.process.kill()
                run.process.wait()
        self.metadata.__exit__()
        self._pin_task_states(False)

    def wait_until_idle(self, timeout_s: float) -> None:
        """Wait for every started task's process to exit and be reported (e.g. a run worker after its run)."""
        deadline = time.monotonic() + timeout_s
        while any(run.exit_code is None for run in list(self.runs.values())):
            if time.monotonic() > deadline:
                raise TimeoutError(f"ECS tasks still running after {timeout_s} s")
            time.sleep(0.1)

    def adopt_current_process(self, **run_task_kwargs: Any) -> str:
        """Start a task this process plays (e.g. the daemon's); returns its metadata URI."""
        task = self.ecs.run_task(cluster=self.cluster, **run_task_kwargs)["tasks"][0]
        self._ignored.add(task["taskArn"])
        return self.metadata.register(task, task["containers"][0]["name"])

    def add_gpu_host(self, auto_scaling_group: str) -> str:
        """Scale the GPU group out by one (moto launches a g4dn.xlarge) and register that instance; its id."""
        autoscaling = boto3.client("autoscaling", endpoint_url=self.endpoint, region_name=REGION)
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[auto_scaling_group])[
            "AutoScalingGroups"
        ][0]
        before = {i["InstanceId"] for i in group["Instances"]}
        autoscaling.set_desired_capacity(
            AutoScalingGroupName=auto_scaling_group, DesiredCapacity=group["DesiredCapacity"] + 1
        )
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[auto_scaling_group])[
            "AutoScalingGroups"
        ][0]
        (instance_id,) = {i["InstanceId"] for i in group["Instances"]} - before
        document = json.dumps({"instanceId": instance_id, "instanceType": "g4dn.xlarge", "region": REGION})
        arn = self.ecs.register_container_instance(cluster=self.cluster, instanceIdentityDocument=document)[
            "containerInstance"
        ]["containerInstanceArn"]
        instance = self._backend().container_instances[self.cluster][arn.rsplit("/", 1)[-1]]
        for resources in (instance.registered_resources, instance.remaining_resources):
            for resource in resources:
                resource["integerValue"] = G4DN_XLARGE.get(resource["name"], resource["integerValue"])
        return instance_id

    def _backend(self):
        return ecs_backends[DEFAULT_ACCOUNT_ID][REGION]

    def _pin_task_states(self, pinned: bool) -> None:
        action = "set-transition" if pinned else "unset-transition"
        body: dict[str, Any] = {"model_name": "ecs::task"}
        if pinned:
            body["transition"] = {"progression": "manual", "times": 10**9}
        requests.post(f"{self.endpoint}/moto-api/state-manager/{action}", json=body, timeout=10).raise_for_status()

    def _loop(self) -> None:
        while not self._stop.is_set():
            arns = set(self.ecs.list_tasks(cluster=self.cluster)["taskArns"]) - self._ignored
            new = sorted(arns - self.runs.keys() - self.held.keys())
            if new:
                for task in self.ecs.describe_tasks(cluster=self.cluster, tasks=new, include=["TAGS"])["tasks"]:
                    if (refusal := self._refusal(task)) is not None:
                        self.held[task["taskArn"]] = task
                        self.ecs.stop_task(cluster=self.cluster, task=task["taskArn"], reason=refusal)
                        container = self._backend().tasks[self.cluster][task["taskArn"]].containers[0]
                        container.last_status, container.exitCode = "STOPPED", None  # it never ran
                    elif (task.get("capacityProviderName") or task.get("launchType")) in self.unplaceable:
                        self.held[task["taskArn"]] = task
                        self._backend().tasks[self.cluster][task["taskArn"]].last_status = "PROVISIONING"
                    else:
                        self.runs[task["taskArn"]] = self._start(task)
            self._reap()
            time.sleep(0.1)

    def _refusal(self, task: dict[str, Any]) -> str | None:
        """What ECS would have refused ``run_task`` with, for a task on an EC2 capacity provider."""
        provider = task.get("capacityProviderName")
        if not provider or provider in FARGATE_PROVIDERS:
            return None
        cluster = self.ecs.describe_clusters(clusters=[self.cluster])["clusters"][0]
        if provider not in cluster.get("capacityProviders", []):
            return (
                f"InvalidParameterException: The specified capacity provider {provider} is not in an ACTIVE "
                f"state or is not associated with the cluster {self.cluster}"
            )
        network = self._backend().tasks[self.cluster][task["taskArn"]].network_configuration
        if "assignPublicIp" in network.get("awsvpcConfiguration", {}):
            return "InvalidParameterException: Assign public IP is not supported for this launch type."
        return None

    def _start(self, task: dict[str, Any]) -> TaskRun:
        definition = self.ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
        container = next(c for c in definition["containerDefinitions"] if c.get("essential", True))
        override = next(
            (o for o in task.get("overrides", {}).get("containerOverrides", []) if o["name"] == container["name"]), {}
        )
        env = {e["name"]: e["value"] for e in container.get("environment", [])}
        env.update(self._secrets(container.get("secrets", [])))
        env.update({e["name"]: e["value"] for e in override.get("environment", [])})
        env["ECS_CONTAINER_METADATA_URI_V4"] = self.metadata.register(task, container["name"])
        env.update(self.host_env)
        log = self.log_dir / f"{definition['family']}-{task['taskArn'].rsplit('/', 1)[-1]}.log"
        command = list(override.get("command") or container["command"])
        beside = Path(sys.executable).parent / command[0]  # the image's ``dagster``: this interpreter's own
        if "/" not in command[0] and beside.exists():
            command[0] = str(beside)
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT)
        return TaskRun(task, process, log)

    def _secrets(self, secrets: list[dict[str, str]]) -> dict[str, str]:
        if not secrets:
            return {}
        client = boto3.client("secretsmanager", endpoint_url=self.endpoint, region_name=REGION)
        return {s["name"]: client.get_secret_value(SecretId=s["valueFrom"])["SecretString"] for s in secrets}

    def _reap(self) -> None:
        for arn, run in self.runs.items():
            if run.exit_code is not None:
                continue
            if run.process.poll() is None and self._backend().tasks[self.cluster][arn].desired_status == "STOPPED":
                run.process.kill()
            if (code := run.process.poll()) is not None:
                run.exit_code = code
                self._report_stopped(arn, code)

    def _report_stopped(self, arn: str, exit_code: int) -> None:
        task = self._backend().tasks[self.cluster][arn]
        if task.desired_status != "STOPPED":
            self.ecs.stop_task(cluster=self.cluster, task=arn, reason="Essential container in task exited")
        task.containers[0].last_status = "STOPPED"
        task.containers[0].exitCode = exit_code
