"""deploy/kubernetes: every manifest valid for a fixed Kubernetes version, and in step with
docker-compose.yml and the gateway's nginx.conf.

Offline: kubernetes-validate carries the Kubernetes JSON schemas in its wheel. No cluster is
needed (none is on this machine: the manifests are validated, never applied here).
"""
from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from services.web.wsgi import create_app as web_app
from shared.config import SERVICES, Config
from tests.unit.test_compose_file import (
    ROOT,
    WEB,
    base_service,
    environment,
    healthcheck_text,
    interpolate,
    is_worker,
    locations,
    parse_nginx,
    values,
)

K8S = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes release the manifests are written for (its schema, strict: an unknown or
# misspelt field is an error, as `kubectl apply --validate=strict` makes it), and the newest the
# pinned kubernetes-validate knows (an API removed since would fail there).
KUBERNETES_VERSION = "1.30.0"
NEWEST_VERSION = "1.37.0"
SECRET_NAME = "dayofaction-secrets"
EXAMPLE_SECRET = "secret.example.yaml"
# Compose services with no counterpart: the S3 store is the operator's (docs/containers.md).
LEFT_TO_THE_OPERATOR = {"minio", "minio-setup"}
# An environment variable with one of these in its name holds a secret.
SECRET_VARIABLE = re.compile(r"PASSWORD|SECRET|KEY|DATABASE_URL")
WORKLOADS = ("Deployment", "StatefulSet")


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


@pytest.fixture(scope="module")
def resources(kustomization) -> list[dict]:
    """What `kubectl apply -k deploy/kubernetes` applies."""
    found = [doc for name in kustomization["resources"] for doc in documents(K8S / name)]
    assert found
    return found


@pytest.fixture(scope="module")
def compose_services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def by_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in resources if doc["kind"] == kind}


def workloads(resources: list[dict]) -> dict[str, dict]:
    found = {}
    for kind in WORKLOADS:
        found.update(by_kind(resources, kind))
    return found


def container(workload: dict) -> dict:
    (only,) = workload["spec"]["template"]["spec"]["containers"]
    return only


def env_sources(workload: dict, resources: list[dict]) -> dict[str, tuple[str, object]]:
    """Each variable the container gets -> ("value", text), ("secret", key), ("configmap", text)."""
    configmaps = by_kind(resources, "ConfigMap")
    c = container(workload)
    found: dict[str, tuple[str, object]] = {}
    for source in c.get("envFrom", []):
        assert "secretRef" not in source, "a whole Secret as environment: name each key"
        data = configmaps[source["configMapRef"]["name"]]["data"]
        found.update({key: ("configmap", value) for key, value in data.items()})
    for var in c.get("env", []):
        if "value" in var:
            found[var["name"]] = ("value", var["value"])
        elif "secretKeyRef" in var["valueFrom"]:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["name"] == SECRET_NAME, var
            found[var["name"]] = ("secret", ref["key"])
        else:
            ref = var["valueFrom"]["configMapKeyRef"]
            found[var["name"]] = ("configmap", configmaps[ref["name"]]["data"][ref["key"]])
    return found


def probe_path(probe: dict) -> str:
    assert probe["httpGet"]["port"] in ("http", 8000), probe
    return probe["httpGet"]["path"]


# --- valid ---------------------------------------------------------------------------------

def test_the_kustomization_lists_every_manifest_but_the_example_secret(kustomization):
    listed = set(kustomization["resources"])
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert EXAMPLE_SECRET not in listed, "kubectl apply -k would apply the placeholder secrets"
    assert listed == on_disk - {EXAMPLE_SECRET}, f"listed {sorted(listed)}, on disk {sorted(on_disk)}"


@pytest.mark.parametrize("version", [KUBERNETES_VERSION, NEWEST_VERSION])
@pytest.mark.parametrize("path", sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"))
def test_every_manifest_is_valid_for_the_kubernetes_version(path, version):
    docs = documents(K8S / path)
    assert docs, f"{path} holds no object"
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path}: {doc['kind']} {doc['metadata'].get('name')}: {exc.message} at {exc.path}")


def test_the_validator_refuses_a_broken_manifest():
    """The schemas are really applied: a misspelt field and a wrong type are errors."""
    deployment = by_kind(documents(K8S / "events.yaml"), "Deployment")["events"]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    container(broken)["ports"][0]["containerPort"] = "eight thousand"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")
def test_kustomize_builds_the_platform(resources):
    built = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    objects = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in objects) == \
        sorted((d["kind"], d["metadata"]["name"]) for d in resources)
    for doc in objects:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


# --- the same topology as docker-compose.yml -------------------------------------------------

