"""Cost per 1,000 pages on the ECS deployment (docs/deploy.md), from measured and stated inputs. Run by hand:

    python -m ocr_pipeline_tests.benchmarks.cost [--markdown] [--burst-pages 10000] [--gpu-pages-per-s 0.1 0.25 0.5]

Nothing here calls AWS. Each input is printed with where it comes from: a price with its date, a
figure measured on this project's 2-core dev machine, or an estimate with its basis. The T4's OCR
throughput has **not been measured** (no g4dn was available): it is a stated range, and the rows
that depend on it say so. The job's shape (how many CPU and GPU steps, how many on the critical
path) is read from ``process_catalog_document`` itself, and the task sizes from
``docker/ecs/run-worker.json`` and ``ocr_pipeline.deploy.ecs``.

Model, per document of N pages of which S are scanned:

* CPU steps: each a Fargate task billed ``max(60 s, start + work)``; the CPU work (measured
  rates, spread evenly over the CPU steps) is N / text rate + S / render rate.
* Run worker: a Fargate task alive for the whole run: its own start, then on the critical path
  each CPU step's wait for its task plus its work, then the GPU task.
* GPU task: placement and container start on a warm g4dn, the model load when any page needs
  OCR, S / (T4 pages/s) of OCR, and the text layers of the N - S other pages.
* Fleet: every scale-from-zero costs the instance's cold start plus the idle minutes before
  managed scaling removes it, spread over the pages processed in that burst.

Not included: S3 and DynamoDB requests, CloudWatch Logs, the always-on services (code server,
daemon, webserver, Postgres, load balancer, NAT or endpoints), which do not grow with pages.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

PRICES_DATE = "2026-11-30"
PRICES = {  # us-east-1, Linux/x86, on-demand, as of PRICES_DATE: check the AWS price pages before quoting
    "g4dn_xlarge_hour": (0.526, "$/h, EC2 g4dn.xlarge on-demand (1 T4, 4 vCPU, 16 GiB)"),
    "fargate_vcpu_hour": (0.04048, "$/vCPU-h, Fargate Linux/x86"),
    "fargate_gb_hour": (0.004445, "$/GB-h, Fargate Linux/x86"),
}
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Inputs:
    g4dn_xlarge_hour: float = PRICES["g4dn_xlarge_hour"][0]
    fargate_vcpu_hour: float = PRICES["fargate_vcpu_hour"][0]
    fargate_gb_hour: float = PRICES["fargate_gb_hour"][0]
    fargate_minimum_s: float = 60.0
    """Fargate bills per second with a one-minute minimum per task (AWS Fargate pricing)."""
    fargate_start_billed_s: float = 30.0
    """Estimate: billing starts when the image pull starts; no image cache on Fargate, so every task pulls the
    CPU image (several hundred MB compressed at tens of MB/s: ~20-30 s), then Python and Dagster start
    (2.3 s measured, README "Performance")."""
    fargate_start_wait_s: float = 45.0
    """Estimate: from run_task to the step's code running (provisioning and the ENI, then the billed part)."""
    cpu_text_pages_per_vcpu_s: float = 24.7 / 2
    """Measured 2026-11-30 (README "Performance"): the text path, 600-page catalog, one run, 24.7 pages/s on the
    2-core dev machine, whole process; halved for one Fargate vCPU."""
    cpu_render_pages_per_vcpu_s: float = 9.6
    """Measured 2026-11-30 on the same machine: rendered_pages' rendering of 19 scanned synthetic pages, one
    worker, 9.6 pages/s (the machine shared with other jobs)."""
    gpu_pages_per_s: float = 0.25
    """NOT MEASURED. DeepSeek-OCR 2, fp16 + SDPA, batch 4, on a T4 (g4dn.xlarge), scanned catalog pages.
    Basis of the 0.1-0.5 range: the DeepSeek-OCR paper's 200k+ pages/day on one A100-40G (~2.3 pages/s,
    vLLM) times the T4/A100 memory bandwidth ratio (320/1555 GB/s, ~0.2) gives ~0.5 pages/s as the upper end;
    this engine uses transformers' generate without continuous batching, assumed 2-5x slower (0.1-0.25).
    Measure with ocr_pipeline_tests.benchmarks.gpu_deepseek on a g4dn before quoting."""
    gpu_task_start_s: float = 15.0
    """Estimate: placement on a warm g4dn and container start (image cached on the instance, prefer-cached)."""
    gpu_model_load_s: float = 60.0
    """Estimate: ~6.7 GB of weights from the instance's gp3 volume (125 MB/s baseline: ~54 s) to the GPU,
    plus CUDA start; only for documents with a page to OCR (the engine is built lazily)."""
    fleet_cold_start_s: float = 8 * 60.0
    """Estimate: g4dn launch and ECS registration (~2-3 min), GPU image pull and unpack (~10 GiB unpacked:
    ~3-4 min) and weights sync from S3 (~1 min), billed before the first GPU task starts."""
    fleet_scale_in_tail_s: float = 15 * 60.0
    """Estimate: managed scaling removes an idle instance after its scale-in alarm (~15 one-minute
    datapoints) and the termination: billed idle time after the last task of a burst."""
    burst_pages: int = 10_000
    """Pages processed per scale-from-zero of the GPU fleet (one instance)."""


