"""``docker/`` and ``docs/deploy.md``: task definitions accepted by ECS (moto) and consistent with the guide,
the stores they configure, IAM policies well-formed, the production dagster.yaml valid."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.validate import validate_parameters
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import class_from_code_pointer

from ocr_pipeline.deploy.ecs import GPU_CAPACITY_PROVIDER, LatestRevisionEcsRunLauncher
from ocr_pipeline.review.dynamo_store import DynamoReviewStore
from ocr_pipeline.review.model import TaskStatus
from ocr_pipeline.review.store import open_review_store
from ocr_pipeline.storage.dynamo import DynamoCourseSink
from ocr_pipeline.storage.objects import StorageError
from ocr_pipeline_tests.ecs_harness.deployment import DOCKER, deploy, render, template_values
from ocr_pipeline_tests.ecs_harness.guide import GUIDE, guide_json, heredoc, shell_blocks, template_vars

POLICIES = sorted((DOCKER / "iam").glob("*.json"))
TASK_DEFINITIONS = sorted((DOCKER / "ecs").glob("*.json"))
TEMPLATE_NAME = re.compile(r"\$\{([A-Z_]+)\}")


def environment(path: Path) -> dict[str, str]:
    container = json.loads(path.read_text())["containerDefinitions"][0]
    return {e["name"]: e["value"] for e in container["environment"]}


def test_task_definition_templates_register(cloud):
    deployment = deploy(cloud.endpoint, cloud.bucket, cloud.table)
    ecs = boto3.client("ecs", endpoint_url=cloud.endpoint, region_name="us-east-1")
    families = {path.stem: json.loads(path.read_text())["family"] for path in TASK_DEFINITIONS}
    registered = {
        name: ecs.describe_task_definition(taskDefinition=family)["taskDefinition"] for name, family in families.items()
    }
    assert set(registered) == {"webserver", "daemon", "code-server", "run-worker", "gpu-worker"}
    gpu, worker = registered["gpu-worker"], registered["run-worker"]
    assert gpu["requiresCompatibilities"] == ["EC2"] and worker["requiresCompatibilities"] == ["FARGATE"]
    assert gpu["containerDefinitions"][0]["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
    # the executor overrides the container by the launcher's container_name, in both definitions
    assert gpu["containerDefinitions"][0]["name"] == worker["containerDefinitions"][0]["name"] == "run"
    assert all(d["networkMode"] == "awsvpc" for d in registered.values())
    # the run worker names the very GPU revision registered with it (a release moves both together)
    worker_env = {e["name"]: e["value"] for e in worker["containerDefinitions"][0]["environment"]}
    assert (
        worker_env["OCR_PIPELINE_GPU_TASK_DEFINITION"]
        == gpu["taskDefinitionArn"]
        == deployment.releases[0]["ocr-pipeline-gpu"]
    )
    assert worker_env["OCR_PIPELINE_GPU_CAPACITY_PROVIDER"] == GPU_CAPACITY_PROVIDER
    assert float(worker_env["OCR_PIPELINE_STEP_START_TIMEOUT_S"]) > 600  # longer than a cold start from zero


def _key_schema(description: dict) -> dict:
    """What makes two tables interchangeable for the code: keys, attribute types, indexes."""
    return {
        "KeySchema": description["KeySchema"],
        "AttributeDefinitions": sorted(description["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "Indexes": sorted(
            (i["IndexName"], json.dumps(i["KeySchema"]), i["Projection"]["ProjectionType"])
            for i in description.get("GlobalSecondaryIndexes", [])
        ),
    }


@pytest.mark.parametrize("path", TASK_DEFINITIONS, ids=[p.stem for p in TASK_DEFINITIONS])
def test_every_task_definition_uses_the_dynamodb_review_store_and_no_local_path(path: Path):
    """Every task definition runs Dagster code from the image: its review store is the guide's DynamoDB table
    (the SQLite default is a file in a root-owned working directory, and per task at that), and every other
    store is remote too, so no process writes into its working directory."""
    env = environment(path)
    assert env.get("OCR_PIPELINE_REVIEW_STORE_URI") == "dynamodb://${REVIEW_TABLE}"
    store = open_review_store(
        env["OCR_PIPELINE_REVIEW_STORE_URI"].replace("${REVIEW_TABLE}", "review"), endpoint_url="http://127.0.0.1:9"
    )  # built only, never called
    assert isinstance(store, DynamoReviewStore) and store.table_name == "review"
    uris = {name: value for name, value in env.items() if name.startswith("OCR_PIPELINE_") and name.endswith("_URI")}
    assert {"OCR_PIPELINE_LANDING_URI", "OCR_PIPELINE_WORK_URI", "OCR_PIPELINE_OUTPUT_URI"} <= set(uris)
    assert all(value.startswith(("s3://", "dynamodb://")) for value in uris.values()), uris


def test_guide_creates_the_tables_with_the_key_schemas_the_code_uses(moto_endpoint):
    """The guide's create-table requests, sent to moto, make the tables the stores' own ensure_table makes."""
    suffix = uuid.uuid4().hex[:8]
    values = {
        "DYNAMODB_TABLE": f"guide-courses-{suffix}",
        "REVIEW_TABLE": f"guide-review-{suffix}",
        "KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/guide",
    }
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    for request in ("/tmp/courses-table.json", "/tmp/review-table.json"):
        client.create_table(**guide_json(request, values))
    DynamoCourseSink(f"code-courses-{suffix}", endpoint_url=moto_endpoint).ensure_table()
    DynamoReviewStore(f"code-review-{suffix}", endpoint_url=moto_endpoint).ensure_table()
    for kind in ("courses", "review"):
        guide = client.describe_table(TableName=f"guide-{kind}-{suffix}")["Table"]
        code = client.describe_table(TableName=f"code-{kind}-{suffix}")["Table"]
        assert _key_schema(guide) == _key_schema(code), kind
        assert guide["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # and the guide's table works with the store as production opens it
    store = open_review_store(f"dynamodb://guide-review-{suffix}", endpoint_url=moto_endpoint)
    assert store.list([TaskStatus.ACCEPTED]) == []
    DynamoCourseSink(values["DYNAMODB_TABLE"], endpoint_url=moto_endpoint).check_table()


def test_a_missing_review_table_is_one_clear_error(moto_endpoint):
    store = open_review_store("dynamodb://no-such-review-table", endpoint_url=moto_endpoint)
    for call in (lambda: store.get("t1"), lambda: store.list([TaskStatus.ACCEPTED])):
        with pytest.raises(StorageError) as raised:
            call()
        message = str(raised.value)
        assert "no-such-review-table" in message and "OCR_PIPELINE_REVIEW_STORE_URI" in message
        assert "docs/deploy.md" in message and raised.value.__cause__ is None


def test_guide_renders_every_template_with_every_name_it_uses():
    """Every ${NAME} of docker/ecs and docker/iam is in the guide's TEMPLATE_VARS, and no template (the ECS
    trust policy included) is passed to AWS as a file without being rendered."""
    used = {name for path in [*TASK_DEFINITIONS, *POLICIES] for name in TEMPLATE_NAME.findall(path.read_text())}
    assert used <= template_vars(), used - template_vars()
    text = "\n".join(shell_blocks())
    for path in [*TASK_DEFINITIONS, *POLICIES]:
        relative = path.relative_to(DOCKER.parent).as_posix()
        assert f"file://{relative}" not in text, relative
    assert "render docker/iam/ecs-tasks-trust.json /tmp/ecs-tasks-trust.json" in text
    assert "--assume-role-policy-document file:///tmp/ecs-tasks-trust.json" in text
    # the release registers the GPU definition before the definitions that name its revision
    release = text[text.index("register_release() {") : text.index("roll_services() {")]
    assert release.index("gpu-worker.json") < release.index("GPU_TASK_DEFINITION=") < release.index("run-worker")
    assert "deregister-task-definition" not in text  # rollback registers the previous images anew


def test_service_connect_reaches_the_code_server_at_the_workspace_address():
    workspace = yaml.safe_load((DOCKER / "workspace.yaml").read_text())["load_from"][0]["grpc_server"]
    code_server = json.loads((DOCKER / "ecs" / "code-server.json").read_text())["containerDefinitions"][0]
    ports = {m["name"]: m["containerPort"] for m in code_server["portMappings"] if "name" in m}
    values = {name: "x" for name in ("CLUSTER", "SUBNET_A", "SUBNET_B", "TASKS_SG", "REGION", "WEB_TG_ARN")}
    service = guide_json("/tmp/service-code-server.json", values)
    connect = service["serviceConnectConfiguration"]
    (published,) = connect["services"]
    (alias,) = published["clientAliases"]
    assert ports[published["portName"]] == alias["port"] == workspace["port"]
    assert alias["dnsName"] == workspace["host"] and workspace["host"].endswith("." + connect["namespace"])
    command = code_server["command"]
    assert command[command.index("-p") + 1] == str(workspace["port"])  # the code server listens where it is published
    for name in ("daemon", "webserver"):  # clients of the same namespace
        client = guide_json(f"/tmp/service-{name}.json", values)
        assert client["serviceConnectConfiguration"] == {"enabled": True, "namespace": connect["namespace"]}
        assert client["launchType"] == "FARGATE"
        assert client["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    daemon = guide_json("/tmp/service-daemon.json", values)
    assert daemon["desiredCount"] == 1 and daemon["deploymentConfiguration"]["maximumPercent"] == 100
    create_service = boto3.client("ecs", region_name="us-east-1").meta.service_model.operation_model("CreateService")
    for name in ("code-server", "daemon", "webserver"):  # requests the AWS API accepts (botocore's own validation)
        validate_parameters(guide_json(f"/tmp/service-{name}.json", values), create_service.input_shape)


def test_gpu_fleet_scales_from_zero_up_to_the_gpu_pool():
    values = {
        name: "x"
        for name in ("GPU_AMI_ID", "GPU_HOST_SG", "GPU_USER_DATA", "SUBNET_A", "SUBNET_B", "ASG_ARN", "CLUSTER")
    }
    group = guide_json("/tmp/gpu-asg.json", values)
    pool_limit = yaml.safe_load((DOCKER / "dagster.yaml").read_text())["concurrency"]["pools"]["default_limit"]
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (0, 0, pool_limit)
    assert group["NewInstancesProtectedFromScaleIn"] is True and group["LaunchTemplate"]["Version"] == "$Latest"
    provider = guide_json("/tmp/gpu-capacity-provider.json", values)
    assert provider["name"] == GPU_CAPACITY_PROVIDER
    assert provider["autoScalingGroupProvider"]["managedScaling"]["status"] == "ENABLED"
    assert provider["autoScalingGroupProvider"]["managedTerminationProtection"] == "ENABLED"
    attached = guide_json("/tmp/cluster-capacity-providers.json", values)
    assert GPU_CAPACITY_PROVIDER in attached["capacityProviders"]
    template = guide_json("/tmp/gpu-launch-template.json", values)["LaunchTemplateData"]
    assert template["InstanceType"] == "g4dn.xlarge" and template["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] >= 60
    guide = GUIDE.read_text()
    assert "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id" in guide
    assert "AmazonEC2ContainerServiceforEC2Role" in guide
    user_data = heredoc("/tmp/gpu-user-data.sh")
    assert "ECS_CLUSTER=$CLUSTER" in user_data and "ECS_ENABLE_GPU_SUPPORT=true" in user_data


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_iam_policies_are_well_formed_and_scoped(path: Path):
    policy = render(path, template_values("x", "x", "x"))
    assert policy["Version"] == "2012-10-17" and policy["Statement"]
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Action"]
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(":" in a and not a.endswith(":*") and a != "*" for a in actions), actions
        if path.stem != "ecs-tasks-trust":
            assert statement["Resource"]


def test_production_dagster_yaml_is_valid(tmp_path, monkeypatch):
    for name in (
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_DB",
        "DAGSTER_PG_USERNAME",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_RUN_TASK_DEFINITION",
        "DAGSTER_COMPUTE_LOGS_BUCKET",
    ):
        monkeypatch.setenv(name, "dummy")
    shutil.copy(DOCKER / "dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))  # the instance schema, Postgres storage included
    for section in ("run_launcher", "run_coordinator", "compute_logs"):
        cls = class_from_code_pointer(config[section]["module"], config[section]["class"])
        result = validate_config(cls.config_type(), config[section].get("config", {}))
        assert result.success, (section, result.errors)
    launcher = class_from_code_pointer(config["run_launcher"]["module"], config["run_launcher"]["class"])
    assert issubclass(launcher, LatestRevisionEcsRunLauncher)  # a release reaches runs without a daemon restart
    assert config["concurrency"]["pools"]["default_limit"] >= 1 and "run_queue" not in config
