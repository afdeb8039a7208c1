"""CodegenApp: goals become agent runs, pull requests are validated in sandboxes and merged."""

__version__ = "0.1.0"