@dataclass(frozen=True)
class JobShape:
    cpu_steps: int
    gpu_steps: int
    cpu_steps_on_critical_path: int
    step_vcpu: float
    step_gb: float
    run_worker_vcpu: float
    run_worker_gb: float
    gpu_task_vcpu: float

    @property
    def fargate_tasks(self) -> int:
        """Per run: the run worker and one task per CPU step."""
        return 1 + self.cpu_steps


def job_shape() -> JobShape:
    """Steps of ``process_catalog_document`` (GPU: the steps the ECS executor sends to a capacity provider)."""
    from dagster._core.execution.api import create_execution_plan

    from ocr_pipeline.definitions import defs
    from ocr_pipeline.deploy import ecs

    plan = create_execution_plan(defs().resolve_job_def("process_catalog_document"))
    steps = plan.get_all_steps_in_topo_order()
    gpu = {s.key for s in steps if "capacityProviderStrategy" in json.loads(s.tags.get("ecs/run_task_kwargs", "{}"))}
    depth: dict[str, int] = {}  # CPU steps on the longest chain ending at each step
    for step in steps:
        before = max((depth[k] for k in step.get_execution_dependency_keys()), default=0)
        depth[step.key] = before + (step.key not in gpu)
    worker = json.loads((REPO / "docker" / "ecs" / "run-worker.json").read_text())
    return JobShape(
        cpu_steps=len(steps) - len(gpu),
        gpu_steps=len(gpu),
        cpu_steps_on_critical_path=max(depth.values()),
        step_vcpu=int(ecs.STEP_CPU) / 1024,
        step_gb=int(ecs.STEP_MEMORY) / 1024,
        run_worker_vcpu=int(worker["cpu"]) / 1024,
        run_worker_gb=int(worker["memory"]) / 1024,
        gpu_task_vcpu=int(ecs.GPU_TASK_CPU) / 1024,
    )


@dataclass(frozen=True)
class Cost:
    """Dollars per 1,000 pages, by part."""

    gpu_tasks: float
    gpu_fleet: float
    fargate_steps: float
    fargate_run_worker: float

    @property
    def gpu(self) -> float:
        return self.gpu_tasks + self.gpu_fleet

    @property
    def cpu(self) -> float:
        return self.fargate_steps + self.fargate_run_worker

    @property
    def total(self) -> float:
        return self.gpu + self.cpu


def cost_per_1000_pages(inputs: Inputs, shape: JobShape, pages_per_document: int, scanned_fraction: float) -> Cost:
    pages = float(pages_per_document)
    scanned = pages * scanned_fraction
    cpu_work_s = pages / inputs.cpu_text_pages_per_vcpu_s + scanned / inputs.cpu_render_pages_per_vcpu_s
    work_per_step_s = cpu_work_s / shape.cpu_steps
    step_billed_s = shape.cpu_steps * max(inputs.fargate_minimum_s, inputs.fargate_start_billed_s + work_per_step_s)
    gpu_task_s = (
        inputs.gpu_task_start_s
        + (inputs.gpu_model_load_s if scanned else 0.0)
        + scanned / inputs.gpu_pages_per_s
        + (pages - scanned) / (inputs.cpu_text_pages_per_vcpu_s * shape.gpu_task_vcpu)
    ) * shape.gpu_steps
    run_worker_s = (
        inputs.fargate_start_billed_s
        + shape.cpu_steps_on_critical_path * (inputs.fargate_start_wait_s + work_per_step_s)
        + gpu_task_s
    )
    run_worker_billed_s = max(inputs.fargate_minimum_s, run_worker_s)

    def fargate(vcpu: float, gb: float, seconds: float) -> float:
        return (vcpu * inputs.fargate_vcpu_hour + gb * inputs.fargate_gb_hour) * seconds / 3600

    documents = 1000 / pages
    fleet = (inputs.fleet_cold_start_s + inputs.fleet_scale_in_tail_s) / 3600 * inputs.g4dn_xlarge_hour
    return Cost(
        gpu_tasks=documents * gpu_task_s / 3600 * inputs.g4dn_xlarge_hour,
        gpu_fleet=fleet * 1000 / inputs.burst_pages,
        fargate_steps=documents * fargate(shape.step_vcpu, shape.step_gb, step_billed_s),
        fargate_run_worker=documents * fargate(shape.run_worker_vcpu, shape.run_worker_gb, run_worker_billed_s),
    )


