"""pinbot: find container image references, pin them to verified digests, propose the change.

The stages are modules named for what they do: scanners, registry, plan, apply, notes, forge.
"""

__version__ = "0.1.0"
