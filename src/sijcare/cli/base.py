"""The `sijcare` app object and the one way every command reports bad input."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

# Typer raises Click's exceptions, from `click` or from its own vendored copy depending on the
# Typer release; take them from wherever `typer.BadParameter` comes from.
_clicks = sys.modules[typer.BadParameter.__module__]
UsageError = _clicks.UsageError
ClickException = _clicks.ClickException
NoArgsIsHelp = getattr(_clicks, "NoArgsIsHelpError", ())


def _usage_problem(error: Any) -> str:
    """Click's complaint as one `where: problem` line (`--format: 'xml' is not one of ...`)."""
    message = error.format_message().removeprefix("Value error, ").rstrip(".")
    if isinstance(error, typer.BadParameter) and error.param is not None and error.message:
        where = (error.param.opts[0] if error.param.opts else error.param.name) or "argument"
        return f"{where}: {error.message.removeprefix('Value error, ').rstrip('.')}"
    hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
    return f"{message[0].lower()}{message[1:]}{hint}"


class Commands(TyperGroup):
    """The command group, reporting usage mistakes (unknown subcommand, bad option value) as
    an `error:` line with exit status 2, like every other bad input, not as a usage panel."""

    def main(self, *args: Any, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **extra)
        try:
            returned = super().main(*args, standalone_mode=False, **extra)
        except NoArgsIsHelp as error:
            typer.echo(error.ctx.get_help())
            sys.exit(0)
        except UsageError as error:
            typer.echo(f"error: {_usage_problem(error)}", err=True)
            sys.exit(2)
        except ClickException as error:
            typer.echo(f"error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(returned if isinstance(returned, int) else 0)


app = typer.Typer(cls=Commands, help="Decision support for sacroiliac-joint pain clinics.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)


def fail(*problems: str) -> NoReturn:
    """Report bad input the same way everywhere: `error: ...` lines, exit status 2."""
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(2)


def echo_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
