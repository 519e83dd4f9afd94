"""`python -m pinbot` runs the command line."""

from pinbot.cli import main

raise SystemExit(main())
