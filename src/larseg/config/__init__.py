"""Typed configs and their named presets.

Each kind of config is a dataclass owned by the part of the pipeline that uses
it (for example ``simulation`` -> :class:`larseg.simulation.config.SimulationConfig`).
Presets are YAML files shipped in ``larseg/config/presets/<kind>/<name>.yaml``;
a preset may start with ``extends: <other preset of the same kind>`` and then
give only the settings it changes.
"""

from __future__ import annotations

import importlib
from importlib import resources
from typing import Any

import yaml

from larseg.config.base import (  # noqa: F401  (re-exported API)
    deep_merge,
    from_dict,
    from_yaml,
    load_yaml,
    replace,
    to_dict,
    to_yaml,
)
from larseg.errors import ConfigError

#: kind -> "module:Class" of its config dataclass (imported on first use).
KINDS: dict[str, str] = {
    "simulation": "larseg.simulation.config:SimulationConfig",
    "model": "larseg.model.config:ModelConfig",
    "training": "larseg.train.config:TrainConfig",
}


def config_class(kind: str) -> type:
    if kind not in KINDS:
        raise ConfigError(f"unknown config kind '{kind}' (known: {', '.join(KINDS)})")
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def _preset_dir(kind: str):
    return resources.files("larseg.config").joinpath("presets", kind)


def list_presets(kind: str | None = None) -> dict[str, list[str]]:
    """Preset names by kind."""
    out = {}
    for k in ([kind] if kind else KINDS):
        d = _preset_dir(k)
        names = sorted(p.name[: -len(".yaml")] for p in d.iterdir() if p.name.endswith(".yaml")) if d.is_dir() else []
        out[k] = names
    return out


def _raw_preset(kind: str, name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    path = _preset_dir(kind).joinpath(f"{name}.yaml")
    if not path.is_file():
        known = ", ".join(list_presets(kind)[kind])
        raise ConfigError(f"no {kind} preset '{name}' (known: {known})")
    if name in seen:
        raise ConfigError(f"{kind} preset '{name}' extends itself via {' -> '.join(seen)}")
    data = yaml.safe_load(path.read_text()) or {}
    parent = data.pop("extends", None)
    if parent:
        data = deep_merge(_raw_preset(kind, parent, seen + (name,)), data)
    return data


def load_preset(kind: str, name: str):
    """The config object of preset ``name`` of ``kind``."""
    cls = config_class(kind)
    try:
        return from_dict(cls, _raw_preset(kind, name))
    except ConfigError as exc:
        raise ConfigError(f"{kind} preset '{name}': {exc}") from None


def resolve(kind: str, name_or_path: str):
    """A preset name, or a path to a YAML file of that kind of config."""
    if name_or_path.endswith((".yaml", ".yml")):
        return load_yaml(config_class(kind), name_or_path)
    return load_preset(kind, name_or_path)


def find_preset(name: str) -> tuple[str, str]:
    """``(kind, name)`` for ``kind/name`` or a name unique across kinds."""
    if "/" in name:
        kind, _, preset = name.partition("/")
        return kind, preset
    hits = [(k, name) for k, names in list_presets().items() if name in names]
    if not hits:
        raise ConfigError(f"no preset '{name}' (see 'larseg config list')")
    if len(hits) > 1:
        raise ConfigError(f"preset '{name}' exists for several kinds: " + ", ".join(f"{k}/{n}" for k, n in hits))
    return hits[0]


def provenance_yaml(config) -> str:
    """The YAML recorded in data files and checkpoints."""
    return yaml.safe_dump(to_dict(config), sort_keys=False)
