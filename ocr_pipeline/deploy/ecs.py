"""The ECS executor and the per-step ECS tags, from ``OCR_PIPELINE_*`` environment variables.

With ``OCR_PIPELINE_EXECUTOR=ecs`` every step runs in its own ECS task. CPU steps reuse the run
worker's task definition and capacity provider with ``OCR_PIPELINE_STEP_CPU``/``_MEMORY``; the OCR
step's tags switch it to the GPU task definition on the EC2 (g4dn) capacity provider and ask for
a GPU in the container overrides.

The launchType trap: ``run_task`` refuses ``launchType`` together with ``capacityProviderStrategy``.
The executor inherits ``launchType`` (``FARGATE``) from the run worker's own task and merges a step's
``ecs/run_task_kwargs`` over it without removing keys (dagster-aws's run launcher drops it; its
executor does not). ``ecs_step_executor`` adds that one rule to the executor's ECS client.
"""

import json
import os
from typing import Any

import dagster as dg
from dagster._core.definitions.executor_definition import multiple_process_executor_requirements
from dagster._core.executor.init import InitExecutorContext
from dagster._core.executor.step_delegating import StepDelegatingExecutor
from dagster_aws.ecs import ecs_executor

GPU_TASK_DEFINITION = "ocr-pipeline-gpu"
GPU_CAPACITY_PROVIDER = "ocr-pipeline-g4dn"
GPU_TASK_CPU = "4096"
"""A g4dn.xlarge: 4 vCPUs, 16 GiB (about 15.3 GiB left for tasks), one T4."""
GPU_TASK_MEMORY = "15360"
STEP_CPU = "1024"
STEP_MEMORY = "4096"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def gpu_step_tags() -> dict[str, str]:
    """Op tags for the GPU step, read by ``ecs_executor`` (ignored by the local executors)."""
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
    """botocore ``provide-client-params`` hook: a capacity provider strategy replaces ``launchType``."""
    if params.get("capacityProviderStrategy"):
        params.pop("launchType", None)


@dg.executor(name="ecs", config_schema=ecs_executor.config_schema, requirements=multiple_process_executor_requirements())
def capacity_provider_ecs_executor(init_context: InitExecutorContext) -> StepDelegatingExecutor:
    """dagster-aws's ``ecs_executor`` whose ``run_task`` calls follow ``prefer_capacity_provider``."""
    executor = ecs_executor.executor_creation_fn(init_context)
    executor._step_handler.ecs.meta.events.register("provide-client-params.ecs.RunTask", prefer_capacity_provider)
    return executor


def ecs_step_executor() -> dg.ExecutorDefinition:
    """The ECS executor with small CPU tasks as every step's default (the GPU step's tags override them)."""
    return capacity_provider_ecs_executor.configured(
        {"cpu": int(_env("OCR_PIPELINE_STEP_CPU", STEP_CPU)), "memory": int(_env("OCR_PIPELINE_STEP_MEMORY", STEP_MEMORY))},
        name="ecs",
    )
