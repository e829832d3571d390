"""The production deployment files are valid and agree with the code (no Docker engine runs here,
so this is what checks them)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from a2p import search_attributes as sa
from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
A2P_SERVICES = ("worker", "service")


@pytest.fixture(scope="module")
def compose() -> dict:
    return YAML(typ="safe").load(COMPOSE.read_text())


def test_compose_file_validates_against_the_compose_specification():
    check = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(check), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependencies_exist_and_one_shot_jobs_gate_the_rest(compose):
    services = compose["services"]
    for name, svc in services.items():
        for dep, spec in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert spec["condition"] in ("service_started", "service_healthy", "service_completed_successfully")
    assert services["temporal"]["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    for name in A2P_SERVICES:
        assert services[name]["depends_on"]["temporal-namespace"]["condition"] == "service_completed_successfully"


def test_long_running_services_have_healthchecks_and_restart_policies(compose):
    for name in ("postgresql", "temporal", "worker", "service"):
        svc = compose["services"][name]
        assert "healthcheck" in svc and svc.get("restart") == "unless-stopped", name
    assert compose["services"]["postgresql"]["image"] == "postgres:16"
    assert "temporal-postgres" in compose["volumes"]


def test_worker_and_service_are_configured_only_by_known_settings(compose):
    fields = {name.upper() for name in Settings.model_fields}
    required = {name.upper() for name, f in Settings.model_fields.items() if f.is_required()}
    for name in A2P_SERVICES:
        svc = compose["services"][name]
        assert svc["build"] == "." and "volumes" not in svc  # the image, configured by env only
        env = set(svc["environment"])
        assert env <= fields, f"{name}: unknown settings {sorted(env - fields)}"
        assert required <= env, f"{name}: missing {sorted(required - env)}"


def test_env_example_names_only_known_settings():
    names = {line.split("=", 1)[0].lstrip("# ").strip() for line in (ROOT / ".env.example").read_text().splitlines()
             if re.match(r"^#? ?[A-Z][A-Z0-9_]+=", line)}
    known = {name.upper() for name in Settings.model_fields} | {"POSTGRES_USER", "POSTGRES_PASSWORD"}
    assert names <= known, sorted(names - known)


def test_one_shot_scripts_exist_and_register_every_search_attribute(compose):
    script = ROOT / "deploy" / "temporal" / "create-namespace.sh"
    assert os.access(script, os.X_OK) and os.access(ROOT / "deploy/temporal/setup-postgres.sh", os.X_OK)
    registered = set(re.search(r"for name in ([A-Za-z0-9 ]+);", script.read_text()).group(1).split())
    assert registered == {k.name for k in sa.ALL}
    assert "/deploy/setup-postgres.sh" in compose["services"]["temporal-schema"]["entrypoint"]


def test_readme_configuration_table_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("## Production")]
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in table]
    assert not missing, f"settings missing from the README's configuration table: {missing}"
