"""A moto server that decides IAM the way AWS does, for the calls this project makes.

moto 5 checks identity policies once authentication is on (``INITIAL_NO_AUTH_ACTION_COUNT``, or
``POST /moto-api/reset-auth``), but moto 5.2's decision differs from AWS's where our policies
depend on it:

* conditions: only ``StringEquals`` on request values moto collects (none, outside STS) is
  evaluated; every other operator is ignored, so a ``ListBucket`` granted for ``s3:prefix``
  ``landing/*`` allows listing anything, and an Allow whose condition fails counts as an
  explicit Deny;
* resources: DynamoDB, CloudWatch Logs and Secrets Manager calls are checked against ``*``,
  so a grant on one table ARN never matches (and ``Resource: "*"`` always does);
* a GET or HEAD of a missing key answers 404 even when the caller lacks ``s3:ListBucket`` on
  the bucket, where S3 answers 403 (``API_HeadObject``/``API_GetObject``: "If you don't have
  the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403").

This module replaces moto's decision with AWS's evaluation (explicit Deny wins; an Allow needs
action, resource and every condition to match; a missing condition key fails a positive
operator and satisfies a negated one) and adds the 403-for-missing-key rule, judged on
``s3:ListBucket`` for the bucket with no ``s3:prefix`` in the request context (a HEAD/GET
carries none). Operators outside :data:`SUPPORTED_OPERATORS` deny the request, loudly.

It patches moto in its own process: ``python -m ocr_pipeline_tests.iam_moto PORT`` serves on
127.0.0.1:PORT with authentication off; ``POST /moto-api/reset-auth`` with body ``0`` turns it on.
Other tests' moto server (a thread of the pytest process) is not touched.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlparse

SUPPORTED_OPERATORS = frozenset(
    base + suffix
    for base in (
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Bool",
    )
    for suffix in ("", "IfExists")
)
"""Condition operators this evaluator implements (the policies under ``docker/iam`` must use only these)."""

_NEGATED = ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike")


class UnsupportedPolicy(Exception):
    """A policy element this evaluator does not implement: the request is denied and the reason printed."""


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: the six colon-separated parts match one by one (wildcards within a part)."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    return len(pattern_parts) == len(value_parts) == 6 and all(
        _wildcard(p, v) for p, v in zip(pattern_parts, value_parts)
    )


def _one_value_matches(operator: str, expected: str, actual: str) -> bool:
    base = operator.removesuffix("IfExists").replace("Not", "")
    if base == "StringEquals":
        return expected == actual
    if base == "StringEqualsIgnoreCase":
        return expected.lower() == actual.lower()
    if base == "StringLike":
        return _wildcard(expected, actual)
    if base in ("ArnEquals", "ArnLike"):
        return _arn_like(expected, actual)
    if base == "Bool":
        return str(expected).lower() == str(actual).lower()
    raise UnsupportedPolicy(f"condition operator {operator}")


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    for operator, keys in conditions.items():
        if operator not in SUPPORTED_OPERATORS:
            raise UnsupportedPolicy(f"condition operator {operator}")
        negated = operator.startswith(_NEGATED)
        for key, expected in keys.items():
            actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
            if actual is None:
                if operator.endswith("IfExists") or negated:
                    continue
                return False
            matches = any(
                _one_value_matches(operator, str(e), str(a)) for e in _as_list(expected) for a in _as_list(actual)
            )
            if matches == negated:
                return False
    return True


def _matches_any(patterns: Any, value: str, *, ignore_case: bool = False) -> bool:
    return any(_wildcard(p, value, ignore_case=ignore_case) for p in _as_list(patterns))


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise UnsupportedPolicy("Principal in an identity policy")
    if "Action" in statement:
        if not _matches_any(statement["Action"], action, ignore_case=True):
            return False
    elif not ("NotAction" in statement and not _matches_any(statement["NotAction"], action, ignore_case=True)):
        return False
    if "Resource" in statement:
        if not _matches_any(statement["Resource"], resource):
            return False
    elif not ("NotResource" in statement and not _matches_any(statement["NotResource"], resource)):
        return False
    return conditions_hold(statement.get("Condition", {}), context)


def is_allowed(
    documents: Iterable[Mapping[str, Any]], action: str, resource: str, context: Mapping[str, Any] | None = None
) -> bool:
    """AWS's decision for one identity: an explicit Deny wins, else any matching Allow, else deny."""
    allowed = False
    for document in documents:
        for statement in _as_list(document["Statement"]):
            if statement_applies(statement, action, resource, context or {}):
                if statement["Effect"] == "Deny":
                    return False
                allowed = True
    return allowed


