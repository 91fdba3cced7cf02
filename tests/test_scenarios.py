"""Scenario files: presets load, `extends` chains resolve, and every class of bad input is one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clustersim import ScenarioError, load_scenario, preset_names
from clustersim.cli import main
from clustersim.parameters import PARAMETERS
from clustersim.runner import run_scenario

REQUIRED = {
    "baseline",
    "funded_programme",
    "delayed_funding",
    "unfunded_plan",
    "prior_cooperative",
    "leader_firms",
    "pandemic_shock",
    "bso_turnover",
    "rising",
    "innovative",
    "sluggish",
}


def test_required_presets_exist_and_cite_sources():
    assert set(preset_names()) >= REQUIRED
    for name in preset_names():
        sc = load_scenario(name)
        assert len(sc.description) > 80, name
        assert "000" in sc.description or "004" in sc.description, f"{name} cites no source document"


def test_extends_chain_and_overrides():
    sc = load_scenario("delayed_funding")
    assert sc.chain == ("baseline", "funded_programme", "delayed_funding")
    assert sc.disbursement_delay_months == 18 and sc.manager_present is True
    assert load_scenario("delayed_funding", disbursement_delay_months=3).disbursement_delay_months == 3


def test_registry_has_unique_names_and_valid_defaults():
    names = [p.name for p in PARAMETERS]
    assert len(names) == len(set(names))
    load_scenario("baseline")  # defaults validate


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BAD = {
    "unknown key": ("[programme]\ngrant_amont = 5.0\n", ["grant_amont", "did you mean 'grant_amount'"]),
    "renamed key in another table": (
        "[programme]\nmanager_waits_for_first_tranche = true\n",
        ["manager_waits_for_first_tranche", "did you mean 'programme_waits_for_first_tranche' in [budget]"],
    ),
    "unknown section": ("[money]\ngrant_amount = 5.0\n", ["money", "allowed keys"]),
    "wrong section": ("[bso]\ngrant_amount = 5.0\n", ["grant_amount", "[programme]"]),
    "key at top level": ("grant_amount = 5.0\n", ["grant_amount", "[programme]"]),
    "wrong type": ('[programme]\ngrant_amount = "lots"\n', ["grant_amount", "wrong type", "float in 0..10000000"]),
    "bool for number": ("[cluster]\nn_firms = true\n", ["n_firms", "int in 3..200000"]),
    "fractional int": ("[cluster]\nn_firms = 10.5\n", ["n_firms", "whole number"]),
    "out of range": ("[programme]\ndisbursement_delay_months = -3\n", ["disbursement_delay_months", "int in 0..120"]),
    "bad choice": ('[manager]\nmanager_mode = "carrier pigeon"\n', ["manager_mode", "'face_to_face', 'online'"]),
    "not a bool": ('[manager]\nmanager_present = "yes"\n', ["manager_present", "true or false"]),
    "inconsistent": ("[bso]\nbso_staff = 1\nbso_training_staff = 3\n", ["bso_training_staff", "0..1"]),
    "bad toml": ("[programme\ngrant_amount = 1\n", ["not valid TOML"]),
    "missing parent": ('extends = "no_such_preset"\n', ["extends", "no_such_preset"]),
    "section not table": ("programme = 3\n", ["[programme]", "table"]),
    "unknown action type": ("[action_types.joint_exprt]\nmultiplier = 3.0\n", ["joint_exprt", "joint_export"]),
    "unknown action field": (
        "[action_types.joint_export]\nsuccess_treshold = 0.7\n",
        ["success_treshold", "[action_types.joint_export]", "did you mean 'success_threshold'"],
    ),
    "action value out of range": (
        "[action_types.joint_export]\nsuccess_threshold = 3\n",
        ["joint_export_success_threshold", "float in 0..1.5"],
    ),
    "action bool wrong type": ("[action_types.lobbying]\ncofinanced = 1\n", ["lobbying_cofinanced", "true or false"]),
    # the name names the default results folder (results/<name>): it may not leave it, hide it or break it
    "name climbs out of results": ('name = "../escape"\n', ["name = '../escape'", "cannot name a results folder"]),
    "name with a separator": ('name = "a/b"\n', ["name = 'a/b'", "without '/'"]),
    "empty name": ('name = ""\n', ["name = ''", "1 to 100 bytes"]),
    "name with a NUL": ('name = "a\\u0000b"\n', ["name = 'a\\x00b'", "control characters"]),
    "key with a line break": ('[programme]\n"a\\nb" = 1\n', ["unknown key 'a\\nb'", "allowed keys"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_naming_file_key_and_allowed(tmp_path, case, capsys):
    text, needles = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg
    for needle in needles:
        assert needle in msg, (needle, msg)
    # the CLI prints that one line and exits 2, with no partial output
    out = tmp_path / "out"
    assert main(["run", str(path), "--replicates", "1", "--out", str(out)]) == 2
    err_text = capsys.readouterr().err.strip()
    assert err_text.count("\n") == 0 and "Traceback" not in err_text and str(path) in err_text
    assert not out.exists()


def test_missing_file_and_unknown_preset(capsys):
    assert main(["run", "does/not/exist.toml"]) == 2
    assert "does/not/exist.toml: file not found; allowed: a preset name" in capsys.readouterr().err
    assert main(["run", str(Path(__file__).parent)]) == 2  # a folder is named as one
    assert "a folder, not a file; allowed:" in capsys.readouterr().err
    assert main(["describe", "no_such_preset"]) == 2
    assert "no such preset" in capsys.readouterr().err


def test_bad_set_override(capsys):
    assert main(["run", "baseline", "--set", "trust_decay=7", "--out", "/tmp/never"]) == 2
    err = capsys.readouterr().err
    assert "--set: trust_decay = 7" in err and "float in 0..0.3" in err


def test_circular_extends(tmp_path):
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(tmp_path / "a.toml")


def test_cli_subprocess_has_no_traceback(tmp_path):
    path = write(tmp_path, "[trust]\ntrust_gain = 9\n")
    proc = subprocess.run([sys.executable, "-m", "clustersim.cli", "run", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_negative_seed_and_unwritable_output_are_one_line_errors(capsys):
    assert main(["run", "baseline", "--seed", "-1"]) == 2
    assert main(["run", "baseline", "--replicates", "1", "--months", "2", "--out", "/proc/no/such"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("clustersim: error:") for line in err)


def test_action_type_table_can_be_overridden_per_type(tmp_path):
    """[action_types.<type>] sub-tables and flat <type>_<field> keys both reach the model's table."""
    from clustersim import ClusterModel

    path = write(
        tmp_path,
        'extends = "funded_programme"\n[action_types.joint_export]\nsuccess_threshold = 0.7\nduration_months = 9\n'
        "[action_types]\nlobbying_cofinanced = true\n",
        "ok.toml",
    )
    s = load_scenario(path)
    assert s.joint_export_success_threshold == 0.7 and s.joint_export_duration_months == 9 and s.lobbying_cofinanced
    types = ClusterModel(s, seed=0).types
    assert types.success_threshold[3] == 0.7 and types.duration_months[3] == 9 and types.cofinanced.all()
    assert types.success_threshold[0] == load_scenario("baseline").knowledge_sharing_success_threshold


