"""The plan, settings, unit registry and demo inbox that ship inside the package (read with importlib.resources).

``config/`` holds the three CSV files ``qos-xl init`` copies into a new workspace; the
repository's own ``workbooks/config/`` is the same three files (``tests/test_install.py``
fails when they differ). ``demo/`` is the demo year's inbox, built by
``scripts/make_demo_inbox.py``: ``qos-xl init --demo`` copies it, ``make demo`` merges it.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def bundled_config() -> Traversable:
    """The folder of the bundled plan.csv, settings.csv and units.csv."""
    return files(__name__) / "config"


def demo_inbox() -> Traversable:
    """The folder of the demo year's submissions."""
    return files(__name__) / "demo"
