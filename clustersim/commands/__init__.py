"""Subcommands of the ``clustersim`` CLI: one module each, every module exposing ``register(subparsers)``."""
