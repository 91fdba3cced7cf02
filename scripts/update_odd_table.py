"""Regenerate the generated tables in docs/ODD.md: the parameter table from the registry and the
mechanism-switch table from clustersim.switches (run after changing either)."""

from pathlib import Path

from clustersim.parameters import markdown_table
from clustersim.switches import markdown_table as switch_table

path = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
text = path.read_text()
for name, table in (("PARAMETERS", markdown_table()), ("SWITCHES", switch_table())):
    begin, end = f"<!-- {name}:BEGIN -->", f"<!-- {name}:END -->"
    if begin not in text:
        print(f"no {begin} marker in {path}; {name.lower()} table not written")
        continue
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    text = f"{head}{begin}\n{table}\n{end}{tail}"
path.write_text(text)
print(f"updated {path}")