def test_every_compose_service_runs_with_the_same_command(compose_services, resources):
    found = workloads(resources)
    for name, service in compose_services.items():
        if name in LEFT_TO_THE_OPERATOR or name == "gateway":
            continue
        assert name in found, f"compose service {name!r} has no Deployment or StatefulSet"
        c = container(found[name])
        if "command" in service:
            assert c.get("command") == service["command"], name
        assert c["image"].split(":")[0] == service["image"].split(":")[0], name
    assert "gateway" in found
    assert not set(found) - set(compose_services), "a workload docker-compose.yml does not have"


def test_the_workers_compete_on_their_queue_and_the_stores_keep_their_data(resources):
    found = workloads(resources)
    for name in SERVICES:
        worker = found[f"{name}-worker"]
        assert worker["kind"] == "Deployment"
        assert worker["spec"]["replicas"] >= 2, f"{name}-worker: one replica is no competing consumer"
    for name, flag in (("redis", "--appendonly"), ("postgres", None)):
        store = found[name]
        assert store["kind"] == "StatefulSet", name
        (claim,) = store["spec"]["volumeClaimTemplates"]
        assert claim["metadata"]["name"] in {m["name"] for m in container(store)["volumeMounts"]}, name
        if flag:
            command = container(store)["command"]
            assert command[command.index(flag) + 1] == "yes"
            assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_the_environment_is_the_compose_files(compose_services, resources):
    """Every variable compose gives a container, Kubernetes gives it too; the addresses agree."""
    found = workloads(resources)
    for name, service in compose_services.items():
        if name in LEFT_TO_THE_OPERATOR or name == "gateway":
            continue
        wanted = environment(service)
        given = env_sources(found[name], resources)
        assert set(wanted) <= set(given), f"{name}: missing {sorted(set(wanted) - set(given))}"
        for var in ("BUS_URL", "JWKS_URL", "RATE_LIMIT_STORAGE_URL", "PROXY_HOPS", "FORWARDED_ALLOW_IPS",
                    "WEB_API_URL", "MEDIA_STORAGE_URL", "WORKER_HEARTBEAT_FILE", "LOG_FORMAT"):
            if var in wanted:
                assert given[var][1] == interpolate(wanted[var]), f"{name}: {var} {given[var]} vs {wanted[var]}"


def test_postgres_makes_the_same_databases_as_the_compose_stack(resources):
    init = by_kind(resources, "ConfigMap")["postgres-init"]["data"]
    assert list(init.values()) == [(ROOT / "deploy" / "postgres-init.sql").read_text()]
    postgres = workloads(resources)["postgres"]
    mounts = {m["name"]: m["mountPath"] for m in container(postgres)["volumeMounts"]}
    volumes = {v["name"]: v for v in postgres["spec"]["template"]["spec"]["volumes"]}
    init_volume = next(n for n, v in volumes.items() if v.get("configMap", {}).get("name") == "postgres-init")
    assert mounts[init_volume] == "/docker-entrypoint-initdb.d"


def normalized_nginx(text: str) -> list:
    """nginx.conf's directives, but for what differs on purpose in Kubernetes: the port, Docker's
    resolver, and an upstream named through a variable (`set` then `proxy_pass $var`)."""
    def walk(directives: list) -> list:
        variables = {args[0]: args[1] for name, args, _ in directives if name == "set"}
        out = []
        for name, args, children in directives:
            if name in ("resolver", "set", "listen"):
                continue
            if name == "proxy_pass":
                args = [variables.get(args[0], args[0])]
            out.append((name, args, walk(children) if children is not None else None))
        return out
    return walk(parse_nginx(text))


def test_the_gateway_routes_as_the_compose_stacks_does(resources):
    conf = by_kind(resources, "ConfigMap")["gateway-nginx"]["data"]["default.conf"]
    compose_conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert normalized_nginx(conf) == normalized_nginx(compose_conf), \
        "deploy/kubernetes/gateway.yaml's nginx.conf differs from deploy/nginx.conf"
    (server,) = [children for name, _, children in parse_nginx(conf) if name == "server"]
    assert not values(server, "resolver"), "a resolver does not apply the pod's search domains"
    for path, location in locations(server).items():
        assert not values(location, "set"), f"{path}: an upstream in a variable needs a resolver"
    gateway = workloads(resources)["gateway"]
    (listen,) = values(server, "listen")
    assert container(gateway)["ports"][0]["containerPort"] == int(listen[0])
    (port,) = by_kind(resources, "Service")["gateway"]["spec"]["ports"]
    assert port["targetPort"] == container(gateway)["ports"][0]["name"]


