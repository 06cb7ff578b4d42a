"""The IAM policies of ``docker/iam``, rendered as ``docs/deploy.md`` renders them (``envsubst``) and
enforced: each process of the pipeline runs under an IAM user holding exactly its role's policy, on
a moto server of its own that decides like AWS (``ocr_pipeline_tests/iam_moto.py``: conditions,
resource ARNs, 403 for a missing key without ``s3:ListBucket``).

* the pipeline for one PDF: run-worker steps, ``ocr_pages`` under the gpu-worker role, the review
  task in DynamoDB, then the corrected re-publish;
* the upload sensor, the review answers sensor, the daily retry schedule and a tick's log
  (code-server); reading that log (webserver); a failed run worker's CloudWatch logs as
  EcsRunLauncher reads them (daemon); the Postgres secret (execution role);
* what each role must not do, and the old per-prefix ``s3:ListBucket`` failing the first publish
  and the retry schedule with one clear message.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import boto3
import dagster as dg
import pandas as pd
import pytest
import requests
import yaml
from botocore.exceptions import ClientError
from dagster._core.definitions.instigation_logger import InstigationLogger

from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.resources import DynamoResource, OcrEngineResource, ReviewStoreResource, StorageResource
from ocr_pipeline.defs.review_tasks import review_answers_sensor
from ocr_pipeline.defs.schedules import retry_failed_documents
from ocr_pipeline.defs.sensors import s3_catalog_upload_sensor
from ocr_pipeline.materialize import CATALOG_GRAPH, failure_message, materialize_document
from ocr_pipeline.review.dynamo_store import DynamoReviewStore
from ocr_pipeline.review.model import Answer, TaskStatus
from ocr_pipeline.review.workflow import submit
from ocr_pipeline.storage.dynamo import DynamoCourseSink
from ocr_pipeline.storage.objects import ObjectStore, StorageAccessDenied
from ocr_pipeline.storage.work import WorkStore
from ocr_pipeline_tests.iam_moto import SUPPORTED_OPERATORS, is_allowed
from ocr_pipeline_tests.review_screenshots import hard_catalog_pdf
from ocr_pipeline_tests.support import free_port

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[1]
IAM_DIR = ROOT / "docker" / "iam"
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
VARIABLES = {
    "REGION": REGION,
    "ACCOUNT_ID": ACCOUNT_ID,
    "CLUSTER": "ocr-pipeline",
    "DATA_BUCKET": "ocr-data",
    "LOGS_BUCKET": "ocr-logs",
    "MODEL_BUCKET": "ocr-models",
    "DYNAMODB_TABLE": "ocr-courses",
    "REVIEW_TABLE": "ocr-review-tasks",
    "PG_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:ocr-pipeline/postgres-AbCdEf",
    "KMS_KEY_ARN": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
}
"""Every variable the templates use (the guide must export each: envsubst turns an unset one into "")."""
DATA, LOGS, COURSES, REVIEW = (VARIABLES[n] for n in ("DATA_BUCKET", "LOGS_BUCKET", "DYNAMODB_TABLE", "REVIEW_TABLE"))
ROLES = ("execution", "daemon", "webserver", "code-server", "run-worker", "gpu-worker")
"""Role names as docs/deploy.md derives them from the file names."""
ALWAYS_STAR = {"ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces", "ecr:GetAuthorizationToken"}
"""Actions without resource-level permissions (the only ones allowed on ``Resource: "*"``)."""
LOG_GROUP = "/ecs/ocr-pipeline"
DAILY_RUN = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)

OLD_LIST_DATA = {  # the per-prefix grants the reviewer found (issue #12)
    "run-worker": {
        "Sid": "ListData",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": ["arn:aws:s3:::${DATA_BUCKET}"],
        "Condition": {"StringLike": {"s3:prefix": ["landing/*", "work/*", "output/*"]}},
    },
    "code-server": {
        "Sid": "ListData",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": ["arn:aws:s3:::${DATA_BUCKET}"],
        "Condition": {"StringLike": {"s3:prefix": ["landing/*"]}},
    },
}


# --- rendering, as docs/deploy.md does ---------------------------------------------------------

_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def python_envsubst(text: str, env: dict[str, str]) -> str:
    """GNU ``envsubst`` without a SHELL-FORMAT: ``$VAR`` and ``${VAR}`` replaced, unset ones by ""."""
    return _REFERENCE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def envsubst(text: str, env: dict[str, str]) -> str:
    """The guide's step: the gettext binary when installed (``apt-get install gettext-base``), else its equivalent."""
    binary = shutil.which("envsubst")
    if binary is None:
        return python_envsubst(text, env)
    return subprocess.run(
        [binary],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
    ).stdout


