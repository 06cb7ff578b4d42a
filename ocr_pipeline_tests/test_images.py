"""The container images: lock files in step with pyproject, the GPU entrypoint's weight sync, a CPU image smoke test.

* ``requirements/*.txt`` (``bash .ci/lock``) must pin every requirement of pyproject that the matching install
  needs, at a version pyproject allows; a dependency added to pyproject without re-locking fails here.
* ``docker/gpu-entrypoint.sh`` runs for real, with a fake ``aws`` first on PATH that copies from a local
  directory standing in for S3 (and can be told to die half-way, like a task stopped mid-sync).
* Where a container runtime answers (``docker info``), the CPU image is built and run as its non-root user;
  elsewhere (CI has no Docker daemon) that one test skips and says so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO / "requirements"
ENTRYPOINT = REPO / "docker" / "gpu-entrypoint.sh"
# The platform every lock is resolved for (.ci/lock): CI's machine and both images.
TARGET = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
}
# Never in a lock that pip installs from PyPI: CI installs the CPU torch first, the GPU image gets torch from
# the PyTorch CUDA index (requirements/gpu-torch.txt) together with the CUDA wheels it pins.
TORCH_FAMILY = re.compile(r"^(torch|triton|nvidia-.*|cuda-.*)$")
# Which extras each lock covers, and what it leaves to another install step.
LOCKS = {
    "ci.txt": {"extras": ("dev", "prod"), "elsewhere": {"torch"}},
    "cpu-image.txt": {"extras": ("prod",), "elsewhere": set()},
    "gpu-image.txt": {"extras": ("prod", "gpu"), "elsewhere": {"torch", "flash-attn"}},
}


def pins(path: Path) -> dict[str, Version]:
    """``name==version`` lines of a pip requirements file (options and comments skipped)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"{path.name}: {line!r} is not pinned with =="
        found[canonicalize_name(name.split("[")[0])] = Version(version.split(";")[0].strip())
    return found


