"""The trainer dashboard: a Solara app that runs a cluster month by month in the browser.

Run it with ``clustersim dashboard [SCENARIO]`` or, the Mesa convention,
``solara run clustersim/dashboard/app.py`` (the scenario then comes from the
``CLUSTERSIM_DASHBOARD_SCENARIO`` environment variable, default
``funded_programme``).

The app is written with plain Solara components rather than Mesa's
``SolaraViz``: SolaraViz rebuilds a model by passing Mesa's own ``Scenario``
object as the ``scenario`` argument (which clashes with clustersim's preset
name argument), imports Altair whose assets come from a CDN, and lays pages
out with a draggable grid. Everything here is drawn with matplotlib.

:class:`Dashboard` holds the runs and the control values and knows nothing
about Solara, so tests can drive it directly; :func:`Page` is the view.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import solara
import solara.lab

# absolute imports: ``solara run`` executes this file as a stand-alone module, outside its package
from clustersim.dashboard import views
from clustersim.dashboard.lessons import BY_CODE, LESSONS, Lesson
from clustersim.model import ClusterModel
from clustersim.policy import LINE_KEYS
from clustersim.scenario import Scenario, ScenarioError, load_scenario, preset_names
from clustersim.style import scenario_color

#: environment variable through which ``clustersim dashboard SCENARIO`` passes the scenario
SCENARIO_ENV = "CLUSTERSIM_DASHBOARD_SCENARIO"
DEFAULT_SCENARIO = "funded_programme"
COMPARE_COLOR_B = "#ff7f0e"


@dataclass(frozen=True)
class Control:
    """One lever on the control panel. ``name`` is a scenario parameter, except ``pandemic`` (on/off).

    ``group`` is the card it sits on: ``"budget"`` (the programme budget and its lines) or ``"lever"``.
    """

    name: str
    label: str
    kind: str  # int, float or bool
    low: float = 0
    high: float = 1
    step: float = 1
    group: str = "lever"


#: the budget lines' controls (scenario keys), in the order of ``policy.LINES``
LINE_CONTROLS: tuple[str, ...] = tuple(LINE_KEYS.values())
BUDGET = "programme_budget"

CONTROLS: tuple[Control, ...] = (
    # the programme's one budget and its lines (k$); a line's slider stops at what the budget leaves
    Control(BUDGET, "Programme budget (k$; 0 = the sum of the lines)", "float", 0, 2000, 10, "budget"),
    Control("budget_manager", "Cluster manager salary (k$; 3 k$ a month)", "float", 0, 600, 6, "budget"),
    Control("grant_amount", "Co-financing grant for joint actions (k$)", "float", 0, 1000, 10, "budget"),
    Control("budget_bso_training", "BSO training (k$; 5 k$ an officer)", "float", 0, 50, 5, "budget"),
    Control("budget_firm_training", "Firm training (k$; 1 k$ a firm)", "float", 0, 100, 2, "budget"),
    Control("budget_monitoring", "Monitoring (k$)", "float", 0, 60, 3, "budget"),
    Control("budget_regional_exchange", "Regional exchange visits (k$; 5 k$ a visit)", "float", 0, 100, 5, "budget"),
    Control(
        "regional_exchange_interval_months", "Regional exchange every (months; 0 = none)", "int", 0, 48, 6, "budget"
    ),
    Control("budget_leader_incentive", "Leader-firm incentives (k$)", "float", 0, 500, 10, "budget"),
    # when the money comes, and how the programme leaves
    Control("plan_funded", "Plan funded: the funder pays what it approved", "bool"),
    Control("cofinancing_paced", "Co-financing paced over each tranche (else paid on demand)", "bool"),
    Control("disbursement_delay_months", "Disbursement delay (months)", "int", 0, 36, 1),
    Control("exit_taper_months", "Exit taper: manager handed to the association over (months)", "int", 0, 48, 6),
    Control("bso_training_staff", "BSO staff trained (persons)", "int", 0, 2, 1),  # high = the scenario's bso_staff
    Control("bso_turnover_rate", "Trained-staff turnover (share leaving per month)", "float", 0, 0.2, 0.01),
    Control("leader_firms", "Leader firms (firms)", "int", 0, 10, 1),
    Control("manager_present", "Cluster manager present", "bool"),
    Control("manager_skill", "Cluster manager skill (0 = none, 1 = expert)", "float", 0, 1, 0.05),
    Control("pandemic", "Pandemic: no face-to-face contact", "bool"),
    Control("pandemic_start_month", "Pandemic starts (month)", "int", 0, 96, 1),
    Control("pandemic_months", "Pandemic length (months)", "int", 1, 36, 1),
    Control("n_firms", "Number of firms (firms)", "int", 10, 400, 10),
    Control("prior_cooperative_share", "Firms in a prior cooperative (share)", "float", 0, 1, 0.05),
)
BY_CONTROL: dict[str, Control] = {c.name: c for c in CONTROLS}
BY_LABEL: dict[str, Control] = {c.label: c for c in CONTROLS}
DEFAULT_PANDEMIC_MONTHS = 18
assert set(LINE_CONTROLS) <= set(BY_CONTROL), "every budget line needs a control"


def lines_total(values: dict[str, object]) -> float:
    """k$ the budget lines of control values add up to."""
    return float(sum(float(values[k]) for k in LINE_CONTROLS))


def budget_left(values: dict[str, object], line: str | None = None) -> float:
    """k$ the programme budget leaves beside the lines (all of them, or all but ``line``); inf when the
    budget is 0 (the budget is then the sum of the lines)."""
    budget = float(values[BUDGET])
    if budget <= 0:
        return float("inf")
    used = lines_total(values) - (float(values[line]) if line else 0.0)
    return budget - used


def budget_readout(values: dict[str, object]) -> tuple[str, bool]:
    """The budget read-out under the line sliders, and whether the lines fit in the budget."""
    total, budget = lines_total(values), float(values[BUDGET])
    if budget <= 0:
        return f"Lines total {total:,.0f} k$: the programme budget is their sum.", True
    left = budget - total
    if left < -1e-9:  # 1e-9: k$ rounding
        return (
            f"Lines total {total:,.0f} k$, over the budget of {budget:,.0f} k$ by {-left:,.0f} k$: "
            "lower a line or raise the budget.",
            False,
        )
    return f"Lines total {total:,.0f} of {budget:,.0f} k$ ({left:,.0f} k$ not allocated).", True


def initial_scenario() -> str:
    """The scenario to open with: the environment variable set by ``clustersim dashboard``, or the default."""
    return os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO


def controls_from_scenario(s: Scenario) -> dict[str, object]:
    """Control values that reproduce scenario ``s``."""
    values = {c.name: s[c.name] for c in CONTROLS if c.name != "pandemic"}
    values["pandemic"] = s.pandemic_months > 0
    if not values["pandemic"]:
        values["pandemic_months"] = DEFAULT_PANDEMIC_MONTHS
    return values


def overrides_from_controls(values: dict[str, object]) -> dict[str, object]:
    """Scenario parameter overrides from control values (the pandemic switch sets its length to 0)."""
    out = {k: v for k, v in values.items() if k != "pandemic"}
    if not values["pandemic"]:
        out["pandemic_months"] = 0
    for c in CONTROLS:
        if c.kind == "int" and c.name in out:
            out[c.name] = int(out[c.name])
        elif c.kind == "float" and c.name in out:
            out[c.name] = float(out[c.name])
    return out


def describe(name: str, value: object) -> str:
    """``"Disbursement delay (months) = 18"`` for figure labels."""
    label = BY_CONTROL[name].label if name in BY_CONTROL else name
    if isinstance(value, bool):
        value = "on" if value else "off"
    elif isinstance(value, float):
        value = f"{value:g}"
    return f"{label} = {value}"


@dataclass
class Run:
    """One model on screen, with the layout and the network picture made for it at reset."""

    label: str
    model: ClusterModel
    layout: views.NetworkLayout
    color: str
    network: views.NetworkPicture | None = None
    manager_pay: views.ManagerPay = views.ManagerPay()  # who paid the manager in the month just run

    def __post_init__(self):
        heading = "" if self.label == self.model.params.name else self.label  # compare runs name their lever
        self.network = views.NetworkPicture(self.model, self.layout, label=heading)

    def step(self) -> None:
        before = views.manager_paid_so_far(self.model)
        self.model.step()
        self.manager_pay = views.ManagerPay.between(self.model, before)


class Dashboard:
    """The dashboard's state: chosen scenario, control values, seed, compare settings and the runs.

    Control changes take effect at the next :meth:`reset`, as in Mesa's
    SolaraViz; picking a scenario or a lesson resets at once.
    """

    def __init__(self, scenario: str | None = None, seed: int = 0):
        self.scenario_name = scenario or initial_scenario()
        self.base = load_scenario(self.scenario_name)
        self.controls = controls_from_scenario(self.base)
        self.seed = seed
        self.compare = False
        self.compare_lever = "disbursement_delay_months"
        self.compare_value: object = 0
        self.threshold = views.DEFAULT_TRUST_THRESHOLD
        self.lesson: Lesson | None = None
        self.error: str | None = None
        self.runs: list[Run] = []
        self.series: views.SeriesPicture | None = None
        self.lock = threading.RLock()
        self.clamped: dict[str, int] = {}  # how often each budget line was kept within the budget
        self.reset()

    # -------------------------------------------------------------- choices
    @property
    def scenario_choices(self) -> list[str]:
        names = preset_names()
        return names if self.scenario_name in names else [*names, self.scenario_name]

    def control_high(self, c: Control) -> float:
        """Upper end of a control's range: the trained-staff slider stops at the BSO's staff, and a budget
        line's at what the programme budget leaves beside the other lines (never below its own value)."""
        if c.name == "bso_training_staff":
            return self.base.bso_staff
        if c.name in LINE_CONTROLS:
            left = budget_left(self.controls, c.name)
            return c.high if left == float("inf") else max(left, float(self.controls[c.name]))
        return c.high

    def set_control(self, name: str, value) -> None:
        """Set a lever; a budget line is kept within what the programme budget leaves beside the others."""
        if name in LINE_CONTROLS:
            wanted = float(value)
            value = max(0.0, min(wanted, budget_left(self.controls, name)))
            if value != wanted:  # the slider must show the value kept, not the one dragged to: redraw it
                self.clamped[name] = self.clamped.get(name, 0) + 1
        self.controls[name] = value

    @property
    def budget_readout(self) -> tuple[str, bool]:
        return budget_readout(self.controls)

    def set_compare_lever(self, name: str) -> None:
        """Choose the lever run B changes; its value in B starts at run A's value."""
        self.compare_lever = name
        self.compare_value = self.controls[name]

    def load_scenario(self, name: str) -> None:
        """Put a scenario's values on the controls and reset."""
        self.base = load_scenario(name)
        self.scenario_name = name
        self.controls = controls_from_scenario(self.base)
        self.lesson = None
        self.reset()

    def load_lesson(self, code: str) -> None:
        """Load a lesson: its scenario on the controls, its counterfactual in compare mode, then reset."""
        lesson = BY_CODE[code]
        self.base = load_scenario(lesson.scenario)
        self.scenario_name = lesson.scenario
        self.controls = {**controls_from_scenario(self.base), **lesson.settings}
        self.compare_lever, self.compare_value = lesson.compare
        self.compare = True
        self.lesson = lesson
        self.reset()

    # ----------------------------------------------------------------- runs
    def run_b_controls(self) -> dict[str, object]:
        return {**self.controls, self.compare_lever: self.compare_value}

    def reset(self) -> bool:
        """Build fresh models from the controls and compute each network layout once.

        On a bad setting the old runs stay and :attr:`error` holds the one-line reason.
        """
        try:
            model_a = ClusterModel(self.base, seed=self.seed, **overrides_from_controls(self.controls))
            model_b = None
            if self.compare:
                model_b = ClusterModel(self.base, seed=self.seed, **overrides_from_controls(self.run_b_controls()))
        except ScenarioError as exc:
            self.error = str(exc)
            return False
        layout_a = views.compute_layout(model_a)
        color_a = scenario_color(self.scenario_name)
        if model_b is None:
            runs = [Run(model_a.params.name, model_a, layout_a, color_a)]
        else:
            # the same cluster drawn the same way on both sides, unless the lever changed its structure
            layout_b = layout_a if views.same_structure(model_a, model_b) else views.compute_layout(model_b)
            color_b = COMPARE_COLOR_B if color_a != COMPARE_COLOR_B else "#1f77b4"
            runs = [
                Run(
                    f"A: {describe(self.compare_lever, self.controls[self.compare_lever])}", model_a, layout_a, color_a
                ),
                Run(f"B: {describe(self.compare_lever, self.compare_value)}", model_b, layout_b, color_b),
            ]
        series = views.SeriesPicture([(r.label, r.model, r.color) for r in runs])
        with self.lock:
            self.runs, self.series = runs, series
            self.set_threshold(self.threshold)
        self.error = None
        return True

    def set_threshold(self, value: float) -> None:
        """Draw ties with trust at or above ``value`` (takes effect at once, no reset)."""
        self.threshold = float(value)
        for r in self.runs:
            r.network.threshold = self.threshold

    def network_png(self, i: int) -> bytes:
        with self.lock:  # never draw a model while the play thread is half-way through its month
            return self.runs[i].network.png()

    def series_png(self) -> bytes:
        with self.lock:
            return self.series.png()

    @property
    def month(self) -> int:
        return self.runs[0].model.month

    @property
    def finished(self) -> bool:
        return all(r.model.month >= r.model.params.months for r in self.runs)

    def step(self, months: int = 1) -> bool:
        """Advance every run by up to ``months`` (not past its horizon); False when all are finished."""
        with self.lock:
            for _ in range(months):
                if self.finished:
                    return False
                for r in self.runs:
                    if r.model.month < r.model.params.months:
                        r.step()
        return True