def template_paths() -> list[Path]:
    return sorted(IAM_DIR.glob("*.json"))


def role_template(role: str) -> Path:
    return IAM_DIR / (f"{role}-role.json" if role == "execution" else f"{role}-task-role.json")


def rendered(path: Path, env: dict[str, str] = VARIABLES) -> dict:
    return json.loads(envsubst(path.read_text(), env))


def statements(document: dict) -> list[dict]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def test_every_template_renders_to_json_with_every_placeholder_filled():
    assert {p.stem for p in template_paths()} == {role_template(r).stem for r in ROLES} | {"ecs-tasks-trust"}
    for path in template_paths():
        text = path.read_text()
        used = {a or b for a, b in _REFERENCE.findall(text)}
        assert used <= set(VARIABLES), f"{path.name} uses undocumented variables {used - set(VARIABLES)}"
        out = envsubst(text, VARIABLES)
        assert "${" not in out, f"{path.name}: placeholder left after envsubst"
        json.loads(out)
    trust = rendered(IAM_DIR / "ecs-tasks-trust.json")["Statement"][0]["Condition"]
    assert trust == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:*"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
    }


@pytest.mark.skipif(shutil.which("envsubst") is None, reason="GNU gettext envsubst not installed")
def test_the_python_envsubst_matches_gnu_envsubst():
    sample = "a ${DATA_BUCKET} b $REGION c ${UNSET_VAR} d $$ e ${REGION:-x} f $1"
    for text in [sample, *(p.read_text() for p in template_paths())]:
        binary = subprocess.run(
            ["envsubst"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": os.environ["PATH"], **VARIABLES},
        ).stdout
        assert python_envsubst(text, VARIABLES) == binary


def test_policies_name_resources_and_use_only_evaluated_conditions():
    for role in ROLES:
        for statement in statements(rendered(role_template(role))):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert statement["Effect"] == "Allow" and not any("*" in action for action in actions), (role, statement)
            if "*" in resources:
                assert set(actions) <= ALWAYS_STAR, f"{role}: {actions} on every resource"
            assert set(statement.get("Condition", {})) <= SUPPORTED_OPERATORS, (role, statement)


@pytest.mark.parametrize(
    ("role", "service", "actions"),
    [
        ("run-worker", "s3", ("kms:Decrypt", "kms:GenerateDataKey")),
        ("run-worker", "dynamodb", ("kms:Decrypt", "kms:GenerateDataKey")),
        ("gpu-worker", "s3", ("kms:Decrypt", "kms:GenerateDataKey")),
        ("code-server", "s3", ("kms:Decrypt", "kms:GenerateDataKey")),
        ("code-server", "dynamodb", ("kms:Decrypt",)),
        ("daemon", "s3", ("kms:Decrypt", "kms:GenerateDataKey")),
        ("webserver", "s3", ("kms:Decrypt",)),
        ("execution", "secretsmanager", ("kms:Decrypt",)),
    ],
)
def test_customer_managed_key_is_usable_through_the_services_each_role_calls(role, service, actions):
    """moto does not involve KMS in S3/DynamoDB/Secrets Manager calls: the key grants are checked here."""
    document = rendered(role_template(role))
    key = VARIABLES["KMS_KEY_ARN"]
    for action in actions:
        assert is_allowed([document], action, key, {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}), action
        assert not is_allowed([document], action, key), f"{role}: {action} outside kms:ViaService"
        assert not is_allowed(
            [document], action, key.replace("0f1e", "ffff"), {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}
        )
    if role == "webserver":
        assert not is_allowed([document], "kms:GenerateDataKey", key, {"kms:ViaService": f"s3.{REGION}.amazonaws.com"})


# --- the moto server that enforces IAM ---------------------------------------------------------


@dataclass
class Credentials:
    access_key_id: str
    secret_access_key: str


@dataclass
class Aws:
    endpoint: str
    keys: dict[str, Credentials] = field(default_factory=dict)

    @contextmanager
    def role(self, name: str) -> Iterator[None]:
        """Every boto3 client created inside runs with this role's user's keys (env + a fresh default session)."""
        saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
        os.environ["AWS_ACCESS_KEY_ID"] = self.keys[name].access_key_id
        os.environ["AWS_SECRET_ACCESS_KEY"] = self.keys[name].secret_access_key
        os.environ.pop("AWS_SESSION_TOKEN", None)
        boto3.DEFAULT_SESSION = None
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            boto3.DEFAULT_SESSION = None

    def client(self, service: str, role: str = "admin"):
        keys = self.keys[role]
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
        )

    def storage(self) -> StorageResource:
        return StorageResource(
            landing_uri=f"s3://{DATA}/landing",
            work_uri=f"s3://{DATA}/work",
            output_uri=f"s3://{DATA}/output",
            s3_endpoint_url=self.endpoint,
            aws_region=REGION,
        )

    def review_store(self) -> ReviewStoreResource:
        return ReviewStoreResource(uri=f"dynamodb://{REVIEW}", endpoint_url=self.endpoint, aws_region=REGION)

    def resources(self) -> dict:
        return {
            "storage": self.storage(),
            "review_store": self.review_store(),
            "dynamodb": DynamoResource(enabled=True, table_name=COURSES, endpoint_url=self.endpoint, aws_region=REGION),
            "ocr_engine": OcrEngineResource(engine="rapidocr"),
        }

    def compute_log_instance(self, tmp: Path):
        """A Dagster instance whose compute logs are docker/dagster.yaml's (S3, the logs bucket), on this server."""
        block = yaml.safe_load((ROOT / "docker" / "dagster.yaml").read_text())["compute_logs"]
        config = {**block["config"], "bucket": LOGS, "endpoint_url": self.endpoint, "local_dir": str(tmp)}
        return dg.instance_for_test(overrides={"compute_logs": {**block, "config": config}})


