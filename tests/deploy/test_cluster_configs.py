"""The cluster configs docs/scale.md points to are checked files: the `ray up` config passes
Ray's own autoscaler validation (its schema, after Ray fills in the provider's defaults), and
the KubeRay manifest has what the operator requires and a job command that datasteward's own
CLI accepts."""

from __future__ import annotations

import copy
import importlib
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="the cluster config tests read YAML (PyYAML)")

ROOT = Path(__file__).resolve().parents[2]
RAY_UP = ROOT / "deploy" / "ray" / "cluster.yaml"
KUBERAY = ROOT / "deploy" / "kuberay" / "raycluster.yaml"
DEMO_JOB = ROOT / "deploy" / "kuberay" / "demo-job.yaml"
DOCKERFILE = ROOT / "deploy" / "kuberay" / "Dockerfile"
DEMO_COMMAND = "datasteward run --project /data/news --executor ray --address auto"


def _ray_validate(config: dict[str, Any]) -> None:
    """What `ray up` does before anything else: fill in the provider's defaults, validate."""
    pytest.importorskip("ray", reason="validating a `ray up` config needs Ray")
    pytest.importorskip("jsonschema", reason="Ray validates cluster configs with jsonschema")
    util = importlib.import_module("ray.autoscaler._private.util")  # `ray up`'s own checks
    util.validate_config(util.prepare_config(copy.deepcopy(config)))


def test_ray_up_config_passes_rays_validation() -> None:
    config = yaml.safe_load(RAY_UP.read_text())
    _ray_validate(config)
    assert config["head_node_type"] in config["available_node_types"]
    assert config["available_node_types"]["head"]["resources"] == {"CPU": 0}
    setup = " ".join(config["setup_commands"])
    assert "'datasteward[ray,s3]'" in setup and "/data" in setup


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("available_node_types", "worker", "min_worker"), 2, "min_worker"),
        (("head_node_type",), "gpu", "head_node_type"),
        (("provider", "type"), None, "None"),
    ],
)
def test_ray_validation_catches_a_broken_config(
    path: tuple[str, ...], value: Any, complaint: str
) -> None:
    """The check above can fail: a typo or a wrong value in the same file is refused."""
    config = yaml.safe_load(RAY_UP.read_text())
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(Exception, match=complaint):  # noqa: PT011 - jsonschema's or Ray's own
        _ray_validate(config)


def _kuberay() -> tuple[dict[str, Any], dict[str, Any]]:
    (cluster,) = [d for d in yaml.safe_load_all(KUBERAY.read_text()) if d]
    (job,) = [d for d in yaml.safe_load_all(DEMO_JOB.read_text()) if d]
    assert (cluster["kind"], job["kind"]) == ("RayCluster", "RayJob")
    return cluster, job


def _containers(template: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = template["spec"]["containers"]
    return containers


def test_kuberay_raycluster_has_what_the_operator_requires() -> None:
    cluster, job = _kuberay()
    assert cluster["apiVersion"] == "ray.io/v1"
    assert cluster["metadata"]["name"] == "datasteward"
    spec = cluster["spec"]
    head = spec["headGroupSpec"]
    assert isinstance(head["rayStartParams"], dict)
    assert all(isinstance(v, str) for v in head["rayStartParams"].values())  # the CRD: strings
    workers = spec["workerGroupSpecs"]
    assert workers and all({"groupName", "rayStartParams", "template"} <= set(w) for w in workers)
    for w in workers:
        assert w["minReplicas"] <= w["replicas"] <= w["maxReplicas"]
    pods = [head["template"]] + [w["template"] for w in workers]
    images = {c["image"] for t in pods for c in _containers(t)}
    assert len(images) == 1, "every pod runs the same image (the same datasteward and Ray)"
    for t in pods:
        (container,) = _containers(t)
        assert {"name", "image", "resources"} <= set(container)
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts.get("/data") in {v["name"] for v in t["spec"]["volumes"]}
        assert container["envFrom"] == [{"secretRef": {"name": "s3-credentials"}}]
    # the image is Ray's own at the cluster's Ray version, plus datasteward's ray and s3 extras
    dockerfile = DOCKERFILE.read_text()
    base = re.search(r"^FROM rayproject/ray:([\d.]+)-py3\d+$", dockerfile, re.M)
    assert base is not None and base.group(1) == spec["rayVersion"]
    assert "pip install --no-cache-dir 'datasteward[ray,s3]'" in dockerfile
    assert job["apiVersion"] == "ray.io/v1"
    assert job["spec"]["clusterSelector"] == {"ray.io/cluster": cluster["metadata"]["name"]}


def test_the_demo_job_command_is_one_the_cli_accepts() -> None:
    """The RayJob's entrypoint parses with datasteward's own `run` command: the options exist
    and take the values given (the command docs/scale.md shows)."""
    import typer.main

    from datasteward.cli.main import _load, app

    _load()  # the subcommands are registered when the command starts

    _cluster, job = _kuberay()
    entry = job["spec"]["entrypoint"]
    assert entry == DEMO_COMMAND
    argv = shlex.split(entry)
    assert argv[:2] == ["datasteward", "run"]
    group: Any = typer.main.get_command(app)
    run = group.get_command(None, "run")
    ctx = run.make_context("run", argv[2:])
    assert ctx.params["executor"] == "ray" and ctx.params["address"] == "auto"
    assert str(ctx.params["project"]) == "/data/news"
    assert DEMO_COMMAND in (ROOT / "docs" / "scale.md").read_text()
    assert (ROOT / "scripts" / "demo" / "news.toml").is_file()
