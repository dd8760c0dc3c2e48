"""`python -m adapt ...` is the `adapt` command (multi-process training relaunches itself this way)."""

from adapt.cli import main

main()
