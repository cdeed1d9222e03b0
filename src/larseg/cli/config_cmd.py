"""``larseg config``: list and show the named presets."""

from __future__ import annotations

import typer

from larseg import config as cfg
from larseg.cli.app import app

config_app = typer.Typer(help="Named config presets (simulation, model, training).", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("list")
def list_cmd(kind: str = typer.Argument(None, help="Only this kind of config.")) -> None:
    """List the presets of every kind."""
    if kind is not None:
        cfg.config_class(kind)  # validates the kind
    for k, names in cfg.list_presets(kind).items():
        typer.echo(f"{k}: {', '.join(names) if names else '(none)'}")


@config_app.command("show")
def show_cmd(
    name: str = typer.Argument(..., help="Preset name, or 'kind/name' (e.g. model/cpu) when several kinds have it."),
    settings: list[str] = typer.Option(None, "--set", help="Change a setting first: key=value (repeatable); "
                                                             "the result is checked like any config."),
) -> None:
    """Print a preset's full config as YAML (every setting, inherited ones included)."""
    from larseg.cli.simulate_cmd import parse_settings

    kind, preset = cfg.find_preset(name)
    config = cfg.load_preset(kind, preset)
    overrides = parse_settings(settings)
    if overrides:
        config = cfg.replace(config, **overrides)
    typer.echo(cfg.to_yaml(config), nl=False)
