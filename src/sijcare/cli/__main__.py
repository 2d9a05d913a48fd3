"""`python -m sijcare.cli`: the same command as the `sijcare` script."""

from sijcare.cli import app

app(prog_name="sijcare")