def test_summary_outputs_are_declared_once():
    from clustersim import ClusterModel
    from clustersim.metrics import CATEGORICAL_SUMMARY, SUMMARY_INFO, SUMMARY_METRICS

    assert tuple(SUMMARY_INFO) == SUMMARY_METRICS
    assert all(unit and meaning for unit, meaning in SUMMARY_INFO.values())
    summary = ClusterModel("funded_programme", seed=0).run(40).summary()
    assert set(summary) - set(CATEGORICAL_SUMMARY) == set(SUMMARY_METRICS)


def test_run_with_counter_streams_records_them_in_the_manifest(tmp_path):
    out = tmp_path / "counter"
    args = ["run", "baseline", "--replicates", "2", "--months", "6", "--streams", "counter", "--out", str(out)]
    assert main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"]["streams"] == "counter"
    series, _ = run_scenario("baseline", replicates=2, months=6, streams="counter")
    stored = pd.read_parquet(out / "series.parquet")
    assert np.allclose(stored["mean_trust"], series["mean_trust"])


def test_force_replaces_results_but_never_a_folder_clustersim_did_not_write(tmp_path, capsys):
    """--force replaces earlier results; a folder holding other files (here the scenario being run) is refused."""
    folder = tmp_path / "work"
    folder.mkdir()
    scenario = folder / "mine.toml"
    scenario.write_text('extends = "baseline"\n')
    argv = ["run", str(scenario), "--replicates", "1", "--months", "3", "--out", str(folder), "--force"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a clustersim results folder" in err
    assert scenario.read_text() == 'extends = "baseline"\n'
    results = tmp_path / "results"
    argv[-3:-1] = ["--out", str(results)]
    assert main(argv) == 0 and main(argv) == 0  # a results folder is replaced
    assert (results / "manifest.json").is_file()


def test_compare_records_what_it_ran_in_a_manifest(tmp_path):
    out = tmp_path / "cmp"
    argv = ["compare", "funded_programme", "delayed_funding", "--replicates", "2", "--months", "6"]
    assert main([*argv, "--executor", "serial", "--posterior", "none", "--seed", "5", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in manifest["scenarios"]] == ["funded_programme", "delayed_funding", "baseline"]
    assert manifest["scenarios"][1]["parameters"]["programme_waits_for_first_tranche"] is True
    assert manifest["scenarios"][0]["parameters"]["months"] == 6
    runs = pd.read_csv(out / "runs.csv")
    assert manifest["seeds"]["root_seed"] == 5 and manifest["seeds"]["replicate_seeds"] == sorted(
        set(runs["seed"]), key=list(runs["seed"]).index
    )
    assert manifest["posterior"] == "none" and manifest["versions"]["numpy"] and sorted(manifest["files"]) == sorted(
        p.name for p in out.iterdir()
    )


def test_a_name_taken_from_the_file_is_checked_and_force_needs_a_real_record(tmp_path, capsys):
    """A file without a name gives its own (``..`` from ``...toml``): it must pass the same check. And a folder
    merely holding a file called manifest.json was not written by clustersim: --force leaves it."""
    hidden = tmp_path / ".hidden.toml"
    hidden.write_text('extends = "baseline"\n')
    assert main(["run", str(hidden), "--replicates", "1", "--months", "2"]) == 2
    assert "the file's name" in capsys.readouterr().err
    web = tmp_path / "web"
    web.mkdir()
    (web / "manifest.json").write_text('{"a": 1}')
    (web / "index.html").write_text("keep")
    assert main(["run", "baseline", "--replicates", "1", "--months", "2", "--out", str(web), "--force"]) == 2
    assert (web / "index.html").read_text() == "keep"


def test_compare_records_the_scenarios_as_they_ran_not_as_the_files_read_later(tmp_path, monkeypatch):
    """A scenario file edited while the comparison runs: the manifest records the parameters that ran."""
    import clustersim.experiments as experiments

    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "funded_programme"\n[programme]\ngrant_amount = 100.0\n')
    real = experiments.compare_scenarios

    def compare_then_edit(*args, **kwargs):
        result = real(*args, **kwargs)
        mine.write_text('extends = "funded_programme"\n[programme]\ngrant_amount = 999.0\n')
        return result

    monkeypatch.setattr(experiments, "compare_scenarios", compare_then_edit)
    out = tmp_path / "cmp"
    argv = ["compare", str(mine), "--replicates", "1", "--months", "3", "--executor", "serial", "--posterior", "none"]
    assert main([*argv, "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenarios"][0]["parameters"]["grant_amount"] == 100.0
