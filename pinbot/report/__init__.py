"""Everything pinbot shows a person or a machine: renderers per format, and the one escaper per target.

One module per format (`text`, `json`, `csv`, `markdown`, `sarif`, `github` annotations), each
with a function per command it serves; `formats` names them for `--format`; `interface`
holds `Finding`, what `check` reports. Strings from outside (registry labels, file names,
references, notes) reach Markdown, a terminal or a CI log only through `escape`.
"""