def _policy(role: str, variables: dict[str, str]) -> dict:
    return rendered(role_template(role), variables)


def _old_policy(role: str, variables: dict[str, str]) -> dict:
    document = copy.deepcopy(_policy(role, variables))
    old = json.loads(envsubst(json.dumps(OLD_LIST_DATA[role]), variables))
    document["Statement"] = [old if s.get("Sid") == "ListData" else s for s in document["Statement"]]
    return document


@pytest.fixture(scope="module")
def aws(tmp_path_factory) -> Iterator[Aws]:
    port = free_port()
    log = tmp_path_factory.mktemp("iam-moto") / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "ocr_pipeline_tests.iam_moto", str(port)],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except requests.RequestException:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        aws = Aws(endpoint, {"setup": Credentials("testing", "testing")})
        yield _set_up(aws)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _set_up(aws: Aws) -> Aws:
    """Buckets, tables, log streams, secrets and one IAM user per role, then authentication on."""
    s3, iam = aws.client("s3", "setup"), aws.client("iam", "setup")
    for bucket in (DATA, LOGS, VARIABLES["MODEL_BUCKET"]):
        s3.create_bucket(Bucket=bucket)
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=aws.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    DynamoCourseSink(COURSES, resource=dynamodb).ensure_table()
    DynamoReviewStore(REVIEW, resource=dynamodb).ensure_table()
    logs = aws.client("logs", "setup")
    for group, stream in ((LOG_GROUP, "run-worker/run/0123456789abcdef"), ("/ecs/other-app", "x/run/1")):
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(time.time() * 1000), "message": "Traceback: worker crashed"}],
        )
    secrets = aws.client("secretsmanager", "setup")
    pg_arn = secrets.create_secret(Name="ocr-pipeline/postgres", SecretString="pg-password")["ARN"]
    secrets.create_secret(Name="someone-else/secret", SecretString="not yours")
    variables = {**VARIABLES, "PG_SECRET_ARN": pg_arn}

    trust = envsubst((IAM_DIR / "ecs-tasks-trust.json").read_text(), variables)
    documents = {role: _policy(role, variables) for role in ROLES}
    documents |= {f"old-{role}": _old_policy(role, variables) for role in OLD_LIST_DATA}
    documents["admin"] = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for role in ROLES:  # moto validates the trust policy as AWS's create-role would
        iam.create_role(RoleName=f"ocr-pipeline-{role}", AssumeRolePolicyDocument=trust)
    for name, document in documents.items():
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        aws.keys[name] = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    requests.post(f"{aws.endpoint}/moto-api/reset-auth", data=b"0", timeout=5).raise_for_status()
    with pytest.raises(ClientError):  # enforcement is on: unknown keys are refused
        aws.client("s3", "setup").list_buckets()
    return aws


