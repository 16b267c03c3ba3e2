"""Errors a user can cause and fix; the CLI prints them as one line, without a traceback."""


class UserError(Exception):
    """A problem with the user's input or environment, phrased as what happened and where."""