@dataclass(frozen=True)
class Row:
    scenario: str
    pages_per_document: int
    scanned_fraction: float
    gpu_pages_per_s: float | None
    cost: Cost


def rows(inputs: Inputs, shape: JobShape, gpu_rates: Sequence[float], sizes: Sequence[int] = (12, 300)) -> list[Row]:
    out = []
    for size in sizes:
        out.append(Row("born-digital", size, 0.0, None, cost_per_1000_pages(inputs, shape, size, 0.0)))
        for rate in gpu_rates:
            scanned = cost_per_1000_pages(replace(inputs, gpu_pages_per_s=rate), shape, size, 1.0)
            out.append(Row("scanned", size, 1.0, rate, scanned))
    return out


def _money(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


HEADER = (
    "document",
    "pages/doc",
    "T4 pages/s (assumed)",
    "GPU tasks",
    "GPU fleet cold start",
    "Fargate steps",
    "Fargate run worker",
    "GPU",
    "CPU",
    "total $/1,000 pages",
)


def table(table_rows: Sequence[Row], markdown: bool) -> str:
    cells = [HEADER] + [
        (
            r.scenario,
            str(r.pages_per_document),
            "-" if r.gpu_pages_per_s is None else f"{r.gpu_pages_per_s:g}",
            *(
                _money(v)
                for v in (
                    r.cost.gpu_tasks,
                    r.cost.gpu_fleet,
                    r.cost.fargate_steps,
                    r.cost.fargate_run_worker,
                    r.cost.gpu,
                    r.cost.cpu,
                    r.cost.total,
                )
            ),
        )
        for r in table_rows
    ]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in cells]
        lines.insert(1, "|" + "|".join("---" if i < 1 else "---:" for i in range(len(HEADER))) + "|")
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells
    )


def describe_inputs(inputs: Inputs, shape: JobShape) -> str:
    lines = [f"Prices as of {PRICES_DATE}, us-east-1, Linux/x86, on-demand (check the AWS price pages):"]
    lines += [f"  {name} = {getattr(inputs, name)} {unit}" for name, (_, unit) in PRICES.items()]
    lines.append(
        f"Job process_catalog_document: {shape.cpu_steps} CPU steps ({shape.cpu_steps_on_critical_path} on the "
        f"critical path), {shape.gpu_steps} GPU step; Fargate tasks per run: {shape.fargate_tasks} "
        f"(run worker {shape.run_worker_vcpu:g} vCPU/{shape.run_worker_gb:g} GB, steps {shape.step_vcpu:g} vCPU/"
        f"{shape.step_gb:g} GB); GPU task {shape.gpu_task_vcpu:g} vCPU on a g4dn.xlarge"
    )
    lines.append("Other inputs (see each field's docstring in ocr_pipeline_tests/benchmarks/cost.py for its basis):")
    for name in (
        "fargate_minimum_s",
        "fargate_start_billed_s",
        "fargate_start_wait_s",
        "cpu_text_pages_per_vcpu_s",
        "cpu_render_pages_per_vcpu_s",
        "gpu_task_start_s",
        "gpu_model_load_s",
        "fleet_cold_start_s",
        "fleet_scale_in_tail_s",
        "burst_pages",
    ):
        lines.append(f"  {name} = {getattr(inputs, name):g}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--gpu-pages-per-s",
        nargs="+",
        type=float,
        default=[0.1, 0.25, 0.5],
        help="assumed T4 OCR throughput(s), scanned pages/s (not measured)",
    )
    parser.add_argument(
        "--burst-pages", type=int, default=Inputs.burst_pages, help="pages per scale-from-zero of the GPU fleet"
    )
    parser.add_argument("--pages-per-document", nargs="+", type=int, default=[12, 300])
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (docs/cost.md)")
    args = parser.parse_args(argv)
    inputs = Inputs(burst_pages=args.burst_pages)
    shape = job_shape()
    print(describe_inputs(inputs, shape))
    print()
    print(table(rows(inputs, shape, args.gpu_pages_per_s, args.pages_per_document), args.markdown))
    lone = cost_per_1000_pages(replace(inputs, burst_pages=12), shape, 12, 1.0)
    print()
    print(
        f"A lone 12-page scanned document arriving with the fleet at zero pays the whole cold start and idle tail: "
        f"${lone.gpu_fleet * 12 / 1000:.2f} for it (${lone.total:.2f} per 1,000 pages at that rate)."
    )


if __name__ == "__main__":
    main()
