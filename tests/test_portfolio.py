"""The funder's portfolio and the regional platform (issue 12, items 6-7; SF16, SF18)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from clustersim.model import ClusterModel
from clustersim.portfolio import (
    load_portfolio,
    mean_cooperation,
    programme_cost,
    run_portfolio,
    select,
    select_plans,
    selection_efficiency,
    standardise,
)
from clustersim.processes import platform
from clustersim.processes.initialisation import disposition_projects, initial_state
from clustersim.scenario import ScenarioError, load_scenario
from clustersim.seeds import run_seed

THRESHOLDS = tomllib.loads((Path(__file__).parent / "portfolio_thresholds.toml").read_text())

SMALL_PORTFOLIO = """
[portfolio]
name = "small"
programme = "{programme}"
archetypes = {{ rising = 3, sluggish = 3 }}
funded = 3
months = 60
replicates = 2
seed = 7

[traits]
n_firms = [20, 40]
prior_cooperative_share = [0.0, 0.4]
bso_untrained_competence = [0.1, 0.4]

[selection]
plan_quality_noise_sd = 0.5

[platform]
on = {on}
intensity = {intensity}
"""


def write(tmp_path: Path, programme="funded_programme", on="false", intensity=1.0, name="p.toml") -> Path:
    path = tmp_path / name
    path.write_text(SMALL_PORTFOLIO.format(programme=programme, on=on, intensity=intensity))
    return path


# ------------------------------------------------------------------ pure rules on hand-built values
def test_select_plans_by_score_within_count_and_budget():
    score = np.array([0.1, 2.0, 1.5, -1.0, 1.5])
    cost = np.array([100.0, 100.0, 100.0, 100.0, 100.0])
    assert select_plans(score, cost, budget=1000.0, max_funded=2).tolist() == [False, True, True, False, False]
    # a tie is broken by list order; the budget binds before the count
    assert select_plans(score, cost, budget=250.0, max_funded=9).tolist() == [False, True, True, False, False]
    # a plan too dear for what is left is passed over for the next one that fits
    dear = np.array([100.0, 900.0, 100.0, 100.0, 100.0])
    assert select_plans(score, dear, budget=300.0, max_funded=9).tolist() == [True, False, True, False, True]
    assert not select_plans(score, cost, budget=1000.0, max_funded=0).any()


def test_selection_efficiency_is_zero_for_chance_and_one_for_the_best():
    effect = np.array([4.0, 3.0, 2.0, 1.0])
    best = np.array([True, True, False, False])
    assert selection_efficiency(effect, best, best) == 1.0
    assert selection_efficiency(effect, np.array([False, True, True, False]), best) == 0.0  # 5 = 2 x mean 2.5
    assert selection_efficiency(effect, ~best, best) == -1.0
    assert np.isnan(selection_efficiency(np.ones(4), best, best))


def test_standardise():
    assert np.allclose(standardise([1.0, 2.0, 3.0]), [-1.224744871, 0.0, 1.224744871])
    assert (standardise([5.0, 5.0]) == 0).all()


def test_peer_stories_come_from_the_other_clusters_only():
    seen = platform.peer_stories(np.array([3.0, 0.0, 1.0]), np.array([0.5, 0.5, 1.0]), intensity=2.0)
    assert seen.tolist() == [1.0, 4.0, 6.0]  # 2 x 0.5 x 1; 2 x 0.5 x 4; 2 x 1 x 3


def test_best_peer_excludes_oneself():
    assert platform.best_peer(np.array([0.2, 0.7, 0.5])).tolist() == [0.7, 0.5, 0.7]
    assert platform.best_peer(np.array([0.7, 0.7])).tolist() == [0.7, 0.7]
    assert platform.best_peer(np.array([0.3])).tolist() == [-np.inf]


def test_peer_learning_closes_part_of_the_gap_and_never_lowers():
    out = platform.peer_learning(np.array([0.2, 0.6, 0.9]), best_peer_mean=0.6, rate=0.1, intensity=2.0)
    assert np.allclose(out, [0.28, 0.6, 0.9])


def _tiny_states(k: int, stories: list[float], competence: list[float]):
    states = []
    for i in range(k):
        s = initial_state(
            load_scenario("funded_programme", n_firms=8, mean_degree=2), np.random.default_rng(i), disposition_projects
        )
        s.month = 4  # the exchange follows month 3
        s.success_stories[0, 3] = stories[i]
        s.bso.competence[:] = competence[i]
        states.append(s)
    return states


def test_exchange_writes_peer_stories_and_teaches_officers():
    states = _tiny_states(3, [2.0, 0.0, 0.0], [0.5, 0.25, 0.25])
    platform.exchange(states, intensity=1.0)
    w, rate = states[0].coef.platform_story_weight, states[0].coef.platform_peer_learning_rate
    assert [s.peer_stories[0, 3] for s in states] == [0.0, w * 2.0, w * 2.0]
    assert np.allclose(states[1].bso.competence, 0.25 + rate * 0.25)
    assert np.allclose(states[0].bso.competence, 0.5)  # the best BSO has no better peer


def test_exchange_does_nothing_at_zero_intensity_or_alone():
    states = _tiny_states(2, [2.0, 1.0], [0.5, 0.25])
    platform.exchange(states, intensity=0.0)
    platform.exchange(states[:1], intensity=1.0)
    assert all((s.peer_stories == 0).all() for s in states)
    assert np.allclose(states[1].bso.competence, 0.25)


# ------------------------------------------------------------------ whole portfolios
@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("portfolio"))
    spec = load_portfolio(path)
    return spec, run_portfolio(spec, replicates=THRESHOLDS["replicates"], platform_arms=(False, True))


def test_the_funder_funds_the_best_scores_within_the_rules(small):
    spec, (plans, kpis, _) = small
    for _, g in plans[~plans["platform"]].groupby("replicate"):
        assert g["funded"].sum() == spec.funded
        assert g.loc[g["funded"], "score"].min() >= g.loc[~g["funded"], "score"].max()
    assert (kpis["programme_cost"] <= spec.budget + 1e-6).all()


def test_unfunded_plans_behave_as_unfunded_and_funded_as_funded(small):
    """Platform off, each cluster of the portfolio equals its plan run alone, funded or not."""
    spec, (plans, _, _) = small
    sel = select(spec, run_seed(spec.seed, 0))
    off = plans[(~plans["platform"]) & (plans["replicate"] == 0)].set_index("plan")
    for p in sel.plans:
        funded = bool(off.loc[p.index, "funded"])
        sc = p.scenario if funded else p.scenario.replace(plan_funded=False)
        alone = ClusterModel(sc, seed=p.seed).run()
        assert off.loc[p.index, "mean_cooperation"] == mean_cooperation(alone)
        assert off.loc[p.index, "programme_cost"] == alone.ledger.programme_cost
        assert (off.loc[p.index, "programme_cost"] > 0) == funded


def test_replicates_are_addressed_by_seed_not_by_order(small):
    spec, (plans, _, series) = small
    again, _, series_again = run_portfolio(spec, replicates=1, platform_arms=(False, True))
    first = plans[plans["replicate"] == 0].reset_index(drop=True)
    assert first.equals(again)
    assert series[series["replicate"] == 0].reset_index(drop=True).equals(series_again)


def test_platform_at_zero_intensity_is_no_platform(tmp_path):
    off = load_portfolio(write(tmp_path, on="false"))
    zero = load_portfolio(write(tmp_path, on="true", intensity=0.0, name="z.toml"))
    a = run_portfolio(off, replicates=1)[2]["share_cooperating"]
    b = run_portfolio(zero, replicates=1)[2]["share_cooperating"]
    assert a.equals(b)


def test_platform_weights_at_zero_switch_it_off(tmp_path):
    programme = tmp_path / "no_exchange.toml"
    programme.write_text(
        'name = "no_exchange"\nextends = "funded_programme"\n'
        "[platform]\nplatform_story_weight = 0.0\nplatform_peer_learning_rate = 0.0\n"
    )
    spec = load_portfolio(write(tmp_path, programme=str(programme), on="true"))
    _, kpis, series = run_portfolio(spec, replicates=1, platform_arms=(False, True))
    on, off = series[series["platform"]], series[~series["platform"]]
    assert on["share_cooperating"].to_numpy().tolist() == off["share_cooperating"].to_numpy().tolist()


def test_the_regional_platform_raises_cooperation(small):
    """SF18 as a paired claim: same plans, selection and seeds, platform on against off."""
    t = THRESHOLDS
    _, (_, kpis, _) = small
    on = kpis[kpis["platform"]].set_index("replicate")[t["platform"]["outcome"]]
    off = kpis[~kpis["platform"]].set_index("replicate")[t["platform"]["outcome"]]
    d = (on - off).to_numpy()
    assert d.size == t["replicates"]
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert d.mean() >= t["platform"]["margin"], f"platform effect {d.mean():+.4f} below the margin"
    assert d.mean() >= t["z"] * se, f"platform effect {d.mean():+.4f}, z = {d.mean() / se:.1f} < {t['z']}"


# ------------------------------------------------------------------ bad input
BAD = [
    ("[portfolio]\nfunded = 3\n", "portfolio.archetypes"),
    ("[portfolio]\narchetypes = { nowhere = 2 }\n", "portfolio.archetypes.nowhere"),
    ("[portfolio]\narchetypes = { rising = 2 }\nfunded = 5\n", "portfolio.funded"),
    ("[portfolio]\narchetypes = { rising = 2 }\nbudgt = 5\n", "portfolio.budgt"),
    ("[portfolio]\narchetypes = { rising = 2 }\n[traits]\nn_firms = [40, 20]\n", "traits.n_firms"),
    ("[portfolio]\narchetypes = { rising = 2 }\n[traits]\ngrant_amount = [0, 20]\n", "traits.grant_amount"),
    ("[portfolio]\narchetypes = { rising = 2 }\n[selection]\nluck = 1\n", "selection.luck"),
    ("[portfolio]\narchetypes = { rising = 2 }\n[platform]\non = 1\n", "platform.on"),
    ('[portfolio]\narchetypes = { rising = 2 }\nprogramme = "nope"\n', "portfolio.programme"),
    ("[portfolio\n", "not valid TOML"),
    ("portfolio = 3\n", "[portfolio] table"),
    ("[portfolio]\narchetypes = { rising = 2 }\n[traits]\nn_firms = [10, 99999999999999999999999]\n", "traits.n_firms"),
    ("[portfolio]\narchetypes = { rising = 2 }\nmonths = 601\n", "portfolio.months"),
    ('[portfolio]\narchetypes = { rising = 2 }\n"odd\\nkey" = 1\n', "odd\\nkey"),
    ("[portfolio]\narchetypes = { rising = 2 }\nbudget = nan\n", "portfolio.budget"),
    ("[portfolio]\narchetypes = { rising = 2 }\n[traits]\nn_firms = [20.5, 40]\n", "traits.n_firms"),
    ("[portfolio]\narchetypes = { rising = 2 }\n[traits]\nn_firms = [true, 40]\n", "traits.n_firms"),
    ("[portfolio]\narchetypes = { rising = 2 }\n[traits]\nopenness = [0.1, inf]\n", "traits.openness"),
    ('[portfolio]\narchetypes = { rising = 2 }\nprogramme = "unfunded_plan"\n', "portfolio.programme"),
    ('[portfolio]\narchetypes = { rising = 2 }\nprogramme = "baseline"\n', "portfolio.programme"),
    # each range is valid at its ends alone, but 25 contacts among 15 firms is not a network
    (
        "[portfolio]\narchetypes = { rising = 6 }\nreplicates = 4\n[traits]\n"
        "n_firms = [10, 40]\nmean_degree = [4, 30]\n",
        "traits: replicate",
    ),
]


@pytest.mark.parametrize("text,key", BAD, ids=[k for _, k in BAD])
def test_a_bad_portfolio_file_is_one_line_naming_file_and_key(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_portfolio(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and key in message
    assert key == "not valid TOML" or "allowed" in message


def test_the_cli_rejects_a_bad_file_with_exit_2_and_no_output(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[portfolio]\narchetypes = { rising = 2 }\nfunded = 5\n")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "clustersim.cli", "portfolio", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "portfolio.funded" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_the_shipped_portfolio_loads():
    spec = load_portfolio(Path(__file__).parents[1] / "portfolios" / "ccpf_phase1.toml")
    assert spec.plans == 15 and spec.funded == 7
    named = load_portfolio("ccpf_phase1")  # a shipped portfolio by name, as the CLI accepts it
    assert named.plans == 15 and named.bases == spec.bases and named.budget == spec.budget


def test_an_unreadable_portfolio_is_one_line(tmp_path):
    (tmp_path / "folder.toml").mkdir()
    (tmp_path / "latin.toml").write_bytes("[portfolio]\nname = 'caf\xe9'\n".encode("latin-1"))
    for path in (tmp_path / "folder.toml", tmp_path / "latin.toml", tmp_path / "missing.toml"):
        with pytest.raises(ScenarioError) as err:
            load_portfolio(path)
        assert "\n" not in str(err.value) and str(path) in str(err.value) and "allowed" in str(err.value)


def test_a_plan_costs_its_budget_lines_when_the_budget_is_their_sum(tmp_path):
    """With programme_budget = 0 a plan costs the sum of its lines (the ledger's rule), so a funder's
    budget of two and a bit plans funds two, however many it is allowed."""
    (tmp_path / "lines.toml").write_text('extends = "funded_programme"\n[budget]\nprogramme_budget = 0.0\n')
    path = write(tmp_path, programme=str(tmp_path / "lines.toml"))
    text = path.read_text().replace("funded = 3\n", "funded = 3\nbudget = 1600.0\n")
    path.write_text(text)
    spec = load_portfolio(path)
    cost = programme_cost(spec.programme)
    # funded_programme's lines: grant 400 + manager 288 + BSO training 10 + firm training 30 + monitoring 30
    assert cost == pytest.approx(758.0)
    sel = select(spec, run_seed(spec.seed, 0))
    assert sel.funded.sum() == 2 and sel.best.sum() == 2
    # by default the funder can afford exactly the plans it may fund
    assert load_portfolio(write(tmp_path, programme=str(tmp_path / "lines.toml"))).budget == pytest.approx(3 * 758.0)


def test_z_score_without_spread():
    from clustersim.commands.portfolio import z_score

    assert z_score(0.1, 0.02) == pytest.approx(5.0)
    assert z_score(0.1, 0.0) == float("inf") and z_score(-0.1, 0.0) == float("-inf") and z_score(0.0, 0.0) == 0.0


def test_z_score_treats_rounding_noise_as_no_spread():
    import numpy as np

    from clustersim.commands.portfolio import z_score

    d = np.full(10, 0.1)  # identical differences; their float std is ~1e-17, not 0
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert z_score(float(d.mean()), se) == float("inf")


def test_an_archetype_plan_takes_all_its_cluster_traits():
    """female_job_share sits in [cluster]: the rising archetype's 0.5 must replace the programme's 0.75."""
    from clustersim.scenario import load_scenario

    spec = load_portfolio("ccpf_phase1")
    rising = dict(spec.bases)["rising"]
    assert load_scenario("rising")["female_job_share"] == rising["female_job_share"] == 0.5
    assert rising["programme_budget"] == spec.programme["programme_budget"]


def test_more_replicates_than_the_file_are_checked_too(tmp_path):
    """The CLI's --replicates can ask for more replicates than the file checked when it was read."""
    from clustersim.portfolio import check_draws

    text = "[portfolio]\narchetypes = { rising = 6 }\nreplicates = 1\nseed = {seed}\n[traits]\nn_firms = [10, 40]\nmean_degree = [4, 30]\n"
    for seed in range(50):
        path = tmp_path / "draws.toml"
        path.write_text(text.replace("{seed}", str(seed)))
        try:
            spec = load_portfolio(path)  # replicate 0 alone is a valid draw
        except ScenarioError:
            continue
        try:
            check_draws(spec, 8)
        except ScenarioError as exc:
            assert "traits: replicate" in str(exc) and "replicate 0" not in str(exc)
            return
    pytest.fail("no seed drew a valid replicate 0 and an invalid later one")


def test_a_portfolio_that_ends_before_its_programme_starts_is_rejected(tmp_path):
    (tmp_path / "late.toml").write_text('extends = "funded_programme"\n[programme]\nprogramme_start_month = 24\n')
    path = tmp_path / "p.toml"
    path.write_text('[portfolio]\narchetypes = { rising = 2 }\nprogramme = "late.toml"\nmonths = 24\n')
    with pytest.raises(ScenarioError, match="portfolio.months: allowed: more months than the programme's start"):
        load_portfolio(path)


def test_a_relative_programme_is_read_beside_the_portfolio(tmp_path):
    (tmp_path / "prog.toml").write_text('extends = "funded_programme"\n[budget]\nprogramme_budget = 900.0\n')
    path = tmp_path / "p.toml"
    path.write_text('[portfolio]\narchetypes = { rising = 2 }\nprogramme = "prog.toml"\n')
    assert load_portfolio(path).programme["programme_budget"] == 900.0


def test_clusters_in_several_batches_see_the_platform_as_when_stepped_one_by_one():
    """run_clusters batches the clusters it can (here two batches, interleaved: the tranche condition splits
    them) and links all of them by the platform; each cluster's series is bit for bit that of single-cluster
    models stepped side by side with the platform between months, in portfolio order."""
    from clustersim.ensemble_run import ensemble_groups
    from clustersim.portfolio import run_clusters

    scenarios = [
        load_scenario("funded_programme", n_firms=30, months=30),
        load_scenario("conditional_tranches", n_firms=20, months=30),
        load_scenario("funded_programme", n_firms=25, months=30, bso_staff=0, bso_training_staff=0),
        load_scenario("conditional_tranches", n_firms=30, months=30, platform_story_weight=0.5),
        load_scenario("funded_programme", n_firms=40, months=30, plan_funded=False),
    ]
    seeds = [11, 12, 13, 14, 15]
    assert ensemble_groups(scenarios) == [[0, 2, 4], [1, 3]]
    runs = run_clusters(scenarios, seeds, 30, platform_intensity=1.0)
    models = [ClusterModel(sc, seed=seed, streams="counter") for sc, seed in zip(scenarios, seeds, strict=True)]
    for _ in range(30):
        for m in models:
            m.step()
        platform.exchange([m.state for m in models], 1.0)
    for run, m in zip(runs, models, strict=True):
        alone = m.series()
        for column in ("share_cooperating", "bso_capacity", "mean_trust"):
            assert run.series[column].to_numpy().tobytes() == alone[column].to_numpy().tobytes(), column
        assert run.bso_capacity == m.bso.capacity and run.mean_cooperation == mean_cooperation(m)
    # the platform acted: the peer stories differ from a run without it
    quiet = run_clusters(scenarios, seeds, 30)
    assert any(
        not q.series["share_cooperating"].equals(r.series["share_cooperating"])
        for q, r in zip(quiet, runs, strict=True)
    )


@pytest.mark.parametrize(
    "edit, needles",
    [
        (('name = "ccpf_phase1"', 'name = "x/../../y"'), ["portfolio.name = 'x/../../y'", "cannot name a results folder"]),
        (("replicates = 10", "replicates = -2"), ["portfolio.replicates", "allowed: 1 to 10000"]),
        (("funded = 7", "funded = -1"), ["portfolio.funded", "allowed: 0 to 15"]),
        (("seed = 0", "seed = -5"), ["portfolio.seed", "allowed: 0 to"]),
    ],
)
def test_a_bad_name_or_count_gets_the_range_its_own_check_allows(tmp_path, edit, needles):
    """The name names the default results folder; an integer's message gives its own range, whatever its sign."""
    text = (Path(__file__).parents[1] / "portfolios" / "ccpf_phase1.toml").read_text()
    assert edit[0] in text
    path = tmp_path / "p.toml"
    path.write_text(text.replace(edit[0], edit[1]))
    with pytest.raises(ScenarioError) as err:
        load_portfolio(path)
    for needle in needles:
        assert needle in str(err.value), (needle, str(err.value))
