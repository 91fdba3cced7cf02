"""Matplotlib pictures for the trainer dashboard: the trust network, the time series, the headline numbers
and the money panel (budget lines and the cluster association).

Each picture is a matplotlib ``Figure`` built once per reset around a
model and redrawn every month by blitting (only the moving artists are
drawn again). Nothing here depends on Solara, so the pictures can be tested
and reused in notebooks. The network layout is computed once per reset by
:func:`compute_layout` and handed to the picture, so firms stay where they
are while ties form between them.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import networkx as nx
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from ..policy import LINES
from ..state import STATE_NAMES
from ..style import STATE_COLORS

#: seed of the network layout: the same cluster is always drawn the same way
LAYOUT_SEED = 7
#: above this many firms the spring layout gets slow (networkx switches to sparse code); use a ring instead
SPRING_LAYOUT_LIMIT = 500
#: ties at or above this trust are drawn by default (initial trust sits near 0.25 in an individualistic cluster)
DEFAULT_TRUST_THRESHOLD = 0.4
#: image resolution of the dashboard pictures (dots per inch); lower is faster to send to the browser
DPI = 80

BSO_COLOR = "#8c564b"
MANAGER_COLOR = "#9467bd"
MANAGER_IDLE = "#d0c0e0"  # a manager not yet hired (no money has flowed) or gone after the programme
TIE_COLOR = "#1b4f72"
LEADER_MARK = "#ffbf00"
TIE_RGBA = np.array(to_rgba(TIE_COLOR))
STATE_RGBA = np.array([to_rgba(STATE_COLORS[name]) for name in STATE_NAMES])  # row = state code

#: time-series panels: (title, [(metric, label)], y-limits or None)
SERIES_PANELS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[float, float] | None], ...] = (
    ("Firms cooperating (share)", (("share_cooperating", "cooperating"),), (0.0, 1.0)),
    ("Mean trust (0-1)", (("mean_trust", "mean trust"),), (0.0, 1.0)),
    ("Members (solid) and dropped out (dashed), firms", (("members", "members"), ("dropouts", "dropped out")), None),
    ("Joint actions completed (count)", (("joint_actions_completed", "completed"),), None),
)
#: line style per event kind (calendar markers)
MARKER_STYLES: dict[str, dict] = {  # dark, muted colours so markers never look like a run's line
    "funding approved": {"color": "#000000", "ls": "-"},
    "first disbursement due": {"color": "#006400", "ls": "-"},
    "training block": {"color": "#5f9ea0", "ls": ":"},
    "shock start": {"color": "#8b0000", "ls": "--"},
    "shock end": {"color": "#8b0000", "ls": "-."},
    "hurricane": {"color": "#8b0000", "ls": ":"},
    "programme end": {"color": "#7f7f7f", "ls": "-"},
}
#: the line marking the month the cluster association formed (drawn once it has)
ASSOCIATION_STYLE = {"color": "#b8860b", "ls": "--"}
#: budget lines in plain words (policy.LINES order)
LINE_LABELS: dict[str, str] = {
    "manager": "Cluster manager",
    "bso_training": "BSO training",
    "firm_training": "Firm training",
    "cofinancing": "Co-financing grant",
    "monitoring": "Monitoring",
    "regional_exchange": "Regional exchange",
    "leader_incentive": "Leader incentives",
}
assert tuple(LINE_LABELS) == LINES, "a budget line without a plain label"


@dataclass(frozen=True)
class NetworkLayout:
    """Fixed node positions for one run: firms in the unit box, the BSO to the left, the manager to the right."""

    pos: np.ndarray  # (n_firms, 2)
    bso: tuple[float, float] = (-1.4, 0.0)
    manager: tuple[float, float] = (1.4, 0.0)
    method: str = "spring"


def compute_layout(model, seed: int = LAYOUT_SEED) -> NetworkLayout:
    """Place the firms once, from the structural ties at reset (active ties at month 0).

    A seeded spring layout keeps firms that know each other close together;
    for very large clusters a ring in location order (the acquaintance graph
    is built in location order) is used because a spring layout would take
    seconds. Called once per reset, never per step.
    """
    n = model.firms.n
    t = model.ties
    if n <= SPRING_LAYOUT_LIMIT:
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(t.u[t.active].tolist(), t.v[t.active].tolist(), strict=True))
        placed = nx.spring_layout(g, seed=seed, iterations=60)
        pos = np.array([placed[i] for i in range(n)], dtype=float)
        method = "spring"
    else:
        angle = 2.0 * np.pi * np.arange(n) / n
        pos = np.column_stack([np.cos(angle), np.sin(angle)])
        method = "ring"
    lo, hi = pos.min(axis=0), pos.max(axis=0)
    pos = 2.0 * (pos - lo) / np.where(hi > lo, hi - lo, 1.0) - 1.0
    return NetworkLayout(pos=pos, method=method)


def same_structure(a, b) -> bool:
    """True when two models share the firm count and the month-0 ties, so one layout serves both."""
    return (
        a.firms.n == b.firms.n
        and a.ties.n_ties == b.ties.n_ties
        and np.array_equal(a.ties.u, b.ties.u)
        and np.array_equal(a.ties.v, b.ties.v)
    )


def bso_contacts(model) -> np.ndarray:
    """Firms the BSO met this month."""
    return model.bso.contacted


def manager_contacts(model) -> np.ndarray:
    """Firms the cluster manager met this month (empty when there is no manager)."""
    if model.manager is None:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(model.manager.contacted, dtype=np.int64)


def node_sizes(size: np.ndarray) -> np.ndarray:
    """Marker areas (points^2) that grow with employees, shrinking overall in big clusters so nodes stay apart."""
    n = size.size
    scale = min(1.0, (80.0 / max(n, 1)) ** 0.5)
    return np.clip(8.0 + 9.0 * np.sqrt(size), 8.0, 260.0) * scale


def trusted_ties(model, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of active ties with trust at or above ``threshold``, and their trust."""
    keep = model.ties.active & (model.trust >= threshold)
    idx = np.flatnonzero(keep)
    return idx, model.trust[idx]


