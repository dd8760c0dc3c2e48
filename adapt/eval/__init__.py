"""One evaluation harness for every rung: grading, metrics, cost, reports and the ladder."""
