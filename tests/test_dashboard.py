"""The trainer dashboard, in process: the page builds for every preset and lesson, controls drive the model,
the network layout is computed once per reset, and the launch command fails cleanly on bad input."""

from __future__ import annotations

from pathlib import Path

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara

from clustersim import load_scenario, preset_names
from clustersim.cli import main
from clustersim.commands import dashboard as dashboard_command
from clustersim.dashboard import app, views
from clustersim.dashboard.lessons import BY_CODE, LESSONS, lesson_markdown
from clustersim.policy import LINE_KEYS

PNG = b"\x89PNG"


def render_page(monkeypatch, scenario: str):
    """Render the page as the solara server does: inside an AppLayout (so the sidebar exists), the scenario
    passed through the environment variable that ``clustersim dashboard`` sets."""
    monkeypatch.setenv(app.SCENARIO_ENV, scenario)
    dash = app.Dashboard()
    box, rc = solara.render(solara.AppLayout(children=[app.Page(dashboard=dash)]), handle_error=False)
    return rc, dash


def test_page_opens_the_scenario_from_the_environment(monkeypatch):
    monkeypatch.setenv(app.SCENARIO_ENV, "leader_firms")
    box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    assert rc.find(v.Select, class_="scenario-picker").widget.v_model == "leader_firms"
    rc.close()


def image(rc, css: str) -> ipywidgets.Image:
    return next(w for w in rc.find(ipywidgets.Image).widgets if css in w._dom_classes)


def month_text(rc) -> list[str]:
    return [w.children[0] for w in rc.find(v.Html, class_="headline-month").widgets]


def button(rc, css: str) -> v.Btn:
    return rc.find(v.Btn, class_=css).widget


@pytest.mark.parametrize("scenario", preset_names())
def test_page_builds_for_every_preset(monkeypatch, scenario):
    rc, dash = render_page(monkeypatch, scenario)
    months = load_scenario(scenario).months
    assert dash.scenario_name == scenario
    assert month_text(rc) == [f"0 of {months}"]
    assert bytes(image(rc, "network-view").value).startswith(PNG)
    assert bytes(image(rc, "series-view").value).startswith(PNG)
    picker = rc.find(v.Select, class_="scenario-picker").widget
    assert picker.v_model == scenario
    assert set(preset_names()) <= set(picker.items)
    rc.close()


def test_every_lever_has_a_plain_label_with_unit():
    for c in app.CONTROLS:
        assert c.label[0].isupper() and "_" not in c.label, c
        if c.kind != "bool":
            assert "(" in c.label and ")" in c.label, f"{c.name}: label names no unit"
    levers = {c.name for c in app.CONTROLS}
    assert {
        "grant_amount",
        "disbursement_delay_months",
        "bso_training_staff",
        "bso_turnover_rate",
        "leader_firms",
        "manager_present",
        "manager_skill",
        "pandemic",
        "pandemic_start_month",
        "pandemic_months",
        "n_firms",
        "plan_funded",
        "exit_taper_months",
        "programme_budget",
        *app.LINE_CONTROLS,
    } <= levers
    assert set(app.LINE_CONTROLS) == set(LINE_KEYS.values())  # every budget line of the model is a lever


def test_step_button_advances_the_month_and_redraws(monkeypatch):
    rc, dash = render_page(monkeypatch, "funded_programme")
    network0, series0 = bytes(image(rc, "network-view").value), bytes(image(rc, "series-view").value)
    for _ in range(3):
        button(rc, "btn-step").click()
    assert month_text(rc) == ["3 of 120"]
    assert dash.month == 3
    assert bytes(image(rc, "series-view").value) != series0
    assert bytes(image(rc, "network-view").value) != network0
    rc.close()


def test_slider_change_takes_effect_on_reset(monkeypatch):
    rc, dash = render_page(monkeypatch, "funded_programme")
    button(rc, "btn-step").click()
    # the number-of-firms slider is the one whose label names firms; move it as the browser would
    sliders = rc.find(v.Slider).widgets
    firms = next(s for s in sliders if s.max == 400 and s.v_model == 60)
    firms.v_model = 120
    assert dash.runs[0].model.firms.n == 60  # not yet: levers apply on reset
    button(rc, "btn-reset").click()
    assert dash.runs[0].model.firms.n == 120
    assert month_text(rc) == ["0 of 120"]
    values = [w.children[0] for w in rc.find(v.Html, class_="headline-value").widgets]
    assert values[0] == "0 of 120"  # firms cooperating, out of 120
    rc.close()


def test_picking_a_scenario_loads_its_levers(monkeypatch):
    rc, dash = render_page(monkeypatch, "funded_programme")
    rc.find(v.Select, class_="scenario-picker").widget.v_model = "delayed_funding"
    assert dash.runs[0].model.params.disbursement_delay_months == 18
    labels = [w.children[0] for w in rc.find(v.Html, class_="control-label").widgets]
    assert "Disbursement delay (months): 18" in labels
    rc.close()