class Picture:
    """A matplotlib figure redrawn month after month by blitting.

    The still parts (axes, titles, legends, event markers) are rendered once
    into a background; each month only the moving artists are drawn on top
    and the pixels are encoded as PNG. This keeps a redraw of a 200-firm
    cluster to a few tens of milliseconds.
    """

    def __init__(self, figsize: tuple[float, float] = (6.4, 5.2)):
        self.figure = Figure(figsize=figsize, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self._background = None
        self._moving: list = []

    def moving(self, artist):
        """Register an artist that changes every month (drawn over the background, in registration order)."""
        artist.set_animated(True)
        self._moving.append(artist)
        return artist

    def invalidate(self) -> None:
        """Re-render the background on the next :meth:`png` (e.g. after an axis limit changed)."""
        self._background = None

    def update(self) -> None:
        """Bring the moving artists up to date; subclasses override."""

    def render(self) -> np.ndarray:
        """Update and draw; returns the RGBA pixels."""
        self.update()
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self._background)
        renderer = self.canvas.get_renderer()
        for artist in self._moving:
            if artist.get_visible():
                artist.draw(renderer)
        return np.asarray(self.canvas.buffer_rgba())

    def png(self) -> bytes:
        """The current picture as PNG bytes (fast compression: the image goes over a local socket)."""
        buf = io.BytesIO()
        Image.fromarray(self.render()[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()


class NetworkPicture(Picture):
    """The trust network of one run: firms coloured by state and sized by employees, trusted ties, the BSO and manager.

    Only active ties with trust at or above :attr:`threshold` are drawn;
    thicker and darker means more trust. Dashed lines join the BSO and the
    cluster manager to the firms they met this month. Node positions come
    from ``layout`` (computed once per reset) and never move. ``label`` (e.g.
    the run's lever setting in compare mode) heads the picture.
    """

    def __init__(self, model, layout: NetworkLayout, threshold: float = DEFAULT_TRUST_THRESHOLD, label: str = ""):
        super().__init__()
        self.model, self.layout, self.threshold, self.label = model, layout, threshold, label
        ax = self.ax = self.figure.add_axes((0.0, 0.0, 1.0, 0.92))
        ax.set_xlim(-1.75, 1.75)
        ax.set_ylim(-1.42, 1.12)
        ax.set_aspect("equal")
        ax.axis("off")
        pos, f = layout.pos, model.firms
        self.ties = self.moving(LineCollection([], colors=TIE_COLOR, zorder=1))
        ax.add_collection(self.ties)
        self.contact_lines = {}
        for who, color in (("bso", BSO_COLOR), ("manager", MANAGER_COLOR)):
            lines = self.moving(LineCollection([], colors=color, linewidths=0.9, linestyles="--", alpha=0.7))
            ax.add_collection(lines)
            self.contact_lines[who] = lines
        self.sizes = node_sizes(f.size)
        self.firm_dots = self.moving(
            ax.scatter(pos[:, 0], pos[:, 1], s=self.sizes, c=self._state_colors(), edgecolors="white", linewidths=0.5)
        )
        lead = np.flatnonzero(f.leader)
        if lead.size:
            self.moving(
                ax.scatter(
                    pos[lead, 0],
                    pos[lead, 1],
                    s=np.maximum(self.sizes[lead] * 0.6, 40.0),
                    marker="*",
                    c=LEADER_MARK,
                    edgecolors="black",
                    linewidths=0.6,
                )
            )
        ax.scatter(*layout.bso, s=650, marker="s", c=BSO_COLOR, edgecolors="black")
        ax.annotate("BSO", layout.bso, ha="center", va="center", color="white", fontsize=8, weight="bold")
        self.manager_node = None
        if model.manager is not None:
            self.manager_node = self.moving(ax.scatter(*layout.manager, s=520, marker="D", edgecolors="black"))
            self.moving(
                ax.annotate("CM", layout.manager, ha="center", va="center", color="white", fontsize=9, weight="bold")
            )
        self.title = self.moving(self.figure.text(0.5, 0.985, "", ha="center", va="top", fontsize=10))
        handles = [
            Line2D([], [], ls="", marker="o", mfc=STATE_COLORS[s], mec="white", ms=8, label=s) for s in STATE_NAMES
        ]
        handles += [
            Line2D([], [], ls="", marker="*", mfc=LEADER_MARK, mec="black", ms=11, label="leader firm"),
            Line2D([], [], color=TIE_COLOR, lw=2, label="trusted tie"),
            Line2D([], [], color=BSO_COLOR, lw=1, ls="--", label="BSO met"),
        ]
        if model.manager is not None:
            handles.append(Line2D([], [], color=MANAGER_COLOR, lw=1, ls="--", label="manager (CM) met"))
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.02), ncol=4, fontsize=8, frameon=False)

    def _state_colors(self) -> np.ndarray:
        return STATE_RGBA[self.model.firms.state.astype(int)]

    def update(self) -> None:
        m, pos = self.model, self.layout.pos
        idx, trust = trusted_ties(m, self.threshold)
        strength = (trust - self.threshold) / max(1.0 - self.threshold, 1e-9)
        colors = np.tile(TIE_RGBA, (idx.size, 1))
        colors[:, 3] = 0.15 + 0.75 * strength
        self.ties.set_segments(np.stack([pos[m.ties.u[idx]], pos[m.ties.v[idx]]], axis=1))
        self.ties.set_color(colors)
        self.ties.set_linewidths(0.4 + 2.4 * strength)
        for who, contacts, xy in (
            ("bso", bso_contacts(m), self.layout.bso),
            ("manager", manager_contacts(m), self.layout.manager),
        ):
            start = np.broadcast_to(np.asarray(xy, dtype=float), (contacts.size, 2))
            self.contact_lines[who].set_segments(np.stack([start, pos[contacts]], axis=1))
        self.firm_dots.set_facecolor(self._state_colors())
        if self.manager_node is not None:
            self.manager_node.set_facecolor(MANAGER_COLOR if m.manager.active else MANAGER_IDLE)
        mode = "face to face" if m.face_to_face else "online only (pandemic)"
        title = f"Trust network, month {m.month}: {idx.size} ties with trust ≥ {self.threshold:.2f}, contact {mode}"
        self.title.set_text(f"{self.label}\n{title}" if self.label else title)


