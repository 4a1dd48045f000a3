"""The ``nodefix`` subcommands, one module each (see ``tui.cli``)."""
