"""Typed configs and their named presets.

Each kind of config is a dataclass owned by the part of the pipeline that uses
it (for example ``simulation`` -> :class:`larseg.simulation.config.SimulationConfig`).
Presets are YAML files shipped in ``larseg/config/presets/<kind>/<name>.yaml``;
a preset (or a config file of one's own) may start with ``extends: <preset of the
same kind>`` and then give only the settings it changes.

A preset is named by a plain name (letters, digits, ``-``, ``_`` and ``.``; no path
separator, no ``..``) and is looked up only in its kind's presets directory. A
config file of one's own is given by its path, which must end in ``.yaml`` or
``.yml`` (:func:`resolve`).
"""

from __future__ import annotations

import importlib
import re
from importlib import resources
from typing import Any

import yaml

from larseg.config.base import (  # noqa: F401  (re-exported API)
    SettingError,
    deep_merge,
    from_dict,
    from_yaml,
    load_yaml,
    parse_yaml,
    read_yaml,
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


#: A preset name: no path separators and no "..", so it can only name a file of the presets directory.
_PRESET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_CONFIG_SUFFIXES = (".yaml", ".yml")


def check_preset_name(kind: str, name: str) -> str:
    """``name`` if it is a plain preset name, else a :class:`ConfigError` (it would name a file elsewhere)."""
    if not isinstance(name, str) or not _PRESET_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(f"{kind} preset {name!r}: not a preset name (preset names are plain names such as "
                          f"{', '.join(list_presets(kind)[kind][:3]) or 'mpv'}, without '/' or '..'; give a "
                          "config file of your own as a path ending in .yaml or .yml)")
    return name


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
    config_class(kind)
    check_preset_name(kind, name)
    path = _preset_dir(kind).joinpath(f"{name}.yaml")
    if not path.is_file():
        known = ", ".join(list_presets(kind)[kind])
        raise ConfigError(f"no {kind} preset '{name}' (known: {known})")
    if name in seen:
        raise ConfigError(f"{kind} preset '{name}' extends itself via {' -> '.join(seen)}")
    data = parse_yaml(path.read_text(), f"{kind} preset '{name}'", kind)
    parent = data.pop("extends", None)
    if parent:
        data = deep_merge(_raw_preset(kind, parent, seen + (name,)), data)
    return data


def load_preset(kind: str, name: str):
    """The config object of preset ``name`` of ``kind``."""
    cls = config_class(kind)
    data = _raw_preset(kind, name)
    try:
        return from_dict(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{kind} preset '{name}': {exc}") from None


def resolve(kind: str, name_or_path: str):
    """A preset name, or a path to a YAML file of that kind of config (it must end in .yaml or .yml).

    Anything else that is not a plain preset name (a path without that suffix, a name
    with '/' or '..') is refused: presets are only read from the presets directory.
    """
    if str(name_or_path).lower().endswith(_CONFIG_SUFFIXES):
        cls = config_class(kind)
        data = read_yaml(name_or_path, cls.__name__)
        parent = data.pop("extends", None)
        if parent is not None:  # a file may extend a shipped preset, as presets do
            try:
                data = deep_merge(_raw_preset(kind, parent), data)
            except ConfigError as exc:
                raise ConfigError(f"{name_or_path}: extends: {exc}") from None
        try:
            return from_dict(cls, data)
        except ConfigError as exc:
            raise ConfigError(f"{name_or_path}: {exc}") from None
    return load_preset(kind, name_or_path)


def find_preset(name: str) -> tuple[str, str]:
    """``(kind, name)`` for ``kind/name`` or a name unique across kinds."""
    if "/" in name:
        kind, _, preset = name.partition("/")
        config_class(kind)
        return kind, check_preset_name(kind, preset)
    hits = [(k, name) for k, names in list_presets().items() if name in names]
    if not hits:
        raise ConfigError(f"no preset '{name}' (see 'larseg config list')")
    if len(hits) > 1:
        raise ConfigError(f"preset '{name}' exists for several kinds: " + ", ".join(f"{k}/{n}" for k, n in hits))
    return hits[0]


def provenance_yaml(config) -> str:
    """The YAML recorded in data files and checkpoints."""
    return yaml.safe_dump(to_dict(config), sort_keys=False)