# --- the moto side (imported only by the server process) ---------------------------------------


def _documents(access_key) -> list[dict[str, Any]]:
    from moto.iam.access_control import IAMPolicy

    return [IAMPolicy(policy)._policy_json for policy in access_key.collect_policies()]


def _json_body(body: Any) -> dict[str, Any]:
    try:
        return json.loads(body or b"{}")
    except (TypeError, ValueError):
        return {}


def request_resources(service: str, action: str, region: str, account: str, resource: str, body: Any) -> list[str]:
    """The ARNs AWS authorises this request against (moto checks non-S3 calls against ``*``)."""
    data = _json_body(body)
    if service == "dynamodb":
        tables = list(data.get("RequestItems", {})) or ([data["TableName"]] if "TableName" in data else [])
        if not tables:
            return ["*"]
        suffix = f"/index/{data['IndexName']}" if data.get("IndexName") else ""
        return [f"arn:aws:dynamodb:{region}:{account}:table/{table}{suffix}" for table in tables]
    if service == "logs" and "logGroupName" in data:
        group = f"arn:aws:logs:{region}:{account}:log-group:{data['logGroupName']}"
        if "logStreamName" in data and action in ("GetLogEvents", "PutLogEvents"):
            return [f"{group}:log-stream:{data['logStreamName']}"]
        return [f"{group}:*"]
    if service == "secretsmanager" and "SecretId" in data:
        from moto.secretsmanager.models import secretsmanager_backends

        secret_id = data["SecretId"]
        try:
            return [secretsmanager_backends[account][region].describe_secret(secret_id).arn]
        except Exception:  # noqa: BLE001 - unknown secret: authorise on what was asked for
            return [
                secret_id
                if secret_id.startswith("arn:")
                else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}"
            ]
    return [resource]


def request_context(service: str, path: str) -> dict[str, Any]:
    """Condition keys this request carries (the few our policies use)."""
    query = parse_qs(urlparse(path).query, keep_blank_values=True)
    context: dict[str, Any] = {}
    if service == "s3":
        for name in ("prefix", "delimiter", "max-keys"):
            if name in query:
                context[f"s3:{name}"] = query[name][0]
    return context


def _check_action_permitted(self, resource: str) -> None:
    service, action = self._action.split(":", 1)
    if self._action == "sts:GetCallerIdentity":
        return
    try:
        documents = _documents(self._access_key)
        resources = request_resources(service, action, self._region, self.account_id, resource, self._body)
        context = request_context(service, self._path)
        allowed = all(is_allowed(documents, self._action, arn, context) for arn in resources)
    except UnsupportedPolicy as error:
        print(f"iam_moto: denying {self._action}: {error} is not implemented here", file=sys.stderr, flush=True)
        allowed = False
    if not allowed:
        self._raise_access_denied()


_ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message><RequestId>iam-moto</RequestId></Error>"
)


def _may_list(response, request) -> bool:
    """Whether the signed caller holds ``s3:ListBucket`` on the bucket (no ``s3:prefix`` in context)."""
    from moto.iam.access_control import CreateAccessKeyFailure, create_access_key

    authorization = request.headers.get("Authorization", "")
    match = re.search(r"Credential=([^/]+)/", authorization)
    if not match:
        return True  # unsigned requests are judged by moto's bucket policy logic
    try:
        key = create_access_key(
            account_id=response.current_account, partition="aws", access_key_id=match.group(1), headers=request.headers
        )
    except CreateAccessKeyFailure:
        return False
    return is_allowed(_documents(key), "s3:ListBucket", f"arn:aws:s3:::{response.bucket_name}")


def install() -> None:
    """Patch moto's IAM decision and S3's missing-key answer (in this process only)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequestBase
    from moto.s3.responses import S3Response

    IAMRequestBase.check_action_permitted = _check_action_permitted
    original_key_response = S3Response.key_response

    def key_response(self, request, full_url, headers):
        status, response_headers, body = original_key_response(self, request, full_url, headers)
        auth_on = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
        if status == 404 and auth_on and request.method in ("GET", "HEAD") and not _may_list(self, request):
            if request.method == "HEAD":
                return 403, {"content-length": "0"}, b""
            return 403, {"content-type": "application/xml"}, _ACCESS_DENIED
        return status, response_headers, body

    S3Response.key_response = key_response


def main(argv: list[str]) -> None:
    install()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(argv[0]), verbose=False)
    server.start()
    print("iam_moto: ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
