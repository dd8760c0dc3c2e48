"""User-facing errors: the CLI prints them without a traceback and exits with code 2."""


class UserError(Exception):
    """A mistake in the user's input (recipe, data, paths, arguments): reported plainly, exit code 2.

    `param` names the argument at fault in the library's terms (`limit`, `index_type`); the CLI shows
    it as the flag the user typed (`--limit`), so library messages need not know about flags."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param