# ====================================================================== view
@solara.component
def Headline(run: Run, tick: int):
    """The five headline numbers of one run, in a row of tiles that wraps on narrow screens."""
    grid = {"display": "grid", "grid-template-columns": "repeat(auto-fit, minmax(96px, 1fr))", "gap": "6px"}
    tile = {"border": "1px solid #ddd", "border-radius": "6px", "padding": "4px 8px", "background": "white"}
    with solara.Div(classes=["headline"], style=grid):
        for i, (label, value) in enumerate(views.headline(run.model).items()):
            with solara.Div(style=tile):
                solara.Text(
                    label, style={"font-size": "12px", "color": "#555", "line-height": "1.2", "display": "block"}
                )
                solara.Text(
                    value,
                    classes=["headline-month" if i == 0 else "headline-value"],
                    style={"font-size": "20px", "font-weight": "bold", "display": "block"},
                )


@solara.component
def MoneyView(run: Run, tick: int):
    """The budget lines (budget, spent, what could not be paid) and the cluster association, for one run."""
    with solara.Div(classes=["money-view"], style={"margin": "6px 0"}):
        solara.HTML(tag="div", unsafe_innerHTML=views.money_html(run.model), classes=["money-table"])
        solara.Text(
            views.association_text(run.model, run.manager_pay),
            classes=["association-text"],
            style={"font-size": "13px", "display": "block", "margin-top": "4px"},
        )


