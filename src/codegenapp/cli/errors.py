"""What a command says when it cannot do its job: one line on stderr, and an exit code."""


class BadInput(Exception):
    """The command was given something it cannot use (an option, a file, a field the API
    refused as invalid): exit code 2."""


class Failed(Exception):
    """The command was understood but could not be done (the server is down, refused the
    token or the operation, or the flow failed): exit code 1."""
