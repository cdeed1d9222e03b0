"""Typed configs: YAML round trips, validation errors that name the setting, presets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from larseg import config as cfg
from larseg.config.base import from_dict, from_yaml, replace, to_dict, to_yaml
from larseg.errors import ConfigError


@dataclass
class Inner:
    rate: float = 1.0
    kind: Literal["a", "b"] = "a"


@dataclass
class Outer:
    name: str = "x"
    count: int = 3
    pair: tuple[float, float] = (0.0, 1.0)
    items: list[Inner] = field(default_factory=list)
    inner: Inner = field(default_factory=Inner)
    maybe: int | None = None


def test_round_trip():
    obj = Outer(name="y", count=5, pair=(2.0, 3.5), items=[Inner(2.0, "b")], inner=Inner(0.5), maybe=7)
    assert from_yaml(Outer, to_yaml(obj)) == obj
    assert to_dict(obj)["items"] == [{"rate": 2.0, "kind": "b"}]


def test_int_promotes_to_float():
    assert from_dict(Outer, {"inner": {"rate": 2}}).inner.rate == 2.0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"cuont": 3}, "unknown setting 'cuont'"),
        ({"inner": {"rtae": 1}}, "unknown setting 'inner.rtae'"),
        ({"count": "three"}, "count: expected an integer"),
        ({"count": 2.5}, "count: expected an integer"),
        ({"inner": {"kind": "c"}}, "inner.kind: 'c' is not one of 'a', 'b'"),
        ({"pair": [1.0]}, "pair: expected 2 values"),
        ({"items": [{"rate": "fast"}]}, "items[0].rate: expected a number"),
        ({"inner": 4}, "inner: expected a mapping"),
    ],
)
def test_errors_name_the_setting(data, message):
    with pytest.raises(ConfigError) as exc:
        from_dict(Outer, data)
    assert message in str(exc.value)


def test_bad_yaml_names_the_source():
    with pytest.raises(ConfigError, match=r"my.yaml: not valid YAML \(line \d+\)"):
        from_yaml(Outer, "name: x\ncount: [1,\n", "my.yaml")


def test_replace_dotted():
    obj = replace(Outer(), **{"inner.rate": 4, "count": 9})
    assert obj.inner.rate == 4.0 and obj.count == 9
    with pytest.raises(ConfigError, match="unknown setting 'inner.nope'"):
        replace(Outer(), **{"inner.nope": 1})


def test_every_preset_loads_and_round_trips():
    presets = cfg.list_presets()
    assert presets, "no config kinds"
    for kind, names in presets.items():
        assert names, f"no presets of kind {kind}"
        for name in names:
            obj = cfg.load_preset(kind, name)
            assert from_yaml(type(obj), to_yaml(obj)) == obj


def test_unknown_preset():
    with pytest.raises(ConfigError, match="no simulation preset 'nope' \\(known: "):
        cfg.load_preset("simulation", "nope")
    with pytest.raises(ConfigError, match="unknown config kind"):
        cfg.load_preset("flavour", "x")
