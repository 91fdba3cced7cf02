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