def test_layout_is_computed_once_per_reset_not_per_step(monkeypatch):
    calls = []
    real = views.compute_layout

    def counting(model, *a, **kw):
        calls.append(model)
        return real(model, *a, **kw)

    monkeypatch.setattr(views, "compute_layout", counting)
    dash = app.Dashboard("leader_firms")
    assert len(calls) == 1
    pos = dash.runs[0].layout.pos.copy()
    for _ in range(12):
        dash.step()
        dash.network_png(0)
        dash.series_png()
    assert len(calls) == 1
    assert np.array_equal(dash.runs[0].layout.pos, pos)
    dash.reset()
    assert len(calls) == 2
    # compare mode: both runs share the cluster's structure, so one layout serves both sides
    dash.compare, dash.compare_lever, dash.compare_value = True, "disbursement_delay_months", 18
    dash.reset()
    assert len(calls) == 3 and dash.runs[0].layout is dash.runs[1].layout
    # ... unless the lever changes the cluster itself
    dash.compare_lever, dash.compare_value = "n_firms", 80
    dash.reset()
    assert len(calls) == 5


def test_layout_is_seeded():
    a = views.compute_layout(app.Dashboard("baseline").runs[0].model)
    b = views.compute_layout(app.Dashboard("baseline").runs[0].model)
    assert np.array_equal(a.pos, b.pos)
    assert a.pos.min() >= -1.0 and a.pos.max() <= 1.0


def test_compare_mode_differs_only_in_the_lever():
    dash = app.Dashboard("funded_programme")
    dash.compare, dash.compare_lever, dash.compare_value = True, "disbursement_delay_months", 0
    dash.reset()
    dash.step(24)
    a, b = (r.model for r in dash.runs)
    assert a.series().equals(b.series())  # same seed, same lever value: the same run
    dash.compare_value = 18
    dash.reset()
    dash.step(12)
    a, b = (r.model for r in dash.runs)
    assert a.params.disbursement_delay_months == 0 and b.params.disbursement_delay_months == 18
    assert a.current["money_disbursed"] > 0 and b.current["money_disbursed"] == 0
    assert a.firms.n == b.firms.n and np.array_equal(a.firms.size, b.firms.size)  # the same cluster


@pytest.mark.parametrize("code", [lesson.code for lesson in LESSONS])
def test_every_lesson_loads_with_its_counterfactual(code):
    lesson = BY_CODE[code]
    dash = app.Dashboard("baseline")
    dash.load_lesson(code)
    assert dash.error is None and dash.compare and len(dash.runs) == 2
    a, b = (r.model for r in dash.runs)
    assert a.params.name == lesson.scenario
    lever, value_b = lesson.compare
    assert lever in app.BY_CONTROL
    overrides_b = app.overrides_from_controls({**dash.controls, lever: value_b})
    assert all(b.params[k] == val for k, val in overrides_b.items())
    assert app.controls_from_scenario(a.params)[lever] != value_b, "run B must differ from run A"
    note = lesson.trainer_note()
    assert "(000" in note or "(004" in note, "the note names its source case"
    assert 2 <= note.count(". ") + 1 <= 5
    dash.step(3)
    assert dash.network_png(1).startswith(PNG) and dash.series_png().startswith(PNG)


def test_required_lessons_exist_and_reuse_the_preset_text():
    assert {"SF1", "SF2", "SF3", "SF4", "SF8"} <= set(BY_CODE)
    for lesson in LESSONS:
        preset_text = load_scenario(lesson.scenario).lesson
        if preset_text:
            assert lesson.trainer_note().startswith(preset_text)
    md = lesson_markdown()
    assert all(f"**{lesson.label}**" in md for lesson in LESSONS)


def test_bad_lever_setting_keeps_the_old_runs_and_says_why():
    dash = app.Dashboard("funded_programme")
    old = dash.runs[0].model
    dash.controls["bso_training_staff"] = 5  # more trainees than the BSO's 2 staff
    assert dash.reset() is False
    assert "bso_training_staff" in dash.error and "\n" not in dash.error
    assert dash.runs[0].model is old


def test_budget_lines_stay_within_the_programme_budget_and_reach_the_model():
    dash = app.Dashboard("funded_programme")
    assert dash.budget_readout == ("Lines total 758 of 760 k$ (2 k$ not allocated).", True)
    assert dash.control_high(app.BY_CONTROL["grant_amount"]) == pytest.approx(402.0)  # what the others leave
    dash.set_control("grant_amount", 900.0)  # more than the budget leaves: kept within it
    assert dash.controls["grant_amount"] == pytest.approx(402.0)
    assert dash.budget_readout == ("Lines total 760 of 760 k$ (0 k$ not allocated).", True)
    dash.set_control("budget_manager", 144.0)
    dash.set_control("exit_taper_months", 12)
    assert dash.reset() and dash.error is None
    m = dash.runs[0].model
    assert m.ledger.allocation["cofinancing"] == 402.0 and m.ledger.allocation["manager"] == 144.0
    assert m.params.exit_taper_months == 12 and m.ledger.budget == 760.0
    # a budget lowered below its lines: the read-out says so and reset refuses in one line
    dash.set_control("programme_budget", 500.0)
    text, fits = dash.budget_readout
    assert not fits and "over the budget of 500 k$ by 116 k$" in text
    assert dash.reset() is False and "programme_budget" in dash.error and "\n" not in dash.error
    assert dash.runs[0].model is m
    dash.set_control("programme_budget", 0.0)  # 0: the budget is the sum of the lines, nothing caps them
    assert dash.budget_readout[1] and dash.control_high(app.BY_CONTROL["grant_amount"]) == 1000


