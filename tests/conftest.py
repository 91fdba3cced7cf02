import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


import pandas as pd  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def tiny_posterior(tmp_path):
    """A three-row posterior over two registry coefficients, weighted 1:2:1, as a Parquet file."""
    post = pd.DataFrame(
        {"revenue_gain_scale": [2.0, 3.0, 4.0], "neutral_motivation": [0.4, 0.5, 0.6], "weight": [1.0, 2.0, 1.0]}
    )
    path = tmp_path / "post.parquet"
    post.to_parquet(path, index=False)
    return path


#: The longest test files (minutes each on 2 cores), heaviest first. Under ``--dist loadfile`` a file stays on one
#: worker and files are handed out in collection order, so a long file collected last runs alone at the end while
#: the other worker idles; starting with them lets the short files fill in around them.
LONG_FILES = (
    "test_money_confirmatory.py",
    "test_money_confirmatory_exit.py",
    "test_notebooks.py",
    "test_calibration.py",
    "test_validation.py",
    "test_streams.py",
)


def pytest_collection_modifyitems(items):
    """Collect the long files first (a stable sort: within a file, and among the rest, the order is kept)."""
    rank = {name: i for i, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FILES)))
