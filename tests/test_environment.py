"""pyproject, requirements.lock and environment.yml name the same packages at the same versions."""

from __future__ import annotations

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import ROOT


def direct_dependencies() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["test"]
    return {canonicalize_name(r.name): r for r in map(Requirement, specs)}


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        name, _, version = line.strip().partition("==")
        if version:
            pins[canonicalize_name(name)] = version
    return pins


def conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for entry in env["dependencies"]:
        items = entry["pip"] if isinstance(entry, dict) else [entry]
        for item in items:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*==?\s*([0-9][^\s]*)", item)
            if match:
                pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_lock_pins_every_direct_dependency_inside_its_range():
    pins = locked()
    for name, requirement in direct_dependencies().items():
        assert name in pins, f"{name} is in pyproject but not pinned in requirements.lock"
        assert Version(pins[name]) in requirement.specifier, f"{name}=={pins[name]} is outside {requirement}"


def test_environment_yml_matches_the_lock():
    pins, conda = locked(), conda_pins()
    for name in direct_dependencies():
        assert conda.get(name) == pins[name], f"environment.yml pins {name} at {conda.get(name)}, the lock at {pins[name]}"
    assert conda.pop("python").startswith("3.11")
    extra = set(conda) - set(direct_dependencies()) - {"pip"}
    assert not extra, f"environment.yml names packages pyproject does not: {extra}"


def test_nbgrader_and_jupyterlab_pins_hold():
    pins = locked()
    assert Version("0.9") <= Version(pins["nbgrader"]) < Version("0.10"), "older nbgrader silently breaks Lab 4"
    assert Version("4.5") <= Version(pins["jupyterlab"]) < Version("5")
