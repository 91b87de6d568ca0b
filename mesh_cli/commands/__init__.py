"""One module per `mesh` subcommand; each defines a click command named `command`.

`mesh_cli.cli` registers every module of this package, so a new subcommand is one new file here.
"""
