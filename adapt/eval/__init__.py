"""One evaluation harness for every rung: grading, metrics, cost, reports and the ladder."""

# The CLI's defaults live here, so `adapt --help` reads them without importing the harness.
DEFAULT_BAR = "correct>=0.5,hallucination<=0.2,p50_ms<=5000,usd_per_1k<=1"
LATENCY_ITEMS = 20  # items timed one request at a time per recipe (here, so the CLI reads it without the harness)
