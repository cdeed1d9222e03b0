"""Typed configs: dataclasses that load from and dump to YAML.

A config class is a plain ``@dataclass`` whose fields have type hints and
defaults. :func:`from_dict` builds one from nested dicts (as read from YAML),
checking every key and type and naming the offending setting in its error;
:func:`to_dict` turns it back into plain data. Supported field types: ``bool``,
``int``, ``float``, ``str``, ``Literal[...]``, ``X | None``, ``tuple[...]``,
``list[X]``, ``dict[str, X]`` and nested config dataclasses.

Every number is checked on the way in: a ``float`` setting must be finite (no
``.nan`` or ``.inf``) and an ``int`` one must fit in 64 bits. What a setting may
be beyond its type (positive, a fraction, an ordered range, ...) is checked by
the config class's ``__post_init__`` with the helpers below (:func:`require`,
:func:`require_ordered`, :func:`require_finite`), which raise
:class:`SettingError`; :func:`from_dict` reports it as one line that names the
setting by its full dotted path, e.g. ``detector.response.gain_scale: must be a
finite number, got nan``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import yaml

from larseg.errors import ConfigError

T = TypeVar("T")

#: Seeds lie in [0, SEED_LIMIT): they are stored as signed 64-bit integers (the run id of
#: every event of a larcv3 file is the seed; torch and numpy take them as 64-bit values).
SEED_LIMIT = 2**63
#: Every integer setting must fit in a signed 64-bit integer (numpy and torch use int64).
INT64_LIMIT = 2**63


# --- checks of a setting's value


class SettingError(ValueError):
    """Setting ``name`` of a config object has a value it may not have.

    Raised by the ``__post_init__`` of config classes (through :func:`require` and its
    siblings); :func:`from_dict` turns it into a :class:`ConfigError` naming the whole
    dotted path (``generator.mixes[0].multiplicity: ...``). It is a ``ValueError``, so
    building a config class directly with a bad value raises ``ValueError``.
    """

    def __init__(self, name: str, problem: str):
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


def _fmt(bound: float) -> str:
    if isinstance(bound, int) and bound >= 2**32 and bound & (bound - 1) == 0:
        return f"2**{bound.bit_length() - 1}"
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def value_problem(value: Any, low: float | None = None, high: float | None = None, *, low_open: bool = False,
                  high_open: bool = False, integer: bool = False) -> str | None:
    """Why ``value`` is not a finite number in the range ``low``..``high`` (None when it is).

    The range is closed unless ``low_open`` / ``high_open``; a missing bound is no limit.
    """
    if integer and (not _is_number(value) or not isinstance(value, numbers.Integral)):
        return f"must be an integer, got {value!r}"
    if not _is_number(value):
        return f"must be a number, got {value!r}"
    if not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if not (below or above):
        return None
    if low is not None and high is not None:
        want = f"in {'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"
    elif low is not None:
        want = f"{'>' if low_open else '>='} {_fmt(low)}"
    else:
        want = f"{'<' if high_open else '<='} {_fmt(high)}"
    return f"must be {want}, got {value!r}"


def _values(obj: Any, name: str) -> list[tuple[str, Any]]:
    """``(label, value)`` of setting ``name``: the value itself, or each element of a tuple/list."""
    value = getattr(obj, name)
    if isinstance(value, (tuple, list)):
        return [(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return [(name, value)]


def require(obj: Any, *names: str, low: float | None = None, high: float | None = None, low_open: bool = False,
            high_open: bool = False, integer: bool = False, why: str = "") -> None:
    """Settings ``names`` of ``obj`` (numbers, or tuples/lists of numbers: every element) are finite
    and in ``low``..``high`` (see :func:`value_problem`); else :class:`SettingError`.

    ``why`` is added to the message in parentheses (the reason for a bound).
    """
    for name in names:
        for label, value in _values(obj, name):
            problem = value_problem(value, low, high, low_open=low_open, high_open=high_open, integer=integer)
            if problem:
                raise SettingError(label, f"{problem} ({why})" if why else problem)


def require_ordered(obj: Any, *names: str, low: float | None = None, high: float | None = None,
                    strict: bool = False, integer: bool = False, why: str = "") -> None:
    """Settings ``names`` of ``obj`` are ranges ``(a, b)``: finite, within ``low``..``high``, and
    ``a <= b`` (``a < b`` when ``strict``); else :class:`SettingError`."""
    require(obj, *names, low=low, high=high, integer=integer, why=why)
    for name in names:
        value = getattr(obj, name)
        if len(value) != 2:
            raise SettingError(name, f"must be a range [low, high], got {list(value)}")
        a, b = value
        if a > b or (strict and a == b):
            raise SettingError(name, f"must be a range [low, high] with low {'<' if strict else '<='} high, "
                                     f"got [{a!r}, {b!r}]")


def require_finite(obj: Any) -> None:
    """Every ``float`` setting of dataclass ``obj`` (and every float in a tuple/list setting) is finite.

    :func:`from_dict` refuses NaN and infinity already; this covers a config built in Python.
    """
    for f in dataclasses.fields(obj):
        for label, value in _values(obj, f.name):
            if isinstance(value, float) and not math.isfinite(value):
                raise SettingError(label, f"must be a finite number, got {value!r}")


def check_option(value: int, option: str, low: int, high: int, *, high_open: bool = False, why: str = "") -> int:
    """``value`` of command-line ``option`` if it is an integer in [low, high] (``high`` excluded when
    ``high_open``), else a one-line :class:`ConfigError` (``--seed: must be in [0, 2**63), got ...``)."""
    problem = value_problem(value, low, high, high_open=high_open, integer=True)
    if problem:
        raise ConfigError(f"{option}: {problem}" + (f" ({why})" if why else ""))
    return value


# --- machine resources


def available_cpus() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one, else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def note(message: str) -> None:
    """A one-line note on stderr (``larseg: note: ...``), e.g. that a setting was capped."""
    print(f"larseg: note: {message}", file=sys.stderr, flush=True)


def cap_workers(requested: int, tasks: int, what: str, *, per_cpu: int = 1, unit: str = "tasks") -> int:
    """``requested`` worker processes, lowered to ``tasks`` (more would idle) and to ``per_cpu`` times
    :func:`available_cpus` (more only add load), with a one-line :func:`note` when lowered.

    ``what`` names the setting in the note (``--workers``, ``num_workers``).
    """
    cpus = available_cpus()
    limit = max(1, min(tasks, per_cpu * cpus))
    if requested <= limit:
        return requested
    reasons = []
    if tasks < requested:
        reasons.append(f"{tasks} {unit}")
    if per_cpu * cpus < requested:
        reasons.append(f"{cpus} CPU core{'s' if cpus != 1 else ''}" + (f" x {per_cpu}" if per_cpu != 1 else ""))
    note(f"{what} {requested} lowered to {limit} ({', '.join(reasons)})")
    return limit


def parse_value(text: str, where: str) -> Any:
    """A setting's value given as YAML text (``--set key=value``): plain YAML data only.

    Tags that make objects (``!!python/...``) and malformed YAML give a one-line
    :class:`ConfigError` naming ``where``.
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            problem = "YAML tags such as !!python/... are not allowed; give a plain value (number, string, list)"
        raise ConfigError(f"{where}: {problem}") from None


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


