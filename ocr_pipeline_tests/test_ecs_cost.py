"""The cost calculator (``ocr_pipeline_tests/benchmarks/cost.py``): it runs, its parts add up, it moves the right
way with its inputs, and ``docs/cost.md`` holds the table it prints today."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ocr_pipeline.defs.jobs import CATALOG_ASSETS
from ocr_pipeline_tests.benchmarks import cost

DOC = Path(__file__).resolve().parents[1] / "docs" / "cost.md"


@pytest.fixture(scope="module")
def shape() -> cost.JobShape:
    return cost.job_shape()


def test_the_script_prints_inputs_and_a_table_whose_parts_add_up(capsys):
    cost.main(["--markdown"])
    out = capsys.readouterr().out
    assert "Prices as of 2026-11-30, us-east-1" in out and "check the AWS price pages" in out
    rows = [line.strip("|").split("|") for line in out.splitlines() if line.startswith(("| born", "| scanned"))]
    assert len(rows) == 8
    for row in rows:
        gpu_tasks, fleet, steps, worker, gpu, cpu, total = (float(c) for c in row[3:])
        assert gpu == pytest.approx(gpu_tasks + fleet, abs=0.002)
        assert cpu == pytest.approx(steps + worker, abs=0.002)
        assert total == pytest.approx(gpu + cpu, abs=0.002)


def test_job_shape_is_counted_from_the_job(shape):
    assert shape.gpu_steps == 1  # ocr_pages
    assert shape.cpu_steps == len(CATALOG_ASSETS) - 1 + 1  # the other assets and the review backlog check
    assert shape.fargate_tasks == 1 + shape.cpu_steps == 7
    assert 1 <= shape.cpu_steps_on_critical_path < shape.cpu_steps  # the check runs beside review_tasks
    assert (shape.step_vcpu, shape.step_gb, shape.gpu_task_vcpu) == (1, 4, 4)


def test_costs_move_the_right_way(shape):
    inputs = cost.Inputs()
    slow, fast = (cost.cost_per_1000_pages(replace(inputs, gpu_pages_per_s=p), shape, 300, 1.0) for p in (0.1, 0.5))
    assert slow.gpu_tasks > fast.gpu_tasks and slow.fargate_steps == fast.fargate_steps
    # the OCR part alone is pages / throughput at the g4dn price
    ocr_only = slow.gpu_tasks - fast.gpu_tasks
    assert ocr_only == pytest.approx(1000 * (1 / 0.1 - 1 / 0.5) / 3600 * inputs.g4dn_xlarge_hour)
    digital = cost.cost_per_1000_pages(inputs, shape, 300, 0.0)
    assert digital.gpu_tasks < fast.gpu_tasks and digital.total < fast.total
    small, large = (cost.cost_per_1000_pages(inputs, shape, n, 0.0) for n in (12, 300))
    assert small.cpu > 10 * large.cpu  # per-task minimums dominate small documents
    assert small.fargate_steps == pytest.approx(  # 6 tasks x 60 s minimum x 83.3 documents
        1000 / 12 * shape.cpu_steps * 60 / 3600 * (inputs.fargate_vcpu_hour + 4 * inputs.fargate_gb_hour)
    )
    sparse = cost.cost_per_1000_pages(replace(inputs, burst_pages=12), shape, 12, 1.0)
    assert sparse.gpu_fleet == pytest.approx(1000 / 12 * (8 + 15) / 60 * inputs.g4dn_xlarge_hour)


def test_docs_hold_the_table_the_script_prints(shape):
    expected = cost.table(cost.rows(cost.Inputs(), shape, [0.1, 0.25, 0.5]), markdown=True)
    assert expected in DOC.read_text()
    assert "Not measured" in DOC.read_text() and "2026-11-30" in DOC.read_text()
