"""`python -m assistant` starts the web UI; with arguments it is the `assistant` command
(`python -m assistant ask "..."`, `python -m assistant --help`)."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:] or ["ui"]))
