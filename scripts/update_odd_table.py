"""Regenerate the parameter table in docs/ODD.md from the registry (run after changing parameters.py)."""

from pathlib import Path

from clustersim.parameters import markdown_table

BEGIN, END = "<!-- PARAMETERS:BEGIN -->", "<!-- PARAMETERS:END -->"

path = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
text = path.read_text()
head, rest = text.split(BEGIN, 1)
_, tail = rest.split(END, 1)
path.write_text(f"{head}{BEGIN}\n{markdown_table()}\n{END}{tail}")
print(f"updated {path}")