def test_every_workload_has_a_service_where_it_is_reached(resources):
    services = by_kind(resources, "Service")
    for name in (*SERVICES, WEB, "redis", "postgres", "gateway"):
        selector = services[name]["spec"]["selector"]
        labels = workloads(resources)[name]["spec"]["template"]["metadata"]["labels"]
        assert services[name]["spec"]["type"] == "ClusterIP", name
        assert selector.items() <= labels.items(), f"Service {name} selects no pod of {name}"
    for name in SERVICES:
        assert f"{name}-worker" not in services, "a worker takes no request"
        worker_labels = workloads(resources)[f"{name}-worker"]["spec"]["template"]["metadata"]["labels"]
        assert not services[name]["spec"]["selector"].items() <= worker_labels.items(), \
            f"Service {name} would send requests to its worker"


# --- probes ------------------------------------------------------------------------------------

def test_every_web_process_has_liveness_and_readiness_probes(resources):
    found = workloads(resources)
    for name in (*SERVICES, WEB):
        c = container(found[name])
        prefix = "" if name == WEB else f"/api/{name}"
        assert probe_path(c["livenessProbe"]) == f"{prefix}/healthz", name
        assert probe_path(c["readinessProbe"]) == f"{prefix}/readyz", name


def test_the_probes_ask_what_the_apps_answer(resources, tmp_path):
    """Each web Deployment's probe paths, asked of its app: alive, and ready once its database
    is migrated and its bus answers; the site is not ready while the services do not answer."""
    found = workloads(resources)
    for name in SERVICES:
        c = container(found[name])
        app = importlib.import_module(f"services.{name}.app").create_app(Config(environ={
            "DOA_VAR_DIR": str(tmp_path), "BUS_URL": "memory://", "LOG_LEVEL": "WARNING",
            "JWKS_URL": "http://127.0.0.1:9/jwks.json"}))
        client = app.test_client()
        assert client.get(probe_path(c["livenessProbe"])).status_code == 200, name
        ready = client.get(probe_path(c["readinessProbe"]))
        assert ready.status_code == 200 and ready.get_json()["status"] == "ready", (name, ready.get_json())
    c = container(found[WEB])
    site = web_app(Config(environ={"DOA_VAR_DIR": str(tmp_path), "LOG_LEVEL": "CRITICAL",
                                   "WEB_API_URL": "http://127.0.0.1:9"})).test_client()
    assert site.get(probe_path(c["livenessProbe"])).status_code == 200
    assert site.get(probe_path(c["readinessProbe"])).status_code == 503  # no service answers on :9


def test_the_workers_are_alive_while_their_heartbeat_is_fresh(compose_services, resources):
    found = workloads(resources)
    for name in SERVICES:
        worker = f"{name}-worker"
        c = container(found[worker])
        for probe in ("startupProbe", "livenessProbe"):
            shell, flag, script = c[probe]["exec"]["command"]
            assert (shell, flag) == ("sh", "-c")
            assert script == interpolate(healthcheck_text(compose_services[worker])), (worker, probe)
        assert env_sources(found[worker], resources)["WORKER_HEARTBEAT_FILE"] == ("value", "/tmp/worker-heartbeat")
        assert "readinessProbe" not in c and is_worker(worker) and base_service(worker) == name


# --- secrets and privileges --------------------------------------------------------------------

def test_no_secret_is_written_into_a_manifest(resources):
    secret_keys = set(documents(K8S / EXAMPLE_SECRET)[0]["stringData"]) | {"REGISTRY_SIGNING_KEY"}
    assert not by_kind(resources, "Secret"), "a Secret in the applied manifests: its values would be in git"
    for name, data in ((n, c["data"]) for n, c in by_kind(resources, "ConfigMap").items()):
        leaked = [key for key in data if SECRET_VARIABLE.search(key)]
        assert not leaked, f"ConfigMap {name} holds {leaked}"
    for name, workload in workloads(resources).items():
        for var, (source, value) in env_sources(workload, resources).items():
            if SECRET_VARIABLE.search(var):
                assert source == "secret", f"{name}: {var} is not read from the Secret"
            if source == "secret":
                assert value in secret_keys, f"{name}: {var} reads {value!r}, which secret.example.yaml lacks"


def test_the_example_secret_holds_placeholders_only():
    (secret,) = documents(K8S / EXAMPLE_SECRET)
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == SECRET_NAME
    assert "data" not in secret
    for key, value in secret["stringData"].items():
        assert "CHANGE-ME" in value, f"secret.example.yaml: {key} looks like a real value"


def test_every_container_runs_without_root_or_capabilities(resources):
    for name, workload in workloads(resources).items():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod.get("automountServiceAccountToken") is False, name
        for c in pod["containers"]:
            security = c["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"] and "add" not in security["capabilities"], name
            assert security["readOnlyRootFilesystem"] is True, name
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            if c["image"].startswith("dayofaction"):
                # What the image writes: XDG_RUNTIME_DIR and temporary files, and DOA_VAR_DIR.
                assert {"/tmp", "/app/var"} <= mounts, f"{name} cannot write {mounts}"
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"], name
