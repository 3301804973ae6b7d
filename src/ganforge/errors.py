"""Errors that are the user's to fix: the CLI prints them as one line, without a traceback."""


class GanforgeError(Exception):
    """A problem with the user's input (a name, a value, a file) and how to fix it."""


class TooLargeError(GanforgeError):
    """An input over a size limit (the server answers 413)."""