def monthly(model, name: str) -> np.ndarray:
    """One monthly metric from month 0 to now, read from the DataCollector without building a DataFrame."""
    return np.asarray(model.datacollector.model_vars[name], dtype=float)


class SeriesPicture(Picture):
    """Time series of the key outputs with vertical event markers, for one run or two compared runs.

    ``runs`` is a list of ``(label, model, colour)``; in compare mode both
    runs share the panels. The x-axis spans the whole horizon and the y-axes
    are fixed (counts grow their axis only when a line reaches the top), so the
    picture does not jump while the model runs.
    """

    def __init__(self, runs: list[tuple[str, object, str]]):
        super().__init__()
        self.runs = runs
        fig = self.figure
        top = 0.95 if len(runs) == 1 else 0.88  # room for the legend naming the compared runs
        fig.subplots_adjust(left=0.08, right=0.98, top=top, bottom=0.17, hspace=0.25, wspace=0.2)
        self.axes = fig.subplots(2, 2, sharex=True).ravel()
        horizon = max(m.params.months for _, m, _ in runs)
        n_max = max(m.firms.n for _, m, _ in runs)
        kinds: dict[str, dict] = {}
        seen: set[tuple[int, str]] = set()
        for k, (_label, model, _color) in enumerate(runs):
            for month, what in model.calendar.markers():
                if (month, what) in seen or month > horizon:
                    continue
                seen.add((month, what))
                style = MARKER_STYLES.get(what, {"color": "black", "ls": ":"})
                kinds[what] = style
                for ax in self.axes:
                    ax.axvline(month, lw=1.0, alpha=0.8 if k == 0 else 0.45, zorder=0, **style)
        # the association's founding month, per run: hidden until members found it
        self.founded: list[tuple[object, list]] = []
        for k, (_label, model, _color) in enumerate(runs):
            marks = [
                self.moving(ax.axvline(0, lw=1.2, alpha=0.9 if k == 0 else 0.5, zorder=0, **ASSOCIATION_STYLE))
                for ax in self.axes
            ]
            for mark in marks:
                mark.set_visible(False)
            self.founded.append((model, marks))
        kinds["association formed"] = ASSOCIATION_STYLE
        self.lines: list[tuple[object, str, object]] = []  # (model, metric, Line2D)
        self.growing: list = []  # axes whose upper limit grows with the data
        for ax, (title, metrics, ylim) in zip(self.axes, SERIES_PANELS, strict=True):
            for _label, model, color in runs:
                for j, (metric, _what) in enumerate(metrics):
                    (line,) = ax.plot([], [], color=color, lw=1.8, ls="-" if j == 0 else "--")
                    self.lines.append((model, metric, self.moving(line)))
            ax.set_title(title, fontsize=9)
            ax.set_xlim(0, horizon)
            if ylim:
                ax.set_ylim(*ylim)
            elif metrics[0][0] == "members":
                ax.set_ylim(0, 1.05 * n_max)
            else:
                ax.set_ylim(0, 10)
                self.growing.append(ax)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
        for ax in self.axes[2:]:
            ax.set_xlabel("Month", fontsize=8)
        if len(runs) > 1:
            fig.legend(
                handles=[Line2D([], [], color=color, lw=2, label=label) for label, _, color in runs],
                loc="upper center",
                ncol=len(runs),
                fontsize=8,
                frameon=False,
            )
        if kinds:
            fig.legend(
                handles=[Line2D([], [], lw=1.2, label=what, **style) for what, style in kinds.items()],
                loc="lower center",
                ncol=min(4, len(kinds)),
                fontsize=7,
                frameon=False,
            )

    def update(self) -> None:
        for model, marks in self.founded:
            formed = model.association.formed_month
            for mark in marks:
                mark.set_visible(formed is not None)
                if formed is not None:
                    mark.set_xdata([formed, formed])
        top: dict[int, float] = {}
        for model, metric, line in self.lines:
            y = monthly(model, metric)
            line.set_data(np.arange(y.size), y)
            ax_id = id(line.axes)
            top[ax_id] = max(top.get(ax_id, 0.0), float(np.nanmax(y)) if y.size else 0.0)
        for ax in self.growing:
            high = ax.get_ylim()[1]
            if top.get(id(ax), 0.0) > 0.95 * high:
                ax.set_ylim(0, max(2 * high, 1.2 * top[id(ax)]))
                self.invalidate()