def _succeeds(result: dg.ExecuteInProcessResult, *, may_fail: str | None = None) -> None:
    """The run succeeded, and no document failed in it but ``may_fail`` (a backfill logs and skips failures)."""
    assert result.success, failure_message(result)
    failed = {}
    for event in result.get_asset_materialization_events():
        value = event.materialization.metadata.get("failed_documents")
        failed |= value.value if value else {}
    assert set(failed) <= {may_fail}, failed


def _materialize(aws: Aws, instance, keys: list[str], selection: list[str]) -> dg.ExecuteInProcessResult:
    """One run of ``selection`` for ``keys`` (several: a single-run backfill over their range, as the UI starts)."""
    one = (
        {"partition_key": keys[0]}
        if len(keys) == 1
        else {"tags": {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}}
    )
    return dg.materialize(
        CATALOG_GRAPH, selection=selection, resources=aws.resources(), instance=instance, raise_on_error=False, **one
    )


def _read_parquet(aws: Aws, prefix: str) -> pd.DataFrame:
    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=DATA, Prefix=prefix).get("Contents", [])]
    return pd.concat([pd.read_parquet(io.BytesIO(s3.get_object(Bucket=DATA, Key=k)["Body"].read())) for k in keys])


# --- the pipeline, sensors and schedules under their roles --------------------------------------


def test_pipeline_sensors_and_schedules_run_under_their_roles(aws, instance):
    good, bad = "Role U/catalog.pdf", "Role U/broken.pdf"
    aws.client("s3").put_object(Bucket=DATA, Key=f"landing/{good}", Body=hard_catalog_pdf())
    aws.client("s3").put_object(Bucket=DATA, Key=f"landing/{bad}", Body=b"not a pdf at all\n")

    with aws.role("code-server"):
        tick = s3_catalog_upload_sensor(
            dg.build_sensor_context(instance=instance, resources={"storage": aws.storage()})
        )
    assert sorted(r.partition_key for r in tick.run_requests) == sorted([bad, good])
    for request in tick.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))

    backfill = sorted([bad, good])  # a single-run backfill: each step also checks the failure ledger (404s)
    with aws.role("run-worker"):
        ingest = _materialize(aws, instance, backfill, ["raw_catalog_pdfs", "rendered_pages"])
    _succeeds(ingest, may_fail=bad)
    failed = ingest.asset_materializations_for_node("raw_catalog_pdfs")[0].metadata["failed_documents"].value
    assert "quarantined: not-a-pdf" in failed[bad]  # quarantine record and failure ledger written
    with aws.role("gpu-worker"):  # the GPU task: work/ only
        _succeeds(_materialize(aws, instance, backfill, ["ocr_pages"]), may_fail=bad)
    with aws.role("run-worker"):
        _succeeds(
            _materialize(aws, instance, backfill, ["course_catalog_tables", "validated_courses", "review_tasks"]),
            may_fail=bad,
        )
    courses = _read_parquet(aws, "output/courses/")
    assert set(courses["course_code"]) == {"CS 101", "CS 102", "MATH 1A", "MATH 1B"}

    admin_store = DynamoReviewStore(
        REVIEW,
        resource=boto3.resource(
            "dynamodb",
            endpoint_url=aws.endpoint,
            region_name=REGION,
            aws_access_key_id=aws.keys["admin"].access_key_id,
            aws_secret_access_key=aws.keys["admin"].secret_access_key,
        ),
    )
    [task] = admin_store.list()
    entries = [
        {
            **entry,
            "credits_min": 4,
            "credits_max": 4,
            "title": "Calculus I" if entry["course_code"] == "MATH 1A" else entry["title"],
        }
        for entry in task.entries
    ]
    admin_store.save(submit(task, Answer.build("alice", entries, False)), task.version)  # the review app's write

    with aws.role("code-server"):
        answers = review_answers_sensor(
            dg.build_sensor_context(
                instance=instance, resources={"storage": aws.storage(), "review_store": aws.review_store()}
            )
        )
    assert [r.partition_key for r in answers.run_requests] == [good]
    assert admin_store.get(task.task_id).status is TaskStatus.ACCEPTED
    with aws.role("run-worker"):  # apply_review_corrections: the second publish reads the correction
        _succeeds(_materialize(aws, instance, [good], ["validated_courses"]))
    assert _read_parquet(aws, "output/courses/").set_index("course_code").loc["MATH 1A"].title == "Calculus I"

    with aws.role("code-server"):
        retry = retry_failed_documents(
            dg.build_schedule_context(
                instance=instance, resources={"storage": aws.storage()}, scheduled_execution_time=DAILY_RUN
            )
        )
    assert [r.partition_key for r in retry] == [bad]