#: A number in exponent notation without a dot (``1e-4``), which YAML 1.1 reads as a string.
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


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
        if not -INT64_LIMIT <= value < INT64_LIMIT:
            raise ConfigError(f"{where}: {value} does not fit in a 64-bit integer")
        return value
    if tp is float:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads 1e-4 (no dot) as a string
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            value = float(value)
        except OverflowError:
            raise ConfigError(f"{where}: {value} is too large for a number") from None
        if not math.isfinite(value):
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        return value
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
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        path = f"{where}.{f.name}" if where else f.name
        if f.name in data:
            kwargs[f.name] = _convert(data[f.name], hints[f.name], path)
        elif dataclasses.is_dataclass(hints[f.name]) and f.default_factory is hints[f.name]:
            # a nested config left out: its defaults, built here so that its errors name their path
            kwargs[f.name] = _convert({}, hints[f.name], path)
    try:
        obj = cls(**kwargs)
    except SettingError as exc:
        raise ConfigError(f"{where}.{exc.name}: {exc.problem}" if where else str(exc)) from None
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


def parse_yaml(text: str, source: str, what: str = "config") -> dict:
    """The mapping of settings in YAML ``text`` (from ``source``): a one-line :class:`ConfigError`
    when it is not valid YAML, empty, or not a mapping."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" (line {line + 1})" if line is not None else ""
        raise ConfigError(f"{source}: not valid YAML{at}") from None
    if data is None:
        raise ConfigError(f"{source}: the config is empty (expected a mapping of {what} settings)")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of {what} settings, got {data!r}"[:200])
    return data


def from_yaml(cls: type[T], text: str, source: str = "<string>") -> T:
    data = parse_yaml(text, source, cls.__name__)
    try:
        return from_dict(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def read_yaml(path: str | Path, what: str = "config") -> dict:
    """The mapping of settings in config file ``path``, which must exist and end in .yaml or .yml."""
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"{path}: a config file must end in .yaml or .yml")
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file" if not path.exists() else f"{path}: not a file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({getattr(exc, 'strerror', None) or exc})") from None
    return parse_yaml(text, str(path), what)


def load_yaml(cls: type[T], path: str | Path) -> T:
    data = read_yaml(path, cls.__name__)
    try:
        return from_dict(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def deep_merge(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``; nested mappings merge, everything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def _path_keys(dotted: str) -> list[str | int]:
    """``generator.mixes[0].multiplicity`` -> ``["generator", "mixes", 0, "multiplicity"]``."""
    keys: list[str | int] = []
    for part in dotted.split("."):
        m = _PATH_PART.fullmatch(part)
        if not m:
            raise ConfigError(f"unknown setting '{dotted}'")
        keys.append(m.group(1))
        keys.extend(int(i) for i in re.findall(r"\d+", m.group(2)))
    return keys


def replace(obj: T, **changes: Any) -> T:
    """A copy of config ``obj`` with dotted-path settings changed and re-validated.

    ``replace(cfg, **{"detector.noise_rms": 2.0})``; list elements by index:
    ``replace(cfg, **{"generator.mixes[0].multiplicity": [1, 2]})``.
    """
    data = to_dict(obj)
    for dotted, value in changes.items():
        node: Any = data
        keys = _path_keys(dotted)
        for i, key in enumerate(keys):
            if isinstance(key, int):
                if not isinstance(node, list):
                    raise ConfigError(f"unknown setting '{dotted}' ({'.'.join(map(str, keys[:i]))} is not a list)")
                if not key < len(node):
                    raise ConfigError(f"unknown setting '{dotted}' (the list has {len(node)} elements)")
            elif not isinstance(node, dict) or key not in node:
                raise ConfigError(f"unknown setting '{dotted}'")
            if i == len(keys) - 1:
                node[key] = value
            else:
                node = node[key]
    return from_dict(type(obj), data)
