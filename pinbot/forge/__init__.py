"""Forges: where repositories' files come from and where proposed changes go.

GitHub (through PyGithub) is the one forge so far; see `pinbot.forge.github`.
"""
