"""Errors that reach the user as one line (exit code 2), never as a traceback."""


class InputError(ValueError):
    """Invalid user input: a bad problem, argument, file or config. The message is one line."""
