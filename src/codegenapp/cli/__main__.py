"""`python -m codegenapp.cli`: the same command as `codegenapp`."""

import os

from codegenapp.cli import main

os.environ.setdefault("PYTHONUNBUFFERED", "1")
main()
