"""Subcommands of the `pinbot` command line, one module each (see `pinbot.cli`)."""
