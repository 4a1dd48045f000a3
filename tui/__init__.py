"""The Textual app and the ``nodefix`` command line (the only package that imports Textual)."""
