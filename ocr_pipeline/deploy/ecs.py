"""The ECS run launcher and executor, and the per-step ECS tags, from ``OCR_PIPELINE_*`` environment variables.

With ``OCR_PIPELINE_EXECUTOR=ecs`` every step runs in its own ECS task. CPU steps reuse the run
worker's task definition and capacity provider with ``OCR_PIPELINE_STEP_CPU``/``_MEMORY``; the OCR
step's tags switch it to the GPU task definition on the EC2 (g4dn) capacity provider and ask for
a GPU in the container overrides.

What this module changes in dagster-aws (0.29), and why:

* **Revisions** (:class:`LatestRevisionEcsRunLauncher`): ``EcsRunLauncher`` turns a task definition
  family into the ARN of its revision *when the launcher is built* (once per daemon process), so
  every run launched afterwards uses that revision: a release that registers a new revision is
  ignored until the daemon restarts, and deregistering that revision stops all launches. This
  launcher keeps the family, which ECS resolves to the latest ACTIVE revision at each ``run_task``.
  The run worker's definition names the GPU revision registered with it
  (``OCR_PIPELINE_GPU_TASK_DEFINITION=ocr-pipeline-gpu:<n>``), so a run's CPU and GPU images
  always come from the same release.
* **launchType** (:func:`prefer_capacity_provider`): ``run_task`` refuses ``launchType`` together
  with ``capacityProviderStrategy``. The executor inherits ``launchType`` (``FARGATE``) from the
  run worker's own task and merges a step's ``ecs/run_task_kwargs`` over it without removing keys
  (dagster-aws's run launcher drops it; its executor does not).
* **assignPublicIp** (same hook): the executor also copies the run worker's ``networkConfiguration``,
  ``assignPublicIp`` included; ECS accepts that key only for Fargate, so a task on an EC2 capacity
  provider gets the network configuration without it.
* **Start timeout** (:class:`StartTimeoutEcsStepHandler`): dagster-aws's step handler only notices
  a task once it is ``STOPPED``; a GPU task that no instance can take waits in ``PROVISIONING``
  forever. A task still starting after ``OCR_PIPELINE_STEP_START_TIMEOUT_S`` is stopped and its
  step fails with the capacity provider and task named.
"""

import copy
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster import _check as check
from dagster._core.definitions.executor_definition import multiple_process_executor_requirements
from dagster._core.events import DagsterEvent
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.step_dependency_config import StepDependencyConfig
from dagster._core.executor.init import InitExecutorContext
from dagster._core.executor.step_delegating import CheckStepHealthResult, StepDelegatingExecutor, StepHandlerContext
from dagster_aws.ecs import EcsRunLauncher, ecs_executor
from dagster_aws.ecs.executor import EcsStepHandler

