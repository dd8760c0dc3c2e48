"""One evaluation harness for every rung: grading, metrics, cost, reports and the ladder."""

LATENCY_ITEMS = 20  # items timed one request at a time per recipe (here, so the CLI reads it without the harness)
