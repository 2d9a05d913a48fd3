"""The `sijcare` app object and the one way every command reports bad input."""

from __future__ import annotations

import json
from typing import NoReturn

import typer

app = typer.Typer(help="Decision support for sacroiliac-joint pain clinics.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)


def fail(*problems: str) -> NoReturn:
    """Report bad input the same way everywhere: `error: ...` lines, exit status 2."""
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(2)


def echo_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