def headline(model) -> dict[str, str]:
    """The six headline numbers, formatted for the room (label -> text)."""
    cur = model.current
    n = model.firms.n
    a = model.association
    return {
        "Month": f"{model.month} of {model.params.months}",
        "Firms cooperating": f"{round(cur['share_cooperating'] * n)} of {n}",
        "Joint actions completed": f"{int(cur['joint_actions_completed'])}",
        "Jobs index (month 0 = 1)": f"{cur['jobs_index']:.3f}",
        "Programme money spent (k$)": f"{model.ledger.programme_cost:,.0f} of {model.ledger.budget:,.0f}",
        "Cluster association": f"since month {a.formed_month}" if a.formed else "not formed",
    }


@dataclass(frozen=True)
class ManagerPay:
    """Who paid the cluster manager's salary in the month just run, as shares of the salary."""

    programme: float = 0.0
    association: float = 0.0

    @classmethod
    def between(cls, model, before: tuple[float, float]) -> ManagerPay:
        """The shares paid since ``before`` = :func:`manager_paid_so_far` read before the month."""
        salary = model.params.manager_cost_per_month
        if salary <= 0:
            return cls()
        programme, association = manager_paid_so_far(model)
        return cls((programme - before[0]) / salary, (association - before[1]) / salary)


