"""One module per ``mlserve`` subcommand, discovered by ``mlserve/__main__.py`` (see mlserve/cli.py)."""
