"""Everything pinbot shows a person or a machine: renderers per format, and the one escaper per target.

Strings from outside (registry labels, file names, references, notes) reach Markdown, a
terminal or a CI log only through `pinbot.report.escape`.
"""
