"""`python -m adapt ...` is the `adapt` command (multi-process training relaunches itself this way)."""

from adapt.cli import main

if __name__ == "__main__":
    main()
