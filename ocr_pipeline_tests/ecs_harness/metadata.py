"""The ECS task metadata endpoint (v4), served on loopback for the tasks the agent runs."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TaskMetadataServer:
    """``GET /<task id>`` (the container) and ``GET /<task id>/task`` (cluster and task ARN), as ECS serves them."""

    def __init__(self) -> None:
        self._documents: dict[str, dict[str, Any]] = {}
        documents = self._documents

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                document = documents.get(self.path.rstrip("/"))
                body = json.dumps(document).encode()
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> TaskMetadataServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def register(self, task: dict[str, Any], container_name: str) -> str:
        """Serve ``task``'s metadata; returns the value of ``ECS_CONTAINER_METADATA_URI_V4`` for it."""
        path = "/" + task["taskArn"].rsplit("/", 1)[-1]
        self._documents[path] = {"Name": container_name, "DockerId": path[1:], "Image": task["containers"][0]["image"]}
        self._documents[f"{path}/task"] = {
            "Cluster": task["clusterArn"],
            "TaskARN": task["taskArn"],
            "Family": task["taskDefinitionArn"].rsplit("/", 1)[-1].split(":")[0],
            "DesiredStatus": "RUNNING",
            "KnownStatus": "RUNNING",
        }
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"
