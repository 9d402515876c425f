"""The `bposim` command line: run, sweep, report, staff, requirement, compare, validate, schema, erlang, fit, plan.

Each command lives with its kin: `run` (run, validate, schema), `sweep` (sweep, report), `staff`, `requirement`,
`compare`, `erlang`, `fit`, `plan`; `common` holds what they share. Bad input (a scenario file, a flag) prints one short
message per problem to stderr and exits with status 2; `staff` exits with status 1 when no roster it found meets the
target (it still writes the best one).
"""

from __future__ import annotations

import typer

from bposim.cli import compare, erlang, fit, plan, requirement, run, staff, sweep

app = typer.Typer(
    help="Contact-centre simulation: staffing, skills and service level, checked against Erlang.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# in the order `bposim --help` lists them
app.command()(run.run)
app.command()(sweep.sweep)
app.command("report")(sweep.report_command)
app.command()(run.validate)
app.command()(run.schema)
app.command()(erlang.erlang)
app.command()(staff.staff)
app.command()(requirement.requirement)
app.command()(fit.fit)
app.command()(compare.compare)
app.command()(plan.plan)


def main() -> None:
    """Console entry point."""
    app()
