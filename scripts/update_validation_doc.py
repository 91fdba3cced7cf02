"""Publish a `clustersim validate` report as docs/validation.md (figures and data in docs/validation/),
with the out-of-sample table of the shipped calibration (docs/calibration/predictions.csv) appended.

    .venv/bin/clustersim validate --mutations --workers 2 --out /tmp/val
    .venv/bin/python scripts/update_validation_doc.py /tmp/val
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FILES = ("validation.json", "limit_curves.csv", "mutations.csv", "stylized_facts.png", "limit_cases.png", "magnitudes.png")


def out_of_sample_table(path: Path) -> list[str]:
    """The fitted, held-out and input-echo figures of the shipped ABC calibration, as Markdown."""
    preds = pd.read_csv(path)
    lines = [
        "## Out-of-sample predictions (ABC calibration)",
        "",
        "From the shipped posterior (`calibration/ccpf_posterior.parquet`; report in "
        "[calibration/calibration.md](calibration/calibration.md)): the CCPF revenue and export figures were "
        "fitted; the UNIDO Colombia figures were held out and predicted, with 90% predictive intervals. The "
        "magnitude checks above run the hand-set registry defaults instead, which is why they are labelled "
        "calibrated there. An input echo is not a prediction.",
        "",
        "| figure | role | target | predicted mean | 90% interval | inside |",
        "|---|---|---|---|---|---|",
    ]
    for r in preds.itertuples():
        inside = "n/a (input echo)" if r.role == "input echo" else ("yes" if r.hit else "**no**")
        lines.append(
            f"| {r.figure} | {r.role} | {r.target:.3g} | {r.predicted_mean:.3g} | {r.low:.3g} to {r.high:.3g} | {inside} |"
        )
    return lines + [""]


def main(report: Path) -> None:
    text = (report / "validation.md").read_text()
    for name in ("stylized_facts.png", "limit_cases.png", "magnitudes.png"):
        text = text.replace(f"]({name})", f"](validation/{name})")
    text = text.rstrip("\n") + "\n\n" + "\n".join(out_of_sample_table(DOCS / "calibration" / "predictions.csv"))
    (DOCS / "validation").mkdir(exist_ok=True)
    for name in FILES:
        if (report / name).is_file():
            shutil.copy2(report / name, DOCS / "validation" / name)
    (DOCS / "validation.md").write_text(text)
    print(f"wrote {DOCS / 'validation.md'} and docs/validation/ from {report}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "validation.md").is_file():
        sys.exit("usage: update_validation_doc.py REPORT_FOLDER (a clustersim validate --out folder)")
    main(Path(sys.argv[1]))