def project_requirements(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = []
    for group in (None, *extras):
        for text in project["dependencies"] if group is None else project["optional-dependencies"][group]:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({**TARGET, "extra": group or ""}):
                wanted.append(requirement)
    return wanted


def ci_torch_version() -> Version:
    found = re.findall(r"pip install -q torch==([\w.+]+)", (REPO / ".ci" / "run").read_text())
    assert len(found) == 1, "expected one `pip install -q torch==X` in .ci/run"
    return Version(found[0])


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_pins_every_requirement_at_an_allowed_version(lock: str) -> None:
    locked = pins(REQUIREMENTS / lock)
    elsewhere = LOCKS[lock]["elsewhere"]
    problems = []
    for requirement in project_requirements(LOCKS[lock]["extras"]):
        name = canonicalize_name(requirement.name)
        if name in elsewhere:
            continue
        if name not in locked:
            problems.append(f"{requirement} is not in requirements/{lock}")
        elif not requirement.specifier.contains(locked[name], prereleases=True):
            problems.append(f"requirements/{lock} pins {name}=={locked[name]}, pyproject wants {requirement}")
    assert not problems, "pyproject and the lock disagree; run `bash .ci/lock`:\n" + "\n".join(problems)


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_holds_nothing_that_pyproject_dropped(lock: str) -> None:
    """A lock entry that names pyproject as its reason must still be one of pyproject's requirements."""
    wanted = {canonicalize_name(r.name) for r in project_requirements(LOCKS[lock]["extras"])}
    text = (REQUIREMENTS / lock).read_text()
    direct = set()
    for block in re.split(r"\n(?=\S)", text):
        name = re.match(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==", block)
        if name and "ocr-pipeline (pyproject.toml)" in block:
            direct.add(canonicalize_name(name.group(1)))
    assert direct, f"requirements/{lock} has no annotations: regenerate it with `bash .ci/lock`"
    assert direct <= wanted, f"requirements/{lock} still pins {sorted(direct - wanted)}; run `bash .ci/lock`"
    assert text.startswith("# This file was autogenerated by uv via the following command:\n#    bash .ci/lock\n")


@pytest.mark.parametrize("lock", ["ci.txt", "gpu-image.txt"])
def test_locks_installed_from_pypi_leave_torch_and_cuda_wheels_out(lock: str) -> None:
    leaked = sorted(name for name in pins(REQUIREMENTS / lock) if TORCH_FAMILY.match(name))
    assert not leaked, f"requirements/{lock} would pull PyPI's CUDA torch stack: {leaked}"


def test_gpu_torch_is_the_release_ci_tests_as_a_cuda_build_allowed_by_pyproject() -> None:
    text = (REQUIREMENTS / "gpu-torch.txt").read_text()
    index = re.search(r"^--index-url https://download\.pytorch\.org/whl/(cu\d+)$", text, re.MULTILINE)
    assert index, "gpu-torch.txt must name the PyTorch CUDA index"
    torch = pins(REQUIREMENTS / "gpu-torch.txt")
    assert set(torch) == {"torch"}
    assert torch["torch"].local == index.group(1), "the torch pin must be the build of the index it names"
    assert torch["torch"].public == ci_torch_version().public, "the GPU image must run the torch release CI tests"
    for requirement in project_requirements(("gpu", "dev")):
        if requirement.name == "torch":
            assert requirement.specifier.contains(torch["torch"]), f"torch {torch['torch']} vs {requirement}"
            assert requirement.specifier.contains(ci_torch_version())


def test_dockerfiles_install_from_the_locks_and_the_project_without_deps() -> None:
    cpu = (REPO / "docker" / "Dockerfile").read_text()
    gpu = (REPO / "docker" / "Dockerfile.gpu").read_text()
    assert "requirements/cpu-image.txt" in cpu and "pip install --no-cache-dir --no-deps ." in cpu
    assert "requirements/gpu-torch.txt" in gpu and "requirements/gpu-image.txt" in gpu
    assert "pip install --no-cache-dir --no-deps ." in gpu
    assert gpu.index("gpu-torch.txt") < gpu.index("gpu-image.txt"), "torch (CUDA build) must go in first"
    assert re.search(r"^USER 1000", cpu, re.MULTILINE), "the CPU image runs as uid 1000"
    assert "nvidia/cuda" not in gpu, "torch's CUDA wheels carry CUDA; a CUDA base image duplicates it"
    assert re.search(r"^ARG FLASH_ATTN=0$", gpu, re.MULTILINE), "flash-attn stays off unless asked for (never on a T4)"


# --- docker/gpu-entrypoint.sh ------------------------------------------------------------------------------

FAKE_AWS = textwrap.dedent("""\
    #!/usr/bin/env bash
    # Stands in for `aws s3 sync [options] s3://bucket/prefix/ DEST`: copies $FAKE_S3_ROOT/bucket/prefix/ to DEST.
    set -euo pipefail
    printf '%s\\n' "$*" >>"$FAKE_AWS_LOG"
    [ "$1 $2" = "s3 sync" ] || { echo "fake aws: unexpected $*" >&2; exit 2; }
    args=("$@"); src=${args[-2]}; dest=${args[-1]}
    root="$FAKE_S3_ROOT/${src#s3://}"
    copied=0
    for file in "$root"/*; do
      if [ -n "${FAKE_AWS_DIE_AFTER:-}" ] && [ "$copied" -ge "$FAKE_AWS_DIE_AFTER" ]; then
        echo "fake aws: killed mid-sync" >&2; exit 137
      fi
      cp "$file" "$dest/"; copied=$((copied + 1))
    done
    """)


class Entrypoint:
    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        (self.bin / "aws").write_text(FAKE_AWS)
        (self.bin / "aws").chmod(0o755)
        self.bucket = tmp_path / "s3" / "models" / "deepseek-ocr-2"
        self.bucket.mkdir(parents=True)
        for name, body in {
            "config.json": "{}",
            "model-1.safetensors": "weights 1",
            "model-2.safetensors": "w 2",
        }.items():
            (self.bucket / name).write_text(body)
        self.cache = tmp_path / "cache" / "deepseek-ocr-2"
        self.baked = tmp_path / "baked"
        self.baked.mkdir()
        self.log = tmp_path / "aws.log"
        self.out = tmp_path / "command.out"

    def run(self, **env: str) -> subprocess.CompletedProcess:
        environment = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_AWS_LOG": str(self.log),
            "FAKE_S3_ROOT": str(self.bucket.parents[1]),
            "OCR_PIPELINE_MODEL_PATH": str(self.cache),
            "OCR_PIPELINE_MODEL_S3_URI": "s3://models/deepseek-ocr-2/",
            "OCR_PIPELINE_BAKED_MODEL_PATH": str(self.baked),
            **env,
        }
        # The command reports its own pid and the model path it was given: exec keeps the entrypoint's pid.
        command = ["bash", "-c", 'echo "$$ $OCR_PIPELINE_MODEL_PATH" >"$0"', str(self.out)]
        process = subprocess.Popen(
            [str(ENTRYPOINT), *command], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        stdout, stderr = process.communicate(timeout=60)
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        result.pid = process.pid
        return result

    def syncs(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def command_saw(self) -> tuple[int, str]:
        pid, path = self.out.read_text().split()
        return int(pid), path


@pytest.fixture
def entrypoint(tmp_path: Path) -> Entrypoint:
    if not shutil.which("bash") or not shutil.which("flock"):
        pytest.fail("the entrypoint test needs bash and flock (util-linux), as the image has")
    return Entrypoint(tmp_path)


def test_interrupted_sync_leaves_no_marker_and_the_next_start_syncs_again(entrypoint: Entrypoint) -> None:
    first = entrypoint.run(FAKE_AWS_DIE_AFTER="1")
    assert first.returncode != 0, "a failed sync must fail the task, not start the step on half the weights"
    assert not entrypoint.out.exists(), "the step's command must not run after a failed sync"
    assert not (entrypoint.cache / ".sync-complete").exists()
    assert len([p for p in entrypoint.cache.iterdir() if not p.name.startswith(".")]) == 1, "died after one file"

    second = entrypoint.run()
    assert second.returncode == 0, second.stderr
    assert entrypoint.syncs() == 2
    assert {p.name for p in entrypoint.cache.iterdir()} >= {
        "config.json",
        "model-1.safetensors",
        "model-2.safetensors",
        ".sync-complete",
    }
    assert "s3://models/deepseek-ocr-2/" in (entrypoint.cache / ".sync-complete").read_text()
    assert entrypoint.command_saw() == (second.pid, str(entrypoint.cache)), "the command must be exec'd"


def test_a_complete_cache_is_still_synced_so_new_weights_arrive(entrypoint: Entrypoint) -> None:
    assert entrypoint.run().returncode == 0
    (entrypoint.bucket / "model-2.safetensors").write_text("new weights")
    again = entrypoint.run()
    assert again.returncode == 0, again.stderr
    assert entrypoint.syncs() == 2
    assert (entrypoint.cache / "model-2.safetensors").read_text() == "new weights"
    sync = entrypoint.log.read_text().splitlines()[-1]
    assert "--delete" in sync and sync.endswith(f"s3://models/deepseek-ocr-2/ {entrypoint.cache}")


def test_baked_weights_are_used_without_any_sync(entrypoint: Entrypoint) -> None:
    (entrypoint.baked / "config.json").write_text("{}")
    result = entrypoint.run()
    assert result.returncode == 0, result.stderr
    assert entrypoint.syncs() == 0, "weights baked into the image must not be synced over"
    assert entrypoint.command_saw() == (result.pid, str(entrypoint.baked))


def test_an_empty_baked_placeholder_does_not_count_as_weights(entrypoint: Entrypoint) -> None:
    (entrypoint.baked / ".keep").write_text("")  # docker/models-placeholder, copied when MODEL_DIR is not given
    result = entrypoint.run()
    assert result.returncode == 0, result.stderr
    assert entrypoint.syncs() == 1
    assert entrypoint.command_saw() == (result.pid, str(entrypoint.cache))


def test_without_an_s3_uri_the_command_runs_with_the_model_path_as_given(entrypoint: Entrypoint) -> None:
    result = entrypoint.run(OCR_PIPELINE_MODEL_S3_URI="")
    assert result.returncode == 0, result.stderr
    assert entrypoint.syncs() == 0
    assert entrypoint.command_saw() == (result.pid, str(entrypoint.cache))


# --- the CPU image, where a container runtime exists ------------------------------------------------------


def test_cpu_image_builds_and_runs_as_uid_1000() -> None:
    """Builds docker/Dockerfile and runs a command as its user. Needs a container runtime and the registries the
    build pulls from; CI has no Docker daemon, so there (and wherever `docker info` fails) it skips, saying why."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no container runtime: no docker executable on PATH")
    info = subprocess.run([docker, "info"], check=False, capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        reason = (info.stderr or info.stdout).strip().splitlines()
        pytest.skip(f"no container runtime: docker info failed: {reason[-1] if reason else info.returncode}")
    tag = "ocr-pipeline-smoke:test"
    subprocess.run([docker, "build", "-f", "docker/Dockerfile", "-t", tag, "."], cwd=REPO, check=True, timeout=1800)
    try:
        probe = "id -u && python -c 'import ocr_pipeline.definitions' && touch probe \"$DAGSTER_HOME/probe\" && echo ok"
        result = subprocess.run(
            [docker, "run", "--rm", tag, "sh", "-c", probe], check=False, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["1000", "ok"], result.stdout
    finally:
        subprocess.run([docker, "image", "rm", "-f", tag], check=False, capture_output=True, timeout=120)
