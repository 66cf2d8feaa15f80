"""The ``qos-xl`` command line."""

from qos_xl.cli.app import cli, main, set_up_process

__all__ = ["cli", "main", "set_up_process"]
