"""deploy/kubernetes/ renders, every object is valid, and the manifests run what the code has.

Every overlay is rendered with `kubectl kustomize` (in a copy of the tree whose
git-ignored secret env files are filled with placeholders from their .example),
each object is validated offline against the Kubernetes schemas
(kubernetes-validate) or, for the operators' kinds, against the required fields of
a small schema of our own, and every name an object refers to must be in the
rendered output (or be made by an operator from an object that is).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from launcher.kubernetes import TOWNS_DIR, differences, write
from launcher.registry import SERVICE_KINDS
from soesmart.config import Settings
from soesmart.towns import DEFAULT_TOWNS_FILE, load_towns, towns

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(p.parent.name for p in (KUBERNETES / "overlays").glob("*/kustomization.yaml"))
KUBERNETES_VERSION = "1.32.0"  # the kubectl on the project's machines

# Custom resources: their operators' CRDs are not in the Kubernetes schemas, so their
# required fields are checked here (RabbitMQ Cluster Operator, CloudNativePG >= 1.25).
_NAMED = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
CRD_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): {
        "type": "object", "required": ["metadata", "spec"],
        "properties": {"metadata": _NAMED, "spec": {
            "type": "object", "required": ["replicas"],
            "properties": {"replicas": {"type": "integer", "minimum": 1}}}},
    },
    ("postgresql.cnpg.io/v1", "Cluster"): {
        "type": "object", "required": ["metadata", "spec"],
        "properties": {"metadata": _NAMED, "spec": {
            "type": "object", "required": ["instances", "storage"],
            "properties": {"instances": {"type": "integer", "minimum": 1},
                           "storage": {"type": "object", "required": ["size"]}}}},
    },
    ("postgresql.cnpg.io/v1", "Database"): {
        "type": "object", "required": ["metadata", "spec"],
        "properties": {"metadata": _NAMED, "spec": {
            "type": "object", "required": ["name", "owner", "cluster"],
            "properties": {"name": {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"},
                           "owner": {"type": "string"}, "cluster": _NAMED}}},
    },
}
# What the operators create from their objects, which the manifests use by name.
OPERATOR_SECRET_KEYS = {"username", "password"}


def operator_secrets(objects: list[dict]) -> set[str]:
    names = {f"{o['metadata']['name']}-default-user" for o in of_kind(objects, "RabbitmqCluster")}
    return names | {f"{o['metadata']['name']}-app" for o in of_kind(objects, "Cluster")}


def operator_pods(objects: list[dict]) -> list[dict[str, str]]:
    pods = [{"app.kubernetes.io/name": o["metadata"]["name"], "app.kubernetes.io/component": "rabbitmq",
             "app.kubernetes.io/part-of": "rabbitmq"} for o in of_kind(objects, "RabbitmqCluster")]
    return pods + [{"cnpg.io/cluster": o["metadata"]["name"], "cnpg.io/podRole": "instance"}
                   for o in of_kind(objects, "Cluster")]


def kubectl() -> str:
    exe = shutil.which("kubectl")
    if exe is None:
        pytest.skip("kubectl is not installed (it renders the Kustomize overlays)")
    return exe


def copy_with_placeholder_secrets(destination: Path) -> Path:
    """The tree, each secret env file written over from its .example (a real one is never read)."""
    tree = destination / "kubernetes"
    shutil.copytree(KUBERNETES, tree)
    for kustomization in tree.rglob("kustomization.yaml"):
        for generator in yaml.safe_load(kustomization.read_text()).get("secretGenerator", []):
            for env in generator.get("envs", []):
                example = kustomization.parent / (env + ".example")
                assert example.exists(), f"{env} of {kustomization} has no {example.name}"
                keys = [line.split("=", 1)[0] for line in example.read_text().splitlines()
                        if line.strip() and not line.startswith("#")]
                (kustomization.parent / env).write_text(
                    "".join(f"{key}=placeholder-{key.lower()}\n" for key in keys))
    return tree


def render(tree: Path, overlay: str) -> list[dict]:
    result = subprocess.run([kubectl(), "kustomize", str(tree / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def objects(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return render(copy_with_placeholder_secrets(tmp_path_factory.mktemp("k8s")), request.param)


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in of_kind(objects, kind)}


def pod_templates(objects: list[dict]) -> Iterator[tuple[dict, dict]]:
    for o in objects:
        if o["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            yield o, o["spec"]["template"]


def containers(template: dict) -> list[dict]:
    return template["spec"].get("initContainers", []) + template["spec"]["containers"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def all_pod_labels(objects: list[dict]) -> list[dict[str, str]]:
    return [t["metadata"]["labels"] for _, t in pod_templates(objects)] + operator_pods(objects)


def deployment_of(objects: list[dict], component: str, town: str | None = None) -> list[dict]:
    return [d for d in of_kind(objects, "Deployment")
            if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == component
            and d["spec"]["template"]["metadata"]["labels"].get("soesmart.town") == town]


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


# --------------------------------------------------------------------------- the generator
def test_there_is_an_overlay_to_render() -> None:
    assert OVERLAYS, "no overlay under deploy/kubernetes/overlays/"


def test_the_committed_towns_part_is_what_the_generator_writes_from_the_towns_file() -> None:
    assert differences(DEFAULT_TOWNS_FILE) == [], "run `soesmart kubernetes-towns`"


def test_a_town_added_to_the_towns_file_gets_its_objects_from_the_generator(tmp_path: Path) -> None:
    towns_file = tmp_path / "towns.toml"
    towns_file.write_text(DEFAULT_TOWNS_FILE.read_text() + '\n[[town]]\nslug = "lennestadt"\n'
                          'name = "Lennestadt"\npopulation = 25000\npostcodes = ["57368"]\n')
    tree = copy_with_placeholder_secrets(tmp_path)
    generated = tree / TOWNS_DIR.relative_to(KUBERNETES)
    assert differences(towns_file, generated) != []  # the committed one has no Lennestadt
    write(towns_file, generated)
    assert differences(towns_file, generated) == []
    objects = render(tree, OVERLAYS[0])
    [deployment] = deployment_of(objects, "participation", "lennestadt")
    assert env_of(deployment["spec"]["template"]["spec"]["containers"][0])["SOESMART_TOWN"]["value"] \
        == "lennestadt"
    assert "participation_lennestadt" in {d["spec"]["name"] for d in of_kind(objects, "Database")}
    [towns_map] = [c for c in of_kind(objects, "ConfigMap") if "towns.toml" in c["data"]]
    assert "lennestadt" in load_towns_text(towns_map["data"]["towns.toml"], tmp_path).slugs


def load_towns_text(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "rendered-towns.toml"
    path.write_text(text)
    return load_towns(path)


# --------------------------------------------------------------------------- schemas
def test_every_object_is_valid_against_its_schema(objects: list[dict]) -> None:
    for o in objects:
        key = (o["apiVersion"], o["kind"])
        where = f"{o['kind']}/{o['metadata']['name']}"
        if key in CRD_SCHEMAS:
            jsonschema.validate(o, CRD_SCHEMAS[key])
            continue
        try:
            kubernetes_validate.validate(o, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{where}: {exc.message} at {'/'.join(map(str, exc.path))}")


# --------------------------------------------------------------------------- what the code has
def test_every_service_kind_and_every_town_has_its_deployment(objects: list[dict]) -> None:
    for kind in SERVICE_KINDS:
        if kind == "participation":
            continue
        [deployment] = deployment_of(objects, kind)
        assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == [kind]
    participation = [d for d in of_kind(objects, "Deployment") if
                     d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
                     == "participation"]
    assert sorted(d["spec"]["template"]["metadata"]["labels"]["soesmart.town"] for d in participation) \
        == sorted(towns().slugs)
    for town in towns():
        [deployment] = deployment_of(objects, "participation", town.slug)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["participation", "--town", "$(SOESMART_TOWN)"]
        assert env_of(container)["SOESMART_TOWN"]["value"] == town.slug


def test_no_deployment_runs_something_the_code_does_not_have(objects: list[dict]) -> None:
    for deployment in of_kind(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] in SERVICE_KINDS, deployment["metadata"]["name"]
        if "soesmart.town" in labels:
            assert labels["soesmart.town"] in towns(), deployment["metadata"]["name"]


def test_every_instance_has_its_database_on_the_cluster_the_urls_name(objects: list[dict]) -> None:
    clusters = named(objects, "Cluster")
    databases = {d["spec"]["name"]: d for d in of_kind(objects, "Database")}
    for _, template in pod_templates(objects):
        container = template["spec"]["containers"][0]
        env = env_of(container)
        url_template = env["SOESMART_DATABASE_URL_TEMPLATE"]["value"]
        kind = container["args"][0] if container.get("args") else None
        if kind not in SERVICE_KINDS:
            continue
        town = env.get("SOESMART_TOWN", {}).get("value")
        settings = Settings(database_url=None, database_url_template=url_template, town=town)
        url = settings.database_url_for(kind)
        database = url.rsplit("/", 1)[1]
        assert database in databases, f"no Database object for {database}"
        host = re.search(r"@([^:/]+)", url).group(1)  # type: ignore[union-attr]
        cluster = databases[database]["spec"]["cluster"]["name"]
        assert host == f"{cluster}-rw" and cluster in clusters, url
        owner = clusters[cluster]["spec"]["bootstrap"]["initdb"]["owner"]
        assert databases[database]["spec"]["owner"] == owner, database
    expected = {"measures", "notifications", "gateway"} | {
        Settings(town=t.slug).instance_name("participation") for t in towns()}
    assert set(databases) == expected


def test_every_process_has_meaningful_probes_and_measured_resources(objects: list[dict]) -> None:
    for deployment, template in pod_templates(objects):
        if deployment["kind"] != "Deployment":
            continue
        container = template["spec"]["containers"][0]
        kind = container["args"][0]
        name = deployment["metadata"]["name"]
        for probe in ("livenessProbe", "readinessProbe"):
            assert probe in container, f"{name} has no {probe}"
        ready = container["readinessProbe"]["exec"]["command"]
        assert ready == ["python", "-m", "launcher.probe", "ready", kind], name
        if kind == "gateway":
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        else:
            assert container["livenessProbe"]["exec"]["command"] == [
                "python", "-m", "launcher.probe", "live", kind], name
        resources = container["resources"]
        assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}, name


def test_the_probe_command_knows_every_kind_the_manifests_name() -> None:
    from launcher.probe import KINDS

    assert set(KINDS) == set(SERVICE_KINDS)


def test_the_gateway_scales_and_every_deployment_has_a_disruption_budget(objects: list[dict]) -> None:
    [gateway] = deployment_of(objects, "gateway")
    assert gateway["spec"]["replicas"] >= 2
    [hpa] = of_kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == gateway["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2
    budgets = of_kind(objects, "PodDisruptionBudget")
    for deployment in of_kind(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if selects(b["spec"]["selector"]["matchLabels"], labels)]
        assert len(matching) == 1, deployment["metadata"]["name"]


def test_only_the_gateway_is_reachable_and_services_speak_only_to_broker_and_database(
    objects: list[dict],
) -> None:
    policies = of_kind(objects, "NetworkPolicy")
    broker = operator_pods(objects)[0]
    for _, template in pod_templates(objects):
        labels = template["metadata"]["labels"]
        mine = [p for p in policies if selects(p["spec"]["podSelector"]["matchLabels"], labels)]
        assert len(mine) == 1, labels
        [policy] = mine
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        component = labels["app.kubernetes.io/component"]
        if component == "gateway":
            assert [port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]] == [8000]
        else:
            assert policy["spec"]["ingress"] == [], component
        ports = {port["port"] for rule in policy["spec"]["egress"] for port in rule["ports"]}
        allowed = {53, 5432} | ({5672} if component != "migrate" else set()) | (
            {25, 465, 587} if component == "notifications" else set())
        assert ports == allowed, component
        for rule in policy["spec"]["egress"]:
            for peer in rule["to"]:
                if "ipBlock" in peer:
                    assert component == "notifications"
                elif "namespaceSelector" not in peer:  # in this namespace: broker or database
                    assert any(selects(peer["podSelector"]["matchLabels"], pod)
                               for pod in operator_pods(objects)), peer
    assert any(selects(p["spec"]["podSelector"]["matchLabels"], broker) for p in policies)


# --------------------------------------------------------------------------- names resolve
def test_every_name_an_object_refers_to_exists(objects: list[dict]) -> None:
    config_maps, secrets = named(objects, "ConfigMap"), named(objects, "Secret")
    made_by_operators = operator_secrets(objects)
    for owner, template in pod_templates(objects):
        where = f"{owner['kind']}/{owner['metadata']['name']}"
        for volume in template["spec"].get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, where
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets, where
        volume_names = {v["name"] for v in template["spec"].get("volumes", [])}
        for container in containers(template):
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volume_names, where
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, where
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, where
            defined: set[str] = set()
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                found = config_maps.get(ref["name"]) or secrets.get(ref["name"])
                defined |= set((found or {}).get("data", {}))
            for env in container.get("env", []):
                key_ref = env.get("valueFrom", {}).get("secretKeyRef")
                if key_ref:
                    if key_ref["name"] in secrets:
                        assert key_ref["key"] in secrets[key_ref["name"]]["data"], where
                    else:
                        assert key_ref["name"] in made_by_operators, f"{where}: {key_ref['name']}"
                        assert key_ref["key"] in OPERATOR_SECRET_KEYS, where
                for var in re.findall(r"\$\((\w+)\)", env.get("value", "")):
                    assert var in defined, f"{where}: {env['name']} uses $({var}) before it is set"
                defined.add(env["name"])
            for arg in container.get("args", []) + container.get("command", []):
                for var in re.findall(r"\$\((\w+)\)", arg):
                    assert var in defined, f"{where}: {arg}"
    pods = all_pod_labels(objects)
    services = named(objects, "Service")
    for service in services.values():
        assert any(selects(service["spec"]["selector"], pod) for pod in pods), service["metadata"]["name"]
    for ingress in of_kind(objects, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] in services
                ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in ports
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] in named(objects, hpa["spec"]["scaleTargetRef"]["kind"])
    for budget in of_kind(objects, "PodDisruptionBudget"):
        assert any(selects(budget["spec"]["selector"]["matchLabels"], pod) for pod in pods), \
            budget["metadata"]["name"]
    for policy in of_kind(objects, "NetworkPolicy"):
        name = policy["metadata"]["name"]
        assert any(selects(policy["spec"]["podSelector"]["matchLabels"], pod) for pod in pods), name
        rules = policy["spec"].get("ingress", []) + policy["spec"].get("egress", [])
        for rule in rules:
            for peer in rule.get("from", []) + rule.get("to", []):
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    assert any(selects(peer["podSelector"]["matchLabels"], pod) for pod in pods), name
    for database in of_kind(objects, "Database"):
        assert database["spec"]["cluster"]["name"] in named(objects, "Cluster")
