"""`python -m graphrec` runs the CLI."""

from .cli import main

main()
