"""clustersim.batch_metrics: a cluster's metrics are the same bits alone and in any batch, and they agree with
the single-cluster ``monthly_metrics`` and ``economy_totals`` (docs/plans/ensemble-engine.md, §4 step 6)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clustersim import batch_metrics
from clustersim.batch_metrics import (
    ECONOMY_KEYS,
    component_sizes_batch,
    economy_totals_batch,
    firm_tie_metrics_batch,
    giant_component_batch,
)
from clustersim.layout import Layout
from clustersim.metrics import _giant_component, monthly_metrics
from clustersim.model import ClusterModel
from clustersim.network import TieArrays, TrustNetwork
from clustersim.processes.economy import economy_totals
from clustersim.state import FirmArrays

MONTHS = 12
#: (preset, seed, overrides): different programmes, networks and cluster sizes
CASES = (
    ("funded_programme", 1, {}),
    ("baseline", 2, {}),
    ("export_consortia", 3, {}),
    ("funded_programme", 4, {"n_firms": 150}),
)
#: the coefficients the batch functions read
COEF_NAMES = (
    "cooperation_window_months",
    "trusted_threshold",
    "export_share_slope",
    "export_share_onset",
    "jobs_elasticity",
    "employees_per_manager",
    "women_management_factor",
)
INT_METRICS = ("members", "active", "outsiders", "dropouts")


@dataclass(frozen=True)
class Cluster:
    """One cluster's arrays, as a K = 1 state holds them (local firm ids)."""

    firms: FirmArrays
    ties: TieArrays
    trust: np.ndarray
    coef: SimpleNamespace


def cluster_of(model: ClusterModel) -> Cluster:
    s = model.state
    return Cluster(s.firms, s.network.ties, s.network.trust, SimpleNamespace(**vars(s.coef)))


def uniform_or_per_cluster(values: list):
    """One value for the batch if every cluster has the same, else a K-array (plan, D4)."""
    return values[0] if all(v == values[0] for v in values) else np.array(values)


def concat_firms(parts: list[FirmArrays]) -> FirmArrays:
    """The firms of several clusters, field by field in cluster order (2-D fields along axis 0)."""
    joined = {}
    for name in (f.name for f in fields(FirmArrays)):
        values = [getattr(p, name) for p in parts]
        if name == "n":
            joined[name] = sum(values)
        elif name == "exporter_threshold":
            joined[name] = uniform_or_per_cluster(values)
        else:
            joined[name] = np.concatenate(values, axis=0)
    return FirmArrays(**joined)


def concat_ties(parts: list[TieArrays], firm_ptr: np.ndarray, tie_ptr: np.ndarray) -> TieArrays:
    """The ties of several clusters, firm ids made global by the firm offsets (plan, §1.3)."""
    incident_ptr = [np.zeros(1, dtype=np.int64)]
    for k, t in enumerate(parts):  # each cluster's CSR continues where the previous one ended
        incident_ptr.append(t.incident_ptr[1:] + 2 * tie_ptr[k])
    return TieArrays(
        u=np.concatenate([t.u + firm_ptr[k] for k, t in enumerate(parts)]),
        v=np.concatenate([t.v + firm_ptr[k] for k, t in enumerate(parts)]),
        active=np.concatenate([t.active for t in parts]),
        incident_ptr=np.concatenate(incident_ptr),
        incident_idx=np.concatenate([t.incident_idx + tie_ptr[k] for k, t in enumerate(parts)]),
        incident_other=np.concatenate([t.incident_other + firm_ptr[k] for k, t in enumerate(parts)]),
    )


def concat(clusters: list[Cluster]) -> tuple[FirmArrays, TieArrays, np.ndarray, Layout, SimpleNamespace]:
    """A batch of ``clusters``: concatenated firms, ties and trust, its layout and its coefficients."""
    layout = Layout.from_sizes([c.firms.n for c in clusters], [c.ties.n_ties for c in clusters], [0] * len(clusters))
    firms = concat_firms([c.firms for c in clusters])
    ties = concat_ties([c.ties for c in clusters], layout.firm_ptr, layout.tie_ptr)
    trust = np.concatenate([c.trust for c in clusters])
    coef = SimpleNamespace(
        **{name: uniform_or_per_cluster([getattr(c.coef, name) for c in clusters]) for name in COEF_NAMES}
    )
    return firms, ties, trust, layout, coef


def batch_results(clusters: list[Cluster]) -> dict[str, np.ndarray]:
    """Every batch metric and economy total of ``clusters``, one K-array per name."""
    firms, ties, trust, layout, coef = concat(clusters)
    return {
        **firm_tie_metrics_batch(firms, ties, trust, layout, MONTHS, coef),
        **{f"econ_{k}": v for k, v in economy_totals_batch(firms, coef, layout).items()},
    }


