"""The registry: cohorts, outcome statistics, charts and the de-identified research export,
with small cells suppressed wherever a researcher looks."""
