"""`trialpanorama ui` (dagster dev) starts, answers GraphQL, launches the main job, and stops."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        data = json.loads(resp.read())
    assert "errors" not in data, data
    return data["data"]


LAUNCH = """
mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUN = "query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"


def test_dagster_dev_serves_the_graph_and_runs_the_main_job(tmp_path):
    port = free_port()
    home = tmp_path / "home"
    env = {**os.environ, "TRIALPANORAMA_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    log = open(tmp_path / "dagster_dev.log", "w")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("trialpanorama")), "ui", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "dagster_dev.log").read_text()[-3000:]
            try:
                nodes = graphql(port, "{ assetNodes { assetKey { path } } }")["assetNodes"]
                if nodes:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "dagster dev did not answer in 120 s"
            time.sleep(1)
        keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
        assert {"raw/ctgov", "raw/ictrp", "core/studies", "core/conditions", "link/trial_clusters"} <= keys
        params = {"selector": {"repositoryLocationName": "trialpanorama_dagster", "repositoryName": "__repository__",
                               "jobName": "materialize_everything"}, "runConfigData": {}}
        launched = graphql(port, LAUNCH, {"p": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        deadline = time.monotonic() + 240
        status = None
        while status not in ("SUCCESS", "FAILURE", "CANCELED"):
            assert time.monotonic() < deadline, f"run still {status} after 240 s"
            time.sleep(2)
            status = graphql(port, RUN, {"id": run_id})["runOrError"]["status"]
        assert status == "SUCCESS", (tmp_path / "dagster_dev.log").read_text()[-3000:]
        con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        assert con.execute("SELECT count(*) FROM studies").fetchone()[0] == 404
        con.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    assert proc.returncode is not None