def test_tick_logs_are_written_by_the_code_server_and_read_by_the_webserver(aws, tmp_path):
    log_key = ["ocr_pipeline", "s3_catalog_upload_sensor", "tick-42"]
    with (
        aws.role("code-server"),
        aws.compute_log_instance(tmp_path / "code-server") as code_server,
        InstigationLogger(
            log_key, code_server, repository_name="ocr_pipeline", instigator_name="s3_catalog_upload_sensor"
        ) as logger,
    ):
        logger.info("listed 3 objects")  # what the code server does for every sensor/schedule tick
    written = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=LOGS).get("Contents", [])]
    assert "compute-logs/storage/ocr_pipeline/s3_catalog_upload_sensor/tick-42.err" in written

    with aws.role("webserver"), aws.compute_log_instance(tmp_path / "webserver") as webserver:
        data = webserver.compute_log_manager.get_log_data(log_key)
    assert b"listed 3 objects" in data.stderr


def test_the_daemon_reads_a_failed_run_workers_logs_as_the_launcher_does(aws):
    from dagster_aws.ecs.utils import get_task_logs

    task_definition = json.loads(envsubst((ROOT / "docker" / "ecs" / "run-worker.json").read_text(), VARIABLES))
    container = yaml.safe_load((ROOT / "docker" / "dagster.yaml").read_text())["run_launcher"]["config"][
        "container_name"
    ]
    task_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task/ocr-pipeline/0123456789abcdef"

    class Ecs:  # the two ECS reads get_task_logs makes before it reads CloudWatch
        def describe_tasks(self, **_):
            return {"tasks": [{"taskArn": task_arn, "taskDefinitionArn": "ocr-pipeline-run-worker:1"}]}

        def describe_task_definition(self, **_):
            return {"taskDefinition": task_definition}

    with aws.role("daemon"):
        lines = get_task_logs(
            Ecs(),
            logs_client=boto3.client("logs", endpoint_url=aws.endpoint, region_name=REGION),
            cluster="ocr-pipeline",
            task_arn=task_arn,
            container_name=container,
        )
    assert lines == ["Traceback: worker crashed"]


def test_the_execution_role_reads_the_postgres_secret(aws):
    with aws.role("execution"):
        secrets = boto3.client("secretsmanager", endpoint_url=aws.endpoint, region_name=REGION)
        assert secrets.get_secret_value(SecretId="ocr-pipeline/postgres")["SecretString"] == "pg-password"


# --- what each role must not do ------------------------------------------------------------------


def _objects(aws: Aws, prefix: str) -> ObjectStore:
    """The resource's ``landing``, ``work`` or ``output`` object store (the work store's objects below it)."""
    store = getattr(aws.storage(), prefix)()
    return store.objects if isinstance(store, WorkStore) else store


def _store_put(prefix: str, key: str) -> Callable[[Aws], None]:
    def put(aws: Aws) -> None:
        _objects(aws, prefix).put(key, b"x")

    return put


def _store_get(prefix: str, key: str) -> Callable[[Aws], None]:
    def get(aws: Aws) -> None:
        _objects(aws, prefix).get(key)

    return get


def _client_call(service: str, method: str, **kwargs) -> Callable[[Aws], None]:
    def call(aws: Aws) -> None:
        getattr(boto3.client(service, endpoint_url=aws.endpoint, region_name=REGION), method)(**kwargs)

    return call


