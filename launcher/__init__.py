"""The launcher at the edge of the system: the `soesmart` command, the process entry of
one service, and the one table of which service class each kind runs.

The kernel (`soesmart/`) knows no service; this package is where they are wired.
"""
