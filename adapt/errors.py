"""User-facing errors: the CLI prints them without a traceback and exits with code 2."""


class UserError(Exception):
    """A mistake in the user's input (recipe, data, paths): reported plainly, exit code 2."""
