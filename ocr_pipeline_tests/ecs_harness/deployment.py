"""The production deployment (``docker/``, ``docs/deploy.md``) set up on a moto server.

Network, key, secret, cluster, the two tables, the log group and the GPU fleet (launch template,
Auto Scaling group from zero, capacity provider attached to the cluster) come from the guide's own
JSON requests (:mod:`.guide`); the task definitions are registered the way the guide's
``register_release`` does: the GPU definition first, then the others naming its revision.
"""

from __future__ import annotations

import base64
import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import yaml
from botocore.exceptions import ClientError

from ocr_pipeline_tests.ecs_harness.agent import REGION
from ocr_pipeline_tests.ecs_harness.guide import guide_json

DOCKER = Path(__file__).resolve().parents[2] / "docker"
ACCOUNT_ID = "123456789012"
GPU_FLEET = "ocr-pipeline-g4dn"
"""The capacity provider's name, as in the guide and ``ocr_pipeline.deploy.ecs.GPU_CAPACITY_PROVIDER``."""
RELEASE_ORDER = ("gpu-worker", "run-worker", "code-server", "daemon", "webserver")
"""The guide's ``register_release``: the GPU definition first, the rest name its revision."""


def render(path: Path, values: dict[str, str]) -> Any:
    """A ``${NAME}`` template (the same syntax ``envsubst`` fills in) as JSON; every name must have a value."""
    return json.loads(string.Template(path.read_text()).substitute(values))


def template_values(bucket: str, table: str, secret_arn: str, kms_key_arn: str = "") -> dict[str, str]:
    """Values for every template name (``GPU_TASK_DEFINITION`` is set by :meth:`Deployment.release`)."""
    return {
        "ACCOUNT_ID": ACCOUNT_ID,
        "REGION": REGION,
        "IMAGE": "ocr-pipeline:test",
        "GPU_IMAGE": "ocr-pipeline-gpu:test",
        "GPU_TASK_DEFINITION": "ocr-pipeline-gpu",
        "DATA_BUCKET": bucket,
        "LOGS_BUCKET": bucket,
        "MODEL_BUCKET": bucket,
        "DYNAMODB_TABLE": table,
        "REVIEW_TABLE": f"{table}-review",
        "PG_HOST": "postgres.invalid",
        "PG_SECRET_ARN": secret_arn,
        "CLUSTER": "ocr-pipeline",
        "KMS_KEY_ARN": kms_key_arn or f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/00000000-0000-0000-0000-000000000000",
    }


@dataclass
class Deployment:
    """What the test deployment created on moto."""

    endpoint: str
    cluster: str
    subnet: str
    security_group: str
    values: dict[str, str]
    auto_scaling_group: str = ""
    releases: list[dict[str, str]] = field(default_factory=list)
    """Per :meth:`release`: family -> registered task definition ARN."""

    def network(self) -> dict[str, Any]:
        return {
            "awsvpcConfiguration": {
                "subnets": [self.subnet],
                "securityGroups": [self.security_group],
                "assignPublicIp": "DISABLED",
            }
        }

    def release(self, tag: str) -> dict[str, str]:
        """The guide's ``register_release TAG``: images ``:tag``, GPU revision first, the others naming it."""
        ecs = boto3.client("ecs", endpoint_url=self.endpoint, region_name=REGION)
        values = {**self.values, "IMAGE": f"ocr-pipeline:{tag}", "GPU_IMAGE": f"ocr-pipeline-gpu:{tag}"}
        registered: dict[str, str] = {}
        for name in RELEASE_ORDER:
            definition = ecs.register_task_definition(**render(DOCKER / "ecs" / f"{name}.json", values))[
                "taskDefinition"
            ]
            registered[definition["family"]] = definition["taskDefinitionArn"]
            if name == "gpu-worker":
                values["GPU_TASK_DEFINITION"] = definition["taskDefinitionArn"]
        self.values = values
        self.releases.append(registered)
        return registered


def _ignore_existing(call, *args: Any, **kwargs: Any) -> None:
    try:
        call(*args, **kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("ResourceInUseException", "ResourceAlreadyExistsException"):
            raise


def deploy(endpoint: str, bucket: str, table: str) -> Deployment:
    """Everything the guide creates that the runs need (see the module docstring), then the first release."""

    def client(name: str):
        return boto3.client(name, endpoint_url=endpoint, region_name=REGION)

    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's awsvpc tasks need ENI DNS names
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"tasks-{bucket}", Description="ECS tasks", VpcId=vpc)["GroupId"]
    host_group = ec2.create_security_group(GroupName=f"gpu-hosts-{bucket}", Description="GPU hosts", VpcId=vpc)[
        "GroupId"
    ]
    key = client("kms").create_key(Description=f"{bucket} data")["KeyMetadata"]["Arn"]
    secret_arn = client("secretsmanager").create_secret(
        Name=f"{bucket}/postgres", SecretString="not-used-with-sqlite", KmsKeyId=key
    )["ARN"]
    values = template_values(bucket, table, secret_arn, key)
    values["CLUSTER"] = bucket
    ecs = client("ecs")
    cluster = ecs.create_cluster(clusterName=bucket)["cluster"]["clusterName"]

    dynamodb = client("dynamodb")
    for request in ("/tmp/courses-table.json", "/tmp/review-table.json"):
        _ignore_existing(dynamodb.create_table, **guide_json(request, values))
    _ignore_existing(client("logs").create_log_group, logGroupName="/ecs/ocr-pipeline")

    # The GPU fleet, from zero. Names that are unique per account get the cluster's name appended.
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    user_data = f"#!/bin/bash\necho ECS_CLUSTER={cluster} >> /etc/ecs/ecs.config\n"
    fleet = {
        **values,
        "GPU_AMI_ID": image,
        "GPU_HOST_SG": host_group,
        "SUBNET_A": subnet,
        "SUBNET_B": subnet,
        "GPU_USER_DATA": base64.b64encode(user_data.encode()).decode(),
    }
    template = guide_json("/tmp/gpu-launch-template.json", fleet)
    template["LaunchTemplateName"] += f"-{cluster}"
    ec2.create_launch_template(**template)
    group_request = guide_json("/tmp/gpu-asg.json", fleet)
    group_request["AutoScalingGroupName"] += f"-{cluster}"
    group_request["LaunchTemplate"]["LaunchTemplateName"] = template["LaunchTemplateName"]
    group_request["VPCZoneIdentifier"] = subnet
    autoscaling = client("autoscaling")
    autoscaling.create_auto_scaling_group(**group_request)
    fleet["ASG_ARN"] = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[group_request["AutoScalingGroupName"]]
    )["AutoScalingGroups"][0]["AutoScalingGroupARN"]
    ecs.create_capacity_provider(**guide_json("/tmp/gpu-capacity-provider.json", fleet))
    ecs.put_cluster_capacity_providers(**guide_json("/tmp/cluster-capacity-providers.json", fleet))

    deployment = Deployment(endpoint, cluster, subnet, group, values, group_request["AutoScalingGroupName"])
    deployment.release("test")
    return deployment


def production_instance(home: Path) -> dg.DagsterInstance:
    """``docker/dagster.yaml`` with SQLite storage under ``home`` in place of Postgres (nothing else changed)."""
    config = yaml.safe_load((DOCKER / "dagster.yaml").read_text())
    config["storage"] = {"sqlite": {"base_dir": str(home)}}
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return dg.DagsterInstance.from_config(str(home))