def bits(x: np.ndarray) -> np.ndarray:
    """Float values as bit patterns, ints as they are, so that ``array_equal`` is bit for bit."""
    x = np.asarray(x)
    return x.view(np.uint64) if x.dtype == np.float64 else x


@pytest.fixture(scope="module")
def models() -> list[ClusterModel]:
    return [ClusterModel(preset, seed=seed, **kw).run(MONTHS) for preset, seed, kw in CASES]


@pytest.fixture(scope="module")
def clusters(models) -> list[Cluster]:
    return [cluster_of(m) for m in models]


def assert_alone_equals_batch(clusters: list[Cluster]) -> None:
    together = batch_results(clusters)
    for k, cluster in enumerate(clusters):
        alone = batch_results([cluster])
        for name, values in together.items():
            assert values.dtype == alone[name].dtype, name
            assert np.array_equal(bits(values[k : k + 1]), bits(alone[name])), (name, k)


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 2, 1, 0), (2, 0, 3, 1), (1, 1, 0)])
def test_a_cluster_has_the_same_metrics_alone_and_in_any_batch(clusters, order):
    assert_alone_equals_batch([clusters[i] for i in order])


def test_batch_metrics_agree_with_monthly_metrics(models, clusters):
    together = batch_results(clusters)
    for k, model in enumerate(models):
        expected = monthly_metrics(model)
        for name in INT_METRICS:
            assert together[name].dtype == np.int64
            assert together[name][k] == expected[name], (name, k)
        assert together["giant_component"][k] == expected["giant_component"], k
        for name in ("share_cooperating", "mean_trust", "trusted_tie_density", "mean_motivation"):
            assert together[name][k] == pytest.approx(expected[name], rel=1e-12, abs=0), (name, k)
        for name in ("mean_disposition", "innovation_index", "export_share"):
            assert together[name][k] == pytest.approx(expected[name], rel=1e-12, abs=1e-300), (name, k)


def test_the_cases_cover_trusted_networks_and_none(clusters):
    """The comparison above means something: some clusters have trusted ties, and one has none."""
    trusted = [int((c.ties.active & (c.trust >= c.coef.trusted_threshold)).sum()) for c in clusters]
    assert min(trusted) == 0 < max(trusted)


def test_economy_totals_batch_agrees_with_economy_totals(models, clusters):
    together = batch_results(clusters)
    for k, model in enumerate(models):
        expected = economy_totals(model.state)
        assert tuple(expected) == ECONOMY_KEYS
        for key in ECONOMY_KEYS:
            assert together[f"econ_{key}"][k] == pytest.approx(expected[key], rel=1e-12, abs=0), (key, k)


def without_ties(cluster: Cluster) -> Cluster:
    empty = np.zeros(0, dtype=np.int64)
    ptr = np.zeros(cluster.firms.n + 1, dtype=np.int64)
    return replace(cluster, ties=TieArrays(empty, empty, empty.astype(bool), ptr, empty, empty), trust=np.zeros(0))


def two_firms(cluster: Cluster) -> Cluster:
    """The first two firms of ``cluster``, joined by one trusted tie."""
    sliced = {
        f.name: getattr(cluster.firms, f.name)[:2]
        for f in fields(FirmArrays)
        if f.name not in ("n", "exporter_threshold")
    }
    firms = FirmArrays(n=2, exporter_threshold=cluster.firms.exporter_threshold, **sliced)
    ties = TieArrays(
        np.array([0]), np.array([1]), np.array([True]), np.array([0, 1, 2]), np.array([0, 0]), np.array([1, 0])
    )
    return replace(cluster, firms=firms, ties=ties, trust=np.array([cluster.coef.trusted_threshold]))


def monthly_metrics_of(model: ClusterModel, cluster: Cluster) -> dict[str, float]:
    """``monthly_metrics`` of ``model`` with its firms and ties replaced by ``cluster``'s."""
    state = model.state
    kept = state.firms, state.network
    contact = np.zeros(cluster.ties.n_ties, dtype=bool)
    state.firms = cluster.firms
    state.network = TrustNetwork(cluster.ties, cluster.trust, cluster.trust.copy(), contact)
    try:
        return monthly_metrics(model)
    finally:
        state.firms, state.network = kept