GPU_TASK_DEFINITION = "ocr-pipeline-gpu"
GPU_CAPACITY_PROVIDER = "ocr-pipeline-g4dn"
GPU_TASK_CPU = "4096"
"""A g4dn.xlarge: 4 vCPUs, 16 GiB (about 15.3 GiB left for tasks), one T4."""
GPU_TASK_MEMORY = "15360"
STEP_CPU = "1024"
STEP_MEMORY = "4096"
STEP_START_TIMEOUT_S = "1800"
"""A g4dn scaled from zero: instance launch and ECS registration, then the GPU image pull and the
weights sync (docs/cost.md estimates 6-10 minutes); twice that before a step is given up."""
STEP_HEALTH_CHECK_INTERVAL_S = "20"
"""Dagster's own default for the step delegating executor."""
FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
STARTING_STATUSES = frozenset({"PROVISIONING", "PENDING", "ACTIVATING"})
"""ECS task states before ``RUNNING``: waiting for capacity, pulling the image, attaching the ENI."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def gpu_step_tags() -> dict[str, str]:
    """Op tags for the GPU step, read by the ECS executor (ignored by the local executors)."""
    run_task_kwargs = {
        "taskDefinition": _env("OCR_PIPELINE_GPU_TASK_DEFINITION", GPU_TASK_DEFINITION),
        "capacityProviderStrategy": [
            {"capacityProvider": _env("OCR_PIPELINE_GPU_CAPACITY_PROVIDER", GPU_CAPACITY_PROVIDER), "weight": 1}
        ],
    }
    gpus = _env("OCR_PIPELINE_GPU_COUNT", "1")
    return {
        "ecs/cpu": _env("OCR_PIPELINE_GPU_CPU", GPU_TASK_CPU),
        "ecs/memory": _env("OCR_PIPELINE_GPU_MEMORY", GPU_TASK_MEMORY),
        "ecs/container_overrides": json.dumps({"resourceRequirements": [{"type": "GPU", "value": gpus}]}),
        "ecs/run_task_kwargs": json.dumps(run_task_kwargs),
    }


def prefer_capacity_provider(params: dict[str, Any], **_: Any) -> None:
    """botocore ``provide-client-params`` hook for ``RunTask``: fit the inherited keys to the strategy.

    A capacity provider strategy replaces ``launchType``; on an EC2 capacity provider the network
    configuration loses ``assignPublicIp`` (Fargate only). The nested configuration is copied, not
    edited: the executor shares it between every step's call.
    """
    strategy = params.get("capacityProviderStrategy")
    if not strategy:
        return
    params.pop("launchType", None)
    on_ec2 = any(item.get("capacityProvider") not in FARGATE_PROVIDERS for item in strategy)
    awsvpc = (params.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    if on_ec2 and "assignPublicIp" in awsvpc:
        network = copy.deepcopy(params["networkConfiguration"])
        del network["awsvpcConfiguration"]["assignPublicIp"]
        params["networkConfiguration"] = network


class LatestRevisionEcsRunLauncher(EcsRunLauncher):
    """``EcsRunLauncher`` that launches the latest ACTIVE revision of its task definition family at every run.

    Configured with a family (``ocr-pipeline-run-worker``), the parent checks the container name
    once and then pins the revision it found; this launcher checks the same and keeps the family.
    A name with a revision (``ocr-pipeline-run-worker:12``) or a full ARN with one stays pinned.
    """

    def __init__(self, inst_data: Any = None, task_definition: Any = None, **kwargs: Any) -> None:
        super().__init__(inst_data=inst_data, task_definition=task_definition, **kwargs)
        configured = task_definition
        if isinstance(task_definition, dict) and "env" in task_definition:
            configured = os.getenv(task_definition["env"])
        if isinstance(configured, str) and ":" not in configured.rsplit("/", 1)[-1]:
            self.task_definition = configured


def step_start_timeout_s() -> float:
    return float(_env("OCR_PIPELINE_STEP_START_TIMEOUT_S", STEP_START_TIMEOUT_S))


class StartTimeoutEcsStepHandler(EcsStepHandler):
    """dagster-aws's ECS step handler, with :func:`prefer_capacity_provider` and a start timeout.

    A step whose task is still ``PROVISIONING``/``PENDING``/``ACTIVATING`` ``start_timeout_s``
    after it was launched (no instance of its capacity provider could take it, or the image pull
    hangs) has its task stopped and fails its health check with the capacity provider, cluster
    and task named. The step's retry policy then applies as for any failure.
    """

    def __init__(self, *args: Any, start_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ecs.meta.events.register("provide-client-params.ecs.RunTask", prefer_capacity_provider)
        self._start_timeout_s = start_timeout_s
        self._start_deadlines: dict[str, float] = {}

    def launch_step(self, step_handler_context: StepHandlerContext) -> Iterator[DagsterEvent]:
        yield from super().launch_step(step_handler_context)
        self._start_deadlines[self._get_step_id(step_handler_context)] = time.monotonic() + self._start_timeout_s

    def check_step_health(self, step_handler_context: StepHandlerContext) -> CheckStepHealthResult:
        step_id = self._get_step_id(step_handler_context)
        deadline = self._start_deadlines.get(step_id)
        arn = self._launched_tasks.get(step_id)
        if deadline is not None and arn and time.monotonic() > deadline:
            tasks = self.ecs.describe_tasks(tasks=[arn], cluster=self._cluster_arn).get("tasks") or []
            status = tasks[0].get("lastStatus") if tasks else None
            if status in STARTING_STATUSES:
                return self._give_up(step_handler_context, tasks[0])
            if status is not None:
                del self._start_deadlines[step_id]  # it started (or stopped): the parent's checks apply
        return super().check_step_health(step_handler_context)

    def _give_up(self, step_handler_context: StepHandlerContext, task: dict[str, Any]) -> CheckStepHealthResult:
        step_key = self._get_step_key(step_handler_context)
        placement = (
            f"capacity provider {task['capacityProviderName']}"
            if task.get("capacityProviderName")
            else f"launch type {task.get('launchType') or 'unknown'}"
        )
        reason = (
            f"ECS task {task['taskArn']} (task definition {task.get('taskDefinitionArn')}) for step "
            f"{step_key} was still {task.get('lastStatus')} {self._start_timeout_s:g} s after launch on "
            f"{placement} in cluster {self._cluster_arn}: no instance could take it or its image did not "
            "start (for a GPU step: is the Auto Scaling group at its maximum, or unable to launch in its "
            "subnets?). The task was stopped. OCR_PIPELINE_STEP_START_TIMEOUT_S sets this timeout."
        )
        self.ecs.stop_task(
            cluster=self._cluster_arn,
            task=task["taskArn"],
            reason=f"Not started within {self._start_timeout_s:g} s (OCR_PIPELINE_STEP_START_TIMEOUT_S)",
        )
        del self._start_deadlines[self._get_step_id(step_handler_context)]
        return CheckStepHealthResult.unhealthy(reason=reason)


@dg.executor(
    name="ecs",
    config_schema=ecs_executor.config_schema.as_field(),
    requirements=multiple_process_executor_requirements(),
)
def capacity_provider_ecs_executor(init_context: InitExecutorContext) -> StepDelegatingExecutor:
    """dagster-aws's ``ecs_executor`` (same configuration) with :class:`StartTimeoutEcsStepHandler`."""
    run_launcher = init_context.instance.run_launcher
    check.invariant(
        isinstance(run_launcher, EcsRunLauncher),
        "The ECS executor needs runs launched in ECS tasks by an EcsRunLauncher (docker/dagster.yaml).",
    )
    config = init_context.executor_config
    handler = StartTimeoutEcsStepHandler(
        run_launcher=run_launcher,
        run_task_kwargs=config.get("run_task_kwargs"),
        cpu=config.get("cpu"),
        memory=config.get("memory"),
        ephemeral_storage=config.get("ephemeral_storage"),
        task_overrides=config.get("task_overrides"),
        start_timeout_s=step_start_timeout_s(),
    )
    return StepDelegatingExecutor(
        handler,
        retries=RetryMode.from_config(config["retries"]),  # type: ignore[arg-type]
        max_concurrent=check.opt_int_elem(config, "max_concurrent"),
        tag_concurrency_limits=check.opt_list_elem(config, "tag_concurrency_limits"),
        should_verify_step=True,
        step_dependency_config=StepDependencyConfig.from_config(config.get("step_dependency_config")),  # type: ignore[arg-type]
        check_step_health_interval_seconds=int(
            _env("OCR_PIPELINE_STEP_HEALTH_CHECK_INTERVAL_S", STEP_HEALTH_CHECK_INTERVAL_S)
        ),
    )


def ecs_step_executor() -> dg.ExecutorDefinition:
    """The ECS executor with small CPU tasks as every step's default (the GPU step's tags override them)."""
    return capacity_provider_ecs_executor.configured(
        {
            "cpu": int(_env("OCR_PIPELINE_STEP_CPU", STEP_CPU)),
            "memory": int(_env("OCR_PIPELINE_STEP_MEMORY", STEP_MEMORY)),
        },
        name="ecs",
    )