def test_budget_card_keeps_a_line_slider_within_the_budget(monkeypatch):
    rc, dash = render_page(monkeypatch, "funded_programme")
    readout = rc.find(v.Html, class_="budget-readout").widget
    assert readout.children[0] == "Lines total 758 of 760 k$ (2 k$ not allocated)."
    grant = next(s for s in rc.find(v.Slider).widgets if s.v_model == 400 and s.max == 402)
    grant.v_model = 700  # dragged past what the budget leaves
    assert dash.controls["grant_amount"] == pytest.approx(402.0)
    assert rc.find(v.Html, class_="budget-readout").widget.children[0].startswith("Lines total 760 of 760 k$")
    assert any(s.v_model == 402 and s.max == 402 for s in rc.find(v.Slider).widgets), "the slider snaps back"
    rc.close()


def test_money_panel_shows_lines_and_the_association(monkeypatch):
    rc, dash = render_page(monkeypatch, "tapered_exit")
    table = rc.find(v.Html, class_="money-view").widget.children[0].unsafe_innerHTML  # the budget-line table
    assert "Cluster manager" in table and "Co-financing grant" in table and ">288<" in table
    assert "has not formed yet" in rc.find(v.Html, class_="association-text").widget.children[0]
    assert views.headline(dash.runs[0].model)["Cluster association"] == "not formed"
    dash.seed = 1  # a run in which members found the association (month 57); with seed 0 they do not
    dash.reset()
    dash.step(2)
    assert "paid 100% by the programme" in views.association_text(dash.runs[0].model, dash.runs[0].manager_pay)
    dash.step(118)
    m, pay = dash.runs[0].model, dash.runs[0].manager_pay
    a = m.association
    assert a.formed, "with seed 1 members found the association in the tapered exit"
    assert views.headline(m)["Cluster association"] == f"since month {a.formed_month}"
    assert pay.programme == 0.0 and pay.association > 0  # after the programme only the association pays
    text = views.association_text(m, pay)
    assert f"formed in month {a.formed_month}" in text and "by the association" in text and "\n" not in text
    spent = {label: (budget, paid) for label, budget, paid, _ in views.money_rows(m)}
    assert spent["Cluster manager"] == (288.0, pytest.approx(m.ledger.spent["manager"]))
    assert m.ledger.spent["manager"] < 288.0  # the taper leaves part of the manager's line to the association
    assert views.headline(m)["Programme money spent (k$)"] == f"{m.ledger.programme_cost:,.0f} of 760"
    rc.close()


def test_pandemic_switch_sets_length():
    dash = app.Dashboard("funded_programme")
    assert dash.controls["pandemic"] is False
    dash.controls.update(pandemic=True, pandemic_start_month=3, pandemic_months=6)
    dash.reset()
    assert dash.runs[0].model.calendar.pandemic == (3, 9)
    dash.controls["pandemic"] = False
    dash.reset()
    assert dash.runs[0].model.calendar.pandemic is None


def test_contacts_drawn_are_this_months_contacts():
    dash = app.Dashboard("funded_programme")
    dash.step(5)
    m = dash.runs[0].model
    bso, mgr = views.bso_contacts(m), views.manager_contacts(m)
    assert mgr.size > 0 and bso.size > 0
    assert np.array_equal(bso, m.bso.contacted) and np.array_equal(mgr, m.manager.contacted)
    assert set(bso) | set(mgr) == set(np.flatnonzero(m.contacted))


def test_dashboard_command_rejects_a_bad_scenario_in_one_line(capsys):
    assert main(["dashboard", "no_such_scenario"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("clustersim: error:") and "no_such_scenario" in err and "\n" not in err


def test_dashboard_server_runs_offline():
    cmd = dashboard_command.server_command(8765, "localhost")
    assert cmd[-1] == "--no-check-version" and str(dashboard_command.APP) in cmd
    assert dashboard_command.APP.exists()
    env = dashboard_command.server_env("leader_firms")
    assert env[app.SCENARIO_ENV] == "leader_firms"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False" and env["SOLARA_ASSETS_PROXY"] == "True"
    assert dashboard_command.SCENARIO_ENV == app.SCENARIO_ENV


def test_trainer_docs_carry_every_lesson_note_and_the_screenshot():
    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "dashboard.md").read_text()
    for lesson in LESSONS:
        assert f"**{lesson.label}**" in doc and lesson.trainer_note() in doc, f"docs/dashboard.md: {lesson.code}"
    assert "(img/dashboard.png)" in doc and (root / "docs" / "img" / "dashboard.png").stat().st_size > 10_000