def manager_paid_so_far(model) -> tuple[float, float]:
    """k$ of the manager's salary paid so far by the programme and by the association."""
    return model.ledger.spent["manager"], model.association.manager_paid


def association_text(model, pay: ManagerPay) -> str:
    """One sentence on the cluster association and who pays the manager, for the room."""
    a = model.association
    has_manager = model.manager is not None
    if not a.formed:
        text = "The cluster association has not formed yet: members found it once trust and joint action hold."
    else:
        text = (
            f"The cluster association formed in month {a.formed_month}: {a.paying_members} members pay fees, "
            f"{a.cash:,.0f} k$ in its account."
        )
    if not has_manager or model.month == 0:
        return text
    if pay.programme <= 0 and pay.association <= 0:
        who = "This month nobody paid the cluster manager, so the manager did not work"
    else:
        parts = [f"{pay.programme:.0%} by the programme"] if pay.programme > 0 else []
        parts += [f"{pay.association:.0%} by the association"] if pay.association > 0 else []
        who = "This month the cluster manager's salary was paid " + " and ".join(parts)
    paid = f" (the association has paid {a.manager_paid:,.0f} k$ of it so far)" if a.manager_paid > 0 else ""
    return f"{text} {who}{paid}."


def money_rows(model) -> list[tuple[str, float, float, float]]:
    """(line, budget, spent, wanted but not paid) in k$ for every line with money or a shortfall."""
    ledger = model.ledger
    return [
        (LINE_LABELS[line], ledger.allocation[line], ledger.spent[line], ledger.shortfall[line])
        for line in LINES
        if max(ledger.allocation[line], ledger.spent[line], ledger.shortfall[line]) > 1e-9  # 1e-9: k$ rounding
    ]


def money_html(model) -> str:
    """The budget lines as a small HTML table: budget, spent so far, and what a line could not pay."""
    ledger = model.ledger
    cell = 'style="text-align:right;padding:1px 8px"'
    head = (
        "<tr><th style='text-align:left'>Budget line (k$)</th>"
        f"<th {cell}>budget</th><th {cell}>spent</th><th {cell}>wanted, not paid</th></tr>"
    )
    rows = [
        f"<tr><td>{html.escape(label)}</td><td {cell}>{budget:,.0f}</td><td {cell}>{spent:,.0f}</td>"
        f"<td {cell}>{short:,.0f}</td></tr>"
        for label, budget, spent, short in money_rows(model)
    ]
    if not rows:
        rows = ["<tr><td colspan='4'>No programme money: nothing is budgeted.</td></tr>"]
    allocated = sum(ledger.allocation.values())
    total = (
        f"<tr style='font-weight:bold'><td>Total (programme budget {ledger.budget:,.0f})</td>"
        f"<td {cell}>{allocated:,.0f}</td><td {cell}>{ledger.programme_cost:,.0f}</td>"
        f"<td {cell}>{sum(ledger.shortfall.values()):,.0f}</td></tr>"
    )
    cash = f"<div>Grant waiting in the cluster account: {ledger.bso_cash:,.0f} k$</div>" if ledger.bso_cash > 0 else ""
    return f"<table style='font-size:13px;border-collapse:collapse'>{head}{''.join(rows)}{total}</table>{cash}"