@solara.component
def NetworkView(dash: Dashboard, i: int, tick: int):
    """The trust network of run ``i``: redrawn when the month or the threshold changes, never re-laid out."""
    run = dash.runs[i]
    png = solara.use_memo(lambda: dash.network_png(i), dependencies=[tick, id(run.model), dash.threshold])
    solara.Image(png, width="100%", classes=["network-view"])


@solara.component
def SeriesView(dash: Dashboard, tick: int):
    """Time series of the runs with event markers."""
    png = solara.use_memo(dash.series_png, dependencies=[tick, id(dash.series)])
    with solara.Div(style={"max-width": "860px", "width": "100%", "margin": "0 auto"}):
        solara.Image(png, width="100%", classes=["series-view"])


@solara.component
def ControlInput(dash: Dashboard, c: Control, refresh, value, on_value=None, css: str = ""):
    """A slider or switch for one control, labelled in plain words with its unit and current value."""
    on_value = on_value or (lambda v: (dash.set_control(c.name, v), refresh()))
    with solara.Div(classes=["control", css or f"control-{c.name}"], style={"margin-top": "6px"}):
        if c.kind == "bool":
            solara.Switch(label=c.label, value=bool(value), on_value=on_value)
            return
        # the label sits above the slider with the value in words, readable from the back of the room
        shown = f"{value:g}" if c.kind == "float" else f"{int(value)}"
        solara.Text(f"{c.label}: {shown}", classes=["control-label"], style={"font-size": "0.9em"})
        high = dash.control_high(c)
        stuck = high <= c.low  # e.g. a budget line when the other lines use the whole budget
        high = c.low + c.step if stuck else high
        if c.kind == "int":
            solara.SliderInt(
                "",
                value=int(value),
                min=int(c.low),
                max=int(high),
                step=int(c.step),
                on_value=on_value,
                disabled=stuck,
            )
        else:
            solara.SliderFloat(
                "", value=float(value), min=c.low, max=high, step=c.step, on_value=on_value, disabled=stuck
            )


