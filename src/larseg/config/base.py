"""Typed configs: dataclasses that load from and dump to YAML.

A config class is a plain ``@dataclass`` whose fields have type hints and
defaults. :func:`from_dict` builds one from nested dicts (as read from YAML),
checking every key and type and naming the offending setting in its error;
:func:`to_dict` turns it back into plain data. Supported field types: ``bool``,
``int``, ``float``, ``str``, ``Literal[...]``, ``X | None``, ``tuple[...]``,
``list[X]``, ``dict[str, X]`` and nested config dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import yaml

from larseg.errors import ConfigError

T = TypeVar("T")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} is not {_type_name(tp)}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping of {tp.__name__} settings, got {value!r}")
        return _from_dict(tp, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {str(k): _convert(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise TypeError(f"unsupported config field type {tp!r} at {where}")


def _from_dict(cls: type[T], data: dict, where: str) -> T:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(
            f"unknown setting '{prefix}{unknown[0]}' (known: {', '.join(sorted(names))})"
        )
    kwargs = {}
    for name in names:
        if name in data:
            kwargs[name] = _convert(data[name], hints[name], f"{where}.{name}" if where else name)
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where or cls.__name__}: {exc}") from None
    return obj


def from_dict(cls: type[T], data: dict | None) -> T:
    """Build config class ``cls`` from nested plain data, checking every setting."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__}: expected a mapping of settings, got {data!r}")
    return _from_dict(cls, data, "")


def to_dict(obj: Any) -> Any:
    """Plain (YAML-safe) data for a config object."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    return obj


def to_yaml(obj: Any) -> str:
    return yaml.safe_dump(to_dict(obj), sort_keys=False, default_flow_style=None)


def from_yaml(cls: type[T], text: str, source: str = "<string>") -> T:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" (line {line + 1})" if line is not None else ""
        raise ConfigError(f"{source}: not valid YAML{at}") from None
    try:
        return from_dict(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_yaml(cls: type[T], path: str | Path) -> T:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    return from_yaml(cls, text, str(path))


def deep_merge(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``; nested mappings merge, everything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def replace(obj: T, **changes: Any) -> T:
    """A copy of config ``obj`` with dotted-path settings changed and re-validated.

    ``replace(cfg, **{"detector.noise_rms": 2.0})``.
    """
    data = to_dict(obj)
    for dotted, value in changes.items():
        node = data
        keys = dotted.split(".")
        for key in keys[:-1]:
            if not isinstance(node.get(key), dict):
                raise ConfigError(f"unknown setting '{dotted}'")
            node = node[key]
        if keys[-1] not in node:
            raise ConfigError(f"unknown setting '{dotted}'")
        node[keys[-1]] = value
    return from_dict(type(obj), data)
