"""The production instance (``docker/dagster.yaml``) on a real PostgreSQL server.

A throwaway cluster (``initdb`` + ``pg_ctl``, loopback only, a free port) stands in for RDS. The instance
is ``docker/dagster.yaml`` with only the run launcher swapped (runs execute in this process instead of ECS
tasks) and the Postgres port set to the throwaway server's; Postgres storage, the queued run coordinator,
run/pool concurrency and the S3 compute log manager (on the moto server, through ``AWS_ENDPOINT_URL``) are
production's. The daemons' own iterations then do what they do in production: the sensor daemon ticks the
upload sensor (cursor, tick, dynamic partition and queued run written to Postgres), the run queue daemon
dequeues the run, and the run materialises the catalog assets. Every claim is checked by SQL on Postgres.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.scheduler.instigation import InstigatorState, InstigatorType, TickData
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from dagster._daemon.sensor import execute_sensor_iteration
from dagster._serdes import deserialize_value

from ocr_pipeline.samples import generate_catalog
from ocr_pipeline.stages.landing_scan import ScanCursor
from ocr_pipeline_tests.support import free_port

pytestmark = [pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[1]
PRODUCTION_YAML = REPO / "docker" / "dagster.yaml"
PARTITION = "Example University/catalog 2026.pdf"
SYNC_LAUNCHER = {"module": "dagster._core.launcher.sync_in_memory_run_launcher", "class": "SyncInMemoryRunLauncher"}


def unavailable(reason: str) -> None:
    """In CI a missing Postgres is a failure (the test must run there); locally a skip that says why."""
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: this test must run, see .ci/run)")
    pytest.skip(reason)


def postgres_bindir() -> Path | None:
    """A directory with ``initdb``, ``pg_ctl`` and ``postgres``: PATH first, then Debian's /usr/lib/postgresql/*/bin."""
    candidates = []
    if found := shutil.which("pg_ctl"):
        candidates.append(Path(found).resolve().parent)
    debian = glob.glob("/usr/lib/postgresql/*/bin")  # newest major version first
    candidates += [Path(p) for p in sorted(debian, key=lambda p: [int(n) for n in re.findall(r"\d+", p)], reverse=True)]
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    db: str
    username: str
    password: str

    def connect(self):
        import psycopg2  # dagster-postgres's driver: the direct queries do not go through SQLAlchemy

        return psycopg2.connect(
            host=self.host, port=self.port, dbname=self.db, user=self.username, password=self.password
        )

    def query(self, sql: str, *params) -> list[tuple]:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on 127.0.0.1, owned by an unprivileged user, removed afterwards.

    initdb and postgres refuse to run as root: as root the server runs as ``nobody`` (the child processes
    drop to it through ``subprocess``'s ``user``/``group``), otherwise as the current user. The cluster
    lives in a short directory under /tmp (pytest's tmp_path is 0700 root and too long for a socket path).
    """
    bindir = postgres_bindir()
    if bindir is None:
        unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin")
    try:
        import dagster_postgres  # noqa: F401
        import psycopg2  # comes with dagster-postgres (psycopg2-binary)
    except ImportError as error:
        unavailable(f"dagster-postgres (the prod extra) is not installed ({error}): pip install -r requirements/ci.txt")

    drop: dict = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        drop = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    root = Path(tempfile.mkdtemp(prefix="ocr-pg-", dir="/tmp" if drop else None))
    if drop:
        os.chown(root, drop["user"], drop["group"])
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C", "HOME": str(root)}

    def as_owner(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(bindir / args[0]), *args[1:]],
            check=False,
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            **drop,
        )

    server = Postgres(host="127.0.0.1", port=free_port(), db="dagster", username="dagster", password="pg-test-secret")
    started = False
    try:
        sockets.mkdir()
        if drop:
            os.chown(sockets, drop["user"], drop["group"])
        init = as_owner(
            "initdb",
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        assert init.returncode == 0, f"initdb failed:\n{init.stdout}\n{init.stderr}"
        with open(data / "postgresql.conf", "a") as conf:  # appending keeps the file's owner; loopback only
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {server.port}\n"
                f"unix_socket_directories = '{sockets}'\nfsync = off\nsynchronous_commit = off\n"
            )
        start = as_owner("pg_ctl", "start", "-D", str(data), "-l", str(log), "-w", "-t", "30")
        started = True
        assert start.returncode == 0, f"pg_ctl start failed:\n{start.stdout}\n{start.stderr}\n" + (
            log.read_text() if log.exists() else ""
        )
        admin = psycopg2.connect(host=str(sockets), port=server.port, dbname="postgres", user="postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE ROLE {server.username} LOGIN PASSWORD %s", (server.password,))
            cursor.execute(f"CREATE DATABASE {server.db} OWNER {server.username}")
        admin.close()
        yield server
    finally:
        if started:
            stop = as_owner("pg_ctl", "stop", "-D", str(data), "-m", "fast", "-w", "-t", "30")
            if stop.returncode != 0 and (data / "postmaster.pid").exists():  # our own server, by its pid
                os.kill(int((data / "postmaster.pid").read_text().split()[0]), 9)
        shutil.rmtree(root, ignore_errors=True)


def instance_config(port: int) -> dict:
    """``docker/dagster.yaml``, with the run launcher swapped and the Postgres port set; nothing else changed.

    The port is the one storage value a throwaway server cannot share with production: 5432 on this machine
    can be taken by Debian's own cluster (``apt-get install postgresql`` creates and starts one there), by a
    developer's server or by a concurrent run of this test, so the server takes a free port and this copy
    points at it. Host, database, user and password still come from the DAGSTER_PG_* variables.
    """
    production = yaml.safe_load(PRODUCTION_YAML.read_text())
    config = json.loads(json.dumps(production))
    assert config["storage"]["postgres"]["postgres_db"]["port"] == 5432
    config["storage"]["postgres"]["postgres_db"]["port"] = port
    assert config["run_launcher"]["class"] == "LatestRevisionEcsRunLauncher"
    config["run_launcher"] = SYNC_LAUNCHER
    restored = json.loads(json.dumps(config))
    restored["storage"]["postgres"]["postgres_db"]["port"] = 5432
    restored["run_launcher"] = production["run_launcher"]
    assert restored == production  # nothing else differs
    assert config["compute_logs"]["class"] == "S3ComputeLogManager"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    return config


@pytest.fixture
def production_home(postgres, cloud, tmp_path, monkeypatch) -> Path:
    """DAGSTER_HOME with the (minimally changed) production dagster.yaml; the code location's env on moto."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance_config(postgres.port)))
    for name, value in {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": postgres.host,
        "DAGSTER_PG_DB": postgres.db,
        "DAGSTER_PG_USERNAME": postgres.username,
        "DAGSTER_PG_PASSWORD": postgres.password,
        "DAGSTER_COMPUTE_LOGS_BUCKET": cloud.bucket,
        "AWS_ENDPOINT_URL": cloud.endpoint,
        "OCR_PIPELINE_EXECUTOR": "in_process",
        "OCR_PIPELINE_LANDING_URI": f"s3://{cloud.bucket}/landing",
        "OCR_PIPELINE_WORK_URI": f"s3://{cloud.bucket}/work",
        "OCR_PIPELINE_OUTPUT_URI": f"s3://{cloud.bucket}/output",
        "OCR_PIPELINE_S3_ENDPOINT_URL": cloud.endpoint,
        "OCR_PIPELINE_DYNAMODB_ENABLED": "true",
        "OCR_PIPELINE_DYNAMODB_TABLE": cloud.table,
        "OCR_PIPELINE_DYNAMODB_ENDPOINT_URL": cloud.endpoint,
        "OCR_PIPELINE_DYNAMODB_CREATE_TABLE": "true",
        "OCR_PIPELINE_REVIEW_STORE_URI": f"dynamodb://{cloud.table}-review?create=1",
        "OCR_PIPELINE_REVIEW_ENDPOINT_URL": cloud.endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    return home


def test_sensor_tick_and_run_are_stored_in_postgres(production_home, postgres, cloud):
    # exactly how the daemon and the run worker load it: $DAGSTER_HOME/dagster.yaml. A Postgres driver that does
    # not load (SQLAlchemy's default postgresql:// driver missing) fails here.
    with dg.DagsterInstance.get() as instance:
        check_sensor_tick_and_run(instance, postgres, cloud)


def check_sensor_tick_and_run(instance: dg.DagsterInstance, postgres: Postgres, cloud) -> None:
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    catalog = generate_catalog("units_parenthetical", n_courses=4)
    cloud.upload(PARTITION, catalog.pdf)

    origin = LoadableTargetOrigin(
        executable_path=sys.executable, module_name="ocr_pipeline.definitions", working_directory=str(REPO)
    )
    target = InProcessWorkspaceLoadTarget(InProcessCodeLocationOrigin(origin, location_name="ocr_pipeline"))
    logger = logging.getLogger("test_postgres_instance")
    with WorkspaceProcessContext(instance, target) as context:
        # (c) one sensor daemon iteration: the upload sensor (RUNNING by default) ticks against this instance
        list(execute_sensor_iteration(context, logger, threadpool_executor=None, submit_threadpool_executor=None))
        queued = instance.get_runs(dg.RunsFilter(job_name="process_catalog_document"))
        assert [(r.status, r.tags.get("dagster/partition")) for r in queued] == [
            (dg.DagsterRunStatus.QUEUED, PARTITION)
        ]
        run_id = queued[0].run_id
        # (a) one run queue daemon iteration dequeues it; the (swapped) launcher executes it here
        with QueuedRunCoordinatorDaemon(interval_seconds=1) as daemon:
            list(daemon.run_iteration(context))
    run = instance.get_run_by_id(run_id)
    failures = [
        r.event_log_entry.dagster_event.step_failure_data.error.to_string()
        for r in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    ]
    assert run.status == dg.DagsterRunStatus.SUCCESS, failures

    # (b) the run and its events, read from Postgres directly
    assert postgres.query("SELECT status FROM runs WHERE run_id = %s", run_id) == [("SUCCESS",)]
    events = dict(
        postgres.query(
            "SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = %s GROUP BY dagster_event_type", run_id
        )
    )
    for kind in ("PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_START", "STEP_SUCCESS", "PIPELINE_SUCCESS"):
        assert events.get(kind, 0) >= 1, (kind, sorted(events.items()))
    materialized = {
        key
        for (key,) in postgres.query(
            "SELECT asset_key FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION' "
            "AND partition = %s",
            run_id,
            PARTITION,
        )
    }
    assert {dg.AssetKey.from_db_string(k).to_user_string() for k in materialized} >= {
        "raw_catalog_pdfs",
        "validated_courses",
    }
    assert postgres.query(
        "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = %s", "catalog_documents"
    ) == [(PARTITION,)]

    # (c) the sensor's cursor and tick, read from Postgres directly
    sensor = next(
        s
        for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        if s.instigator_name == "s3_catalog_upload_sensor"
    )
    [(body,)] = postgres.query(
        "SELECT instigator_body FROM instigators WHERE selector_id = %s AND instigator_type = 'SENSOR'",
        sensor.selector_id,
    )
    stored = deserialize_value(body, InstigatorState)  # the row as Postgres holds it, decoded with Dagster's serdes
    assert stored.instigator_name == "s3_catalog_upload_sensor"
    stored_cursor = stored.instigator_data.cursor
    assert PARTITION in ScanCursor.from_json(stored_cursor).seen
    assert sensor.instigator_data.cursor == stored_cursor
    ticks = postgres.query("SELECT status, tick_body FROM job_ticks WHERE selector_id = %s", sensor.selector_id)
    decoded = [(status, deserialize_value(body, TickData)) for status, body in ticks]
    assert [(status, tick.run_ids, tick.cursor) for status, tick in decoded] == [("SUCCESS", [run_id], stored_cursor)]

    # production's S3ComputeLogManager (on moto) kept the steps' logs
    assert cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix="compute-logs/").get("KeyCount", 0) > 0