@solara.component
def Page(dashboard: Dashboard | None = None):
    """The dashboard page: controls in the sidebar, headline numbers, the network and the time series.

    The server calls it with no argument (one fresh :class:`Dashboard` per browser session, opening the
    scenario named by ``CLUSTERSIM_DASHBOARD_SCENARIO``); tests may pass their own.
    """
    dash = solara.use_memo(lambda: dashboard or Dashboard(initial_scenario()), [])
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    pause_ms = solara.use_reactive(200)

    def refresh():
        tick.value += 1

    def play_loop():
        # runs in a thread while playing; each month waits for its redraw before the next
        while playing.value:
            start = time.perf_counter()
            if not dash.step():
                playing.value = False
                break
            refresh()
            time.sleep(max(0.0, pause_ms.value / 1000 - (time.perf_counter() - start)))

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def act(fn, *args):
        def handler(*more):
            playing.value = False
            fn(*args, *more)
            refresh()

        return handler

    solara.Title("clustersim: trust building in a business cluster")
    with solara.Sidebar():
        with solara.Card("Run", margin=0):
            with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
                solara.Button(
                    "Pause" if playing.value else "Play",
                    icon_name="mdi-pause" if playing.value else "mdi-play",
                    color="primary",
                    on_click=lambda: playing.set(not playing.value),
                    disabled=dash.finished,
                    classes=["btn-play"],
                )
                solara.Button(
                    "Step",
                    icon_name="mdi-skip-next",
                    on_click=act(dash.step),
                    disabled=playing.value,
                    classes=["btn-step"],
                )
                solara.Button("Reset", icon_name="mdi-restart", on_click=act(dash.reset), classes=["btn-reset"])
            with solara.Div(classes=["control", "control-pause"]):
                solara.Text(f"Pause between months (ms): {pause_ms.value}", style={"font-size": "0.9em"})
                solara.SliderInt("", value=pause_ms, min=0, max=1000, step=50)
            with solara.Div(classes=["control-seed"]):
                solara.InputInt(
                    "Seed (same seed, same run)",
                    value=dash.seed,
                    on_value=lambda v: (setattr(dash, "seed", int(v or 0)), refresh()),
                )
            solara.Text("Changed levers take effect when you press Reset.", style={"font-size": "0.8em"})
        with solara.Card("Scenario and lesson", margin=0):
            solara.Select(
                "Scenario (preset)",
                values=dash.scenario_choices,
                value=dash.scenario_name,
                on_value=act(dash.load_scenario),
                classes=["scenario-picker"],
            )
            solara.Select(
                "Lesson",
                values=[lesson.label for lesson in LESSONS],
                value=dash.lesson.label if dash.lesson else None,
                on_value=lambda label: act(dash.load_lesson, label.split(":")[0])(),
                classes=["lesson-picker"],
            )
        with solara.Card("Budget (k$)", margin=0):
            for c in CONTROLS:
                if c.group == "budget":
                    # the value is passed in so the slider re-renders when a scenario or lesson changes it; a
                    # new key after a line was kept within the budget redraws its slider at the value kept
                    key = f"{c.name}-{dash.clamped.get(c.name, 0)}"
                    ControlInput(dash, c, refresh, value=dash.controls[c.name]).key(key)
            text, fits = dash.budget_readout
            solara.Text(
                text,
                classes=["budget-readout"] if fits else ["budget-readout", "budget-over"],
                style={"font-size": "0.9em", "font-weight": "bold", "color": "#1b5e20" if fits else "#b71c1c"},
            )
        with solara.Card("Levers", margin=0):
            for c in CONTROLS:
                if c.group != "lever":
                    continue
                if c.name in ("pandemic_start_month", "pandemic_months") and not dash.controls["pandemic"]:
                    continue
                if c.name == "manager_skill" and not dash.controls["manager_present"]:
                    continue
                ControlInput(dash, c, refresh, value=dash.controls[c.name])
        with solara.Card("Compare two runs", margin=0):
            solara.Switch(
                label="Compare mode: run B changes one lever",
                value=dash.compare,
                on_value=act(lambda v: (setattr(dash, "compare", v), dash.reset())),
                classes=["compare-switch"],
            )
            if dash.compare:
                solara.Select(
                    "Lever that differs in run B",
                    values=[c.label for c in CONTROLS],
                    value=BY_CONTROL[dash.compare_lever].label,
                    on_value=lambda label: (dash.set_compare_lever(BY_LABEL[label].name), refresh()),
                    classes=["compare-lever"],
                )
                ControlInput(
                    dash,
                    BY_CONTROL[dash.compare_lever],
                    refresh,
                    value=dash.compare_value,
                    on_value=lambda v: (setattr(dash, "compare_value", v), refresh()),
                    css="compare-value",
                )
        with solara.Card("Picture", margin=0):
            solara.Text(f"Show ties with trust of at least (0-1): {dash.threshold:g}", style={"font-size": "0.9em"})
            solara.SliderFloat(
                "",
                value=dash.threshold,
                min=0.0,
                max=1.0,
                step=0.05,
                on_value=lambda v: (dash.set_threshold(v), refresh()),
            )

    if dash.error:
        solara.Error(f"Not reset: {dash.error}", classes=["reset-error"])
    if dash.lesson is not None:
        solara.Info(f"{dash.lesson.label}. {dash.lesson.trainer_note()}", classes=["lesson-note"])
    runs = dash.runs
    if len(runs) == 1:
        Headline(runs[0], tick.value)
        with solara.Columns([1, 1]):
            NetworkView(dash, 0, tick.value)
            with solara.Column():
                SeriesView(dash, tick.value)
                MoneyView(runs[0], tick.value)
    else:
        with solara.Columns([1, 1]):
            for i, r in enumerate(runs):
                with solara.Column():
                    solara.Text(r.label, style={"font-size": "16px", "font-weight": "bold", "color": r.color})
                    Headline(r, tick.value)
                    NetworkView(dash, i, tick.value)
                    MoneyView(r, tick.value)
        SeriesView(dash, tick.value)
