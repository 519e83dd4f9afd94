"""Forges: where repositories' files come from and where proposed changes go.

GitHub (through PyGithub) is the one forge so far; see `pinbot.forge.github`, and
`pinbot.forge.cache` for the answers it keeps between runs.
"""
