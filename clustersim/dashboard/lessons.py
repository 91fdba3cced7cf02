"""Ready-made lessons for trainers: a preset to load, one lever to compare, and what to tell the room.

Each lesson names a stylized fact (SF codes, docs/BRIEF), the preset scenario
that reproduces it, and a counterfactual: the same cluster and seed with one
lever changed, shown side by side in compare mode. The "what to set and what
to watch" text is the ``lesson`` string of the preset TOML when it has one (so
the scenario file and the dashboard say the same thing); the source case is
added here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..scenario import load_scenario


@dataclass(frozen=True)
class Lesson:
    """One lesson: a preset, a compare lever and the trainer's notes.

    Attributes:
        code: the stylized fact it teaches (e.g. ``"SF3"``).
        title: a short plain-word title.
        scenario: the preset to load.
        compare: ``(control, value in run B)``: run A is the preset, run B changes this one control.
        case: which case in the source documents it mirrors (one sentence).
        note: what to set and what to watch, when the preset has no ``lesson`` text of its own.
        settings: control values to apply on top of the preset (usually none).
    """

    code: str
    title: str
    scenario: str
    compare: tuple[str, object]
    case: str
    note: str = ""
    settings: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.code}: {self.title}"

    def what_to_do(self) -> str:
        """What to set and what to watch: the preset's own lesson text, else this lesson's note."""
        text = load_scenario(self.scenario).lesson or self.note
        if not text:
            raise ValueError(f"lesson {self.code}: neither scenarios/{self.scenario}.toml nor the lesson has a note")
        return text

    def trainer_note(self) -> str:
        """The two or three sentences for the trainer: what to set, what to watch, which source case."""
        return f"{self.what_to_do()} {self.case}"


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "SF1",
        "Prior cooperative: trust builds faster",
        "prior_cooperative",
        compare=("prior_cooperative_share", 0.0),
        case=(
            "It mirrors the TEPA honey cluster in St. Lucia, where a cooperative existed before the project "
            '(000, "Cultural attitude towards collaboration").'
        ),
    ),
    Lesson(
        "SF3",
        "Delayed funding breeds disillusionment",
        "delayed_funding",
        compare=("disbursement_delay_months", 0),
        case=(
            "It mirrors the Sao Paulo and Rio Negro programmes and BELTRAIDE's reluctant members "
            '(000, "Cluster Development as a Long-Term Goal").'
        ),
    ),
    Lesson(
        "SF4",
        "An unfunded plan loses motivation",
        "unfunded_plan",
        compare=("plan_funded", True),
        case=(
            "It mirrors CED in St. Vincent and the Grenadines, whose plan was not funded and whose members "
            '"quickly lost motivation" (000, "Lack of resources").'
        ),
    ),
    Lesson(
        "SF8",
        "A pandemic stalls trust building",
        "pandemic_shock",
        compare=("pandemic_start_month", 54),
        case='It mirrors COVID-19 in the Caribbean clusters and THAG\'s WhatsApp groups (000, "Difficulties related with COVID-19").',
    ),
    Lesson(
        "SF2",
        "Leader firms seed cooperation",
        "leader_firms",
        compare=("leader_firms", 0),
        case=(
            "It mirrors the critical mass of driving firms in the Caribbean interviews and JMEA's and GHTA's "
            'large firms mentoring small ones (000, "Heterogeneity among cluster members").'
        ),
    ),
    Lesson(
        "SF6",
        "BSO staff turnover drains capacity",
        "bso_turnover",
        compare=("bso_turnover_rate", 0.01),
        note=(
            "Compare 5% with 1% of trained officers leaving each month, same seed. Watch the BSO's dashed contact "
            "lines thin out as its trained officers leave, taking their capacity with them."
        ),
        case=('It mirrors JMEA, where all but one of the trained people moved on (000, "BSOs\' future objectives").'),
    ),
    Lesson(
        "SF9",
        "The cluster manager holds the group together",
        "funded_programme",
        compare=("manager_present", False),
        note=(
            "Switch the cluster manager off in run B, same seed and same budget. Watch the manager's dashed lines: "
            "the firms it meets each month gain trust faster, and without it fewer ties pass the trust threshold "
            "(trusted-tie density 0.011 against 0.061 at month 120). Run B leaves the manager's salary line unspent "
            "(444 against 741 k$ spent; 20 paired runs, seed 31)."
        ),
        case=(
            'It mirrors the cluster managers of the Caribbean interviews (000, "Cluster managers") and UNIDO\'s '
            "Cluster Development Agents (004)."
        ),
    ),
    Lesson(
        "SF14",
        "An exit strategy hands the manager to the association",
        "tapered_exit",
        compare=("exit_taper_months", 0),
        case=(
            "It mirrors the BSOs that meant to keep cluster work going on members' fees after the programme "
            '(000, "BSOs\' future objectives") and governance closing the virtuous cycle (004, key principle 4).'
        ),
    ),
)

BY_CODE: dict[str, Lesson] = {lesson.code: lesson for lesson in LESSONS}


def lesson_markdown() -> str:
    """The lesson list as Markdown (for docs/dashboard.md and the README)."""
    lines = []
    for lesson in LESSONS:
        lines.append(f"- **{lesson.label}** (scenario `{lesson.scenario}`). {lesson.trainer_note()}")
    return "\n".join(lines)
