"""The production deployment (``docker/``) set up on a moto server: network, secret, cluster, task definitions."""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import yaml

from ocr_pipeline_tests.ecs_harness.agent import REGION

DOCKER = Path(__file__).resolve().parents[2] / "docker"
ACCOUNT_ID = "123456789012"


def render(path: Path, values: dict[str, str]) -> Any:
    """A ``${NAME}`` template (the same syntax ``envsubst`` fills in) as JSON; every name must have a value."""
    return json.loads(string.Template(path.read_text()).substitute(values))


def template_values(bucket: str, table: str, secret_arn: str) -> dict[str, str]:
    return {"ACCOUNT_ID": ACCOUNT_ID, "REGION": REGION, "IMAGE": "ocr-pipeline:test", "GPU_IMAGE": "ocr-pipeline-gpu:test",
            "DATA_BUCKET": bucket, "LOGS_BUCKET": bucket, "MODEL_BUCKET": bucket, "DYNAMODB_TABLE": table,
            "PG_HOST": "postgres.invalid", "PG_SECRET_ARN": secret_arn, "CLUSTER": "ocr-pipeline"}


@dataclass(frozen=True)
class Deployment:
    """What the test deployment created on moto."""

    endpoint: str
    cluster: str
    subnet: str
    security_group: str
    values: dict[str, str]

    def network(self) -> dict[str, Any]:
        return {"awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": [self.security_group],
                                        "assignPublicIp": "DISABLED"}}


def deploy(endpoint: str, bucket: str, table: str) -> Deployment:
    """VPC, subnet, security group, the Postgres secret, the cluster and every task definition template."""
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's awsvpc tasks need ENI DNS names
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"tasks-{bucket}", Description="ECS tasks", VpcId=vpc)["GroupId"]
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION)
    secret_arn = secrets.create_secret(Name=f"{bucket}/postgres", SecretString="not-used-with-sqlite")["ARN"]
    values = template_values(bucket, table, secret_arn)
    ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION)
    cluster = ecs.create_cluster(clusterName=bucket)["cluster"]["clusterName"]
    for path in sorted((DOCKER / "ecs").glob("*.json")):
        ecs.register_task_definition(**render(path, values))
    return Deployment(endpoint, cluster, subnet, group, values)


def production_instance(home: Path) -> dg.DagsterInstance:
    """``docker/dagster.yaml`` with SQLite storage under ``home`` in place of Postgres (nothing else changed)."""
    config = yaml.safe_load((DOCKER / "dagster.yaml").read_text())
    config["storage"] = {"sqlite": {"base_dir": str(home)}}
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return dg.DagsterInstance.from_config(str(home))