REFUSED = [
    ("run-worker", _store_put("landing", "Role U/injected.pdf"), ("PutObject", "landing/Role U/injected.pdf")),
    (
        "run-worker",
        _client_call("s3", "get_object", Bucket=VARIABLES["MODEL_BUCKET"], Key="deepseek-ocr-2/config.json"),
        None,
    ),
    ("run-worker", _client_call("dynamodb", "delete_item", TableName=REVIEW, Key={"task_id": {"S": "x"}}), None),
    ("gpu-worker", _store_put("output", "courses/x.parquet"), ("PutObject", "output/courses/x.parquet")),
    ("gpu-worker", _store_get("landing", "Role U/catalog.pdf"), ("GetObject", "landing/Role U/catalog.pdf")),
    (
        "gpu-worker",
        _client_call(
            "dynamodb",
            "query",
            TableName=COURSES,
            KeyConditionExpression="source_id = :s",
            ExpressionAttributeValues={":s": {"S": "x"}},
        ),
        None,
    ),
    ("code-server", _store_put("output", "courses/x.parquet"), ("PutObject", "output/courses/x.parquet")),
    (
        "code-server",
        _store_put("work", "partitions/Role U/x.pdf/document.json"),
        ("PutObject", "work/partitions/Role U/x.pdf/document.json"),
    ),
    ("code-server", _store_get("landing", "Role U/catalog.pdf"), ("GetObject", "landing/Role U/catalog.pdf")),
    ("code-server", _client_call("dynamodb", "put_item", TableName=REVIEW, Item={"task_id": {"S": "x"}}), None),
    (
        "daemon",
        _store_get("work", "partitions/Role U/catalog.pdf/document.json"),
        ("GetObject", "work/partitions/Role U/catalog.pdf/document.json"),
    ),
    ("daemon", _client_call("logs", "get_log_events", logGroupName="/ecs/other-app", logStreamName="x/run/1"), None),
    (
        "webserver",
        _client_call("s3", "put_object", Bucket=LOGS, Key="compute-logs/storage/forged.err", Body=b"x"),
        None,
    ),
    ("webserver", lambda aws: list(aws.storage().landing().list()), ("ListObjectsV2", "landing/")),
    ("execution", _client_call("secretsmanager", "get_secret_value", SecretId="someone-else/secret"), None),
]


@pytest.mark.parametrize(
    ("role", "attempt", "named"), REFUSED, ids=[f"{role}-{i}" for i, (role, _, _) in enumerate(REFUSED)]
)
def test_each_role_is_refused_what_its_process_does_not_do(aws, role, attempt, named):
    with aws.role(role), pytest.raises((StorageAccessDenied, ClientError)) as refused:
        attempt(aws)
    if named is None:
        assert "AccessDenied" in str(refused.value) or "403" in str(refused.value)
        return
    operation, key = named
    error = refused.value
    assert isinstance(error, StorageAccessDenied) and (error.operation, error.bucket, error.key) == (
        operation,
        DATA,
        key,
    )
    assert f"failed for s3://{DATA}/{key}: access denied (" in str(error) and f") to {operation}: " in str(error)
    assert error.__cause__ is None and error.__suppress_context__  # one line, no boto3 traceback under it


# --- the 403-for-a-missing-key bug ---------------------------------------------------------------


def test_per_prefix_listbucket_fails_the_first_publish_and_the_retry_schedule(aws, instance):
    key = "Old U/catalog.pdf"
    aws.client("s3").put_object(Bucket=DATA, Key=f"landing/{key}", Body=hard_catalog_pdf())
    missing = f"partitions/{key}/published.json"

    with aws.role("old-run-worker"):
        with pytest.raises(StorageAccessDenied) as denied:
            aws.storage().work().exists(missing)
        result = materialize_document(instance, key, aws.resources())
    assert (denied.value.operation, denied.value.key) == ("HeadObject", f"work/{missing}")
    assert "s3:ListBucket on the bucket" in str(denied.value)
    # The first step already fails: it looks up the document's failure-ledger entry, which does not exist yet.
    ledger = f"partitions/{key}/failure.json"
    assert failure_message(result).startswith("raw_catalog_pdfs: ")
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    error = failure.step_failure_data.error.cause  # under Dagster's wrapper: ours, with nothing under it
    assert (error.cls_name, error.cause, error.context) == ("StorageAccessDenied", None, None)
    assert error.message.strip().endswith(
        f"S3 head_object failed for s3://{DATA}/work/{ledger}: access denied (403) to HeadObject: the credentials "
        f"in use lack s3:GetObject on bucket {DATA!r}, key 'work/{ledger}', or s3:ListBucket on the bucket "
        "(without it S3 answers 403, not 404, for a missing key)"
    )
    with aws.role("run-worker"):
        assert aws.storage().work().exists(missing) is False  # the same request, with today's policy: 404

    instance.add_dynamic_partitions(catalog_documents.name, ["Old U/missing.pdf"])
    with aws.role("old-code-server"), pytest.raises(StorageAccessDenied) as schedule:
        retry_failed_documents(
            dg.build_schedule_context(
                instance=instance, resources={"storage": aws.storage()}, scheduled_execution_time=DAILY_RUN
            )
        )
    assert (schedule.value.operation, schedule.value.key) == ("ListObjectsV2", "work/partitions/")