def test_a_cluster_without_ties_and_a_cluster_of_two_firms(models, clusters):
    edge = [without_ties(clusters[0]), two_firms(clusters[1])]
    mixed = [clusters[2], edge[0], clusters[3], edge[1]]
    assert_alone_equals_batch(mixed)
    together = batch_results(mixed)
    for k, model in ((1, models[0]), (3, models[1])):
        expected = monthly_metrics_of(model, mixed[k])
        for name in (*INT_METRICS, "giant_component", "mean_trust", "trusted_tie_density", "share_cooperating"):
            assert together[name][k] == expected[name], (name, k)
    assert together["giant_component"][1] == 1 / clusters[0].firms.n  # no edges: one firm's share
    assert together["mean_trust"][1] == 0.0
    assert together["giant_component"][3] == 1.0
    assert together["trusted_tie_density"][3] == 1.0


def test_per_cluster_coefficients_give_each_cluster_its_own(clusters):
    """A coefficient as a K-array: each cluster gets what it gets alone with its own scalar (plan, D4)."""
    firms, ties, trust, layout, coef = concat(clusters)
    K = layout.K
    thresholds = np.array([0.3, 0.5, 0.45, 0.6])[:K]
    firms.exporter_threshold = np.array([0.2, 0.5, 0.4, 0.7])[:K]
    coef.trusted_threshold, coef.jobs_elasticity = thresholds, np.linspace(0.5, 0.8, K)
    metrics = firm_tie_metrics_batch(firms, ties, trust, layout, MONTHS, coef)
    econ = economy_totals_batch(firms, coef, layout)
    for k, cluster in enumerate(clusters):
        own = SimpleNamespace(**vars(cluster.coef))
        own.trusted_threshold, own.jobs_elasticity = float(thresholds[k]), float(coef.jobs_elasticity[k])
        alone_firms = replace(cluster.firms, exporter_threshold=float(firms.exporter_threshold[k]))
        alone_layout = Layout.single(cluster.firms.n, cluster.ties.n_ties, 0)
        alone = firm_tie_metrics_batch(alone_firms, cluster.ties, cluster.trust, alone_layout, MONTHS, own)
        alone_econ = economy_totals_batch(alone_firms, own, alone_layout)
        for name, values in {**metrics, **econ}.items():
            expected = {**alone, **alone_econ}[name]
            assert np.array_equal(bits(values[k : k + 1]), bits(expected)), (name, k)


def test_a_uniform_coefficient_as_a_k_array_changes_no_bit(clusters):
    firms, ties, trust, layout, coef = concat(clusters)
    scalar = {
        **firm_tie_metrics_batch(firms, ties, trust, layout, MONTHS, coef),
        **economy_totals_batch(firms, coef, layout),
    }
    for name in COEF_NAMES:
        setattr(coef, name, np.full(layout.K, getattr(coef, name)))
    firms.exporter_threshold = np.full(layout.K, firms.exporter_threshold)
    vector = {
        **firm_tie_metrics_batch(firms, ties, trust, layout, MONTHS, coef),
        **economy_totals_batch(firms, coef, layout),
    }
    for name, values in scalar.items():
        assert np.array_equal(bits(values), bits(vector[name])), name


def test_an_edge_between_clusters_is_refused():
    layout = Layout.from_sizes([2, 2], [1, 0], [0, 0])
    with pytest.raises(ValueError, match="two clusters"):
        component_sizes_batch(np.array([1]), np.array([2]), layout)


@st.composite
def graphs(draw):
    """1-5 clusters of 1-8 firms, each with random edges among its own firms (loops and repeats allowed)."""
    sizes = draw(st.lists(st.integers(1, 8), min_size=1, max_size=5))
    edges = [draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n)) for n in sizes]
    return sizes, edges


@settings(max_examples=150, deadline=None)
@given(graphs(), st.booleans())
def test_giant_component_batch_equals_the_single_cluster_giant_component(graph, with_scipy):
    sizes, edges = graph
    layout = Layout.from_sizes(sizes, [len(e) for e in edges], [0] * len(sizes))
    local = [np.array(e, dtype=np.int64).reshape(-1, 2) for e in edges]
    u = np.concatenate([e[:, 0] + layout.firm_ptr[k] for k, e in enumerate(local)])
    v = np.concatenate([e[:, 1] + layout.firm_ptr[k] for k, e in enumerate(local)])
    with mock.patch.object(batch_metrics, "NUMPY_LABELLING_MAX_FIRMS", 0 if with_scipy else 10_000):
        giant = giant_component_batch(u, v, layout)
    expected = [_giant_component(e[:, 0], e[:, 1], n) for e, n in zip(local, sizes, strict=True)]
    assert np.array_equal(bits(giant), bits(np.array(expected)))


