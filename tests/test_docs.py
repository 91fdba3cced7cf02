"""The docs stay true to the code."""

from pathlib import Path

from clustersim.parameters import PARAMETERS, markdown_table

ROOT = Path(__file__).resolve().parent.parent


def test_odd_parameter_table_matches_the_registry():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    assert markdown_table() in odd, "run: python scripts/update_odd_table.py"


def test_every_parameter_has_a_source_and_a_meaning():
    for p in PARAMETERS:
        assert p.meaning and p.source, p.name