def test_a_fast_path_exponent_gives_the_same_bits_in_a_uniform_and_a_mixed_batch(clusters):
    """numpy takes ``x ** 0.5`` as a sqrt when the exponent is a scalar: the batch must not (per_element_array)."""
    firms, ties, trust, layout, coef = concat(clusters)
    coef.jobs_elasticity = 0.5
    uniform = economy_totals_batch(firms, coef, layout)
    coef.jobs_elasticity = np.array([0.5, 0.6, 0.5, 0.7])[: layout.K]
    mixed = economy_totals_batch(firms, coef, layout)
    for key in ECONOMY_KEYS:
        assert np.array_equal(bits(uniform[key][[0, 2]]), bits(mixed[key][[0, 2]])), key


def _bits(values: np.ndarray) -> np.ndarray:
    """A float array's bytes (NaN compares equal to itself), an integer array as it is."""
    return values.view(np.uint8) if values.dtype.kind == "f" else values


@pytest.mark.parametrize(("max_bytes", "blocks"), [(batch_metrics.RECORD_MAX_BYTES, 1), (400_000, 4), (1, 31)])
def test_the_recorder_gives_every_monthly_metric_the_bits_of_the_month_by_month_reduction(max_bytes, blocks):
    """``MonthlyRecorder`` reduces blocks of months at once (one block, several, one month each): each value,
    its dtype included, is the one ``monthly_metrics_batch`` gives that month. The batch mixes presets, sizes
    and per-cluster coefficients, among them a jobs exponent of 0.5 (a fast path of ``**``) and seasonality."""
    from clustersim.ensemble_run import BatchStepper
    from clustersim.metrics import MONTHLY_METRICS
    from clustersim.scenario import load_scenario

    params = [
        load_scenario("funded_programme"),
        load_scenario("pandemic_shock", n_firms=23, jobs_elasticity=0.5),
        load_scenario("tapered_exit", n_firms=41, seasonality=0.2, trusted_threshold=0.55),
        load_scenario("baseline", n_firms=12, cooperation_window_months=2),
    ]
    with mock.patch.object(batch_metrics, "RECORD_MAX_BYTES", max_bytes):
        batch = BatchStepper.start(params, [11, 12, 13, 14])
    expected = [batch_metrics.monthly_metrics_batch(batch.state, batch.baseline)]
    for _ in range(30):
        batch.step()
        expected.append(batch_metrics.monthly_metrics_batch(batch.state, batch.baseline))
    got = batch.recorder.series(batch.state)
    assert len(batch.recorder.blocks) >= blocks
    assert list(got) == list(MONTHLY_METRICS)
    for name in MONTHLY_METRICS:
        want = np.stack([row[name] for row in expected])
        assert got[name].dtype == want.dtype and got[name].shape == want.shape, name
        assert np.array_equal(_bits(got[name]), _bits(want)), name


def test_above_the_fused_size_the_recorder_reduces_each_month_as_it_comes():
    """Where the cost is the elements, recording copies nothing: each month is reduced at once."""
    from clustersim.ensemble_run import BatchStepper
    from clustersim.scenario import load_scenario

    with mock.patch.object(batch_metrics, "RECORD_MAX_FIRMS", 10):
        batch = BatchStepper.start([load_scenario("baseline", n_firms=40)], [3])
        batch.step()
        batch.step()
        assert batch.recorder._buffers is None and len(batch.recorder.blocks) == 3


def test_a_large_clusters_months_are_reduced_one_by_one_and_its_series_is_the_same_alone_and_in_a_batch():
    """A cluster of ``LANE_MIN`` firms or tie slots adds its sums in lanes, which the block reductions do not:
    its batch records month by month, and its series has the bits of the same cluster run alone."""
    from clustersim.ensemble_run import BatchStepper
    from clustersim.scenario import load_scenario
    from clustersim.segments import LANE_MIN

    small = load_scenario("baseline", n_firms=20)
    # LANE_MIN firms; and a quarter as many firms, whose tie slots alone reach LANE_MIN
    for large in (load_scenario("funded_programme", n_firms=LANE_MIN + 50), load_scenario("funded_programme", n_firms=LANE_MIN // 4)):
        together = BatchStepper.start([small, large], [5, 6])
        alone = BatchStepper.start([large], [6])
        assert together.state.layout.sizes("tie")[1] >= LANE_MIN
        for _ in range(3):
            together.step()
            alone.step()
        assert together.recorder._buffers is None and alone.recorder._buffers is None
        got, want = together.recorder.series(together.state), alone.recorder.series(alone.state)
        for name, values in want.items():
            got_bits, want_bits = _bits(np.ascontiguousarray(got[name][:, 1])), _bits(np.ascontiguousarray(values[:, 0]))
            assert np.array_equal(got_bits, want_bits), name
