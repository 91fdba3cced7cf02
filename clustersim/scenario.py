"""Scenario files: TOML presets that may ``extend`` one another, validated at the boundary.

A scenario file looks like::

    name = "delayed_funding"
    extends = "funded_programme"
    description = "One paragraph citing the case in the source documents."

    [programme]
    disbursement_delay_months = 18

Every key is checked against :mod:`clustersim.parameters`. Any problem raises
:class:`ScenarioError` whose message is one line naming the file, the key and
what is allowed; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path

from .coefficients import ACTION_TYPE_TABLE, ACTION_TYPES, action_type_key
from .parameters import BY_NAME, PARAMETERS, SECTIONS, Param, defaults

TOP_LEVEL_KEYS = ("name", "extends", "description", "lesson")


def one_line(message: str) -> str:
    """A message as one line: a line break inside it (a key or a name holding one) is shown escaped."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def exception_text(exc: BaseException, limit: int = 200) -> str:
    """``Type: message`` of an exception caught from the user's code or a library, for a one-line error: the
    message's whitespace collapsed and cut at ``limit`` characters (just ``Type`` if it has none)."""
    message = " ".join(str(exc).split())[:limit]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class ScenarioError(ValueError):
    """A scenario or experiment input is invalid. The message is one line (``one_line``)."""

    def __init__(self, message: object = "") -> None:
        super().__init__(one_line(str(message)))


#: the longest ``name`` a scenario, experiment or portfolio file may give (it names the default results folder)
MAX_NAME_LENGTH = 100


def check_name(origin: str, value: str, key: str = "name", names: str = "a results folder") -> str:
    """``value`` if it can name a folder under ``results/``, else a one-line :class:`ScenarioError`: the default
    output folder is ``results/<name>``, so a name must not climb out of it (``..``, a separator), hide it (a
    leading dot) or be one the file system refuses (empty, a control character such as NUL, too long)."""
    bad = (
        not value
        or len(value.encode("utf-8", "surrogatepass")) > MAX_NAME_LENGTH
        or value != value.strip()
        or value.startswith(".")
        or any(sep in value for sep in ("/", "\\"))
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
    )
    if bad:
        raise ScenarioError(
            f"{origin}: {key} = {value!r} cannot name {names}; allowed: 1 to {MAX_NAME_LENGTH} bytes in UTF-8, "
            "without '/', '\\', control characters, a leading '.' or surrounding spaces"
        )
    return value


def name_or_file_name(origin: str, given, file_name: str, key: str = "name") -> str:
    """The ``name`` a file gives, else the name it takes from the file's own, checked (``check_name``) and, in
    an error, said which."""
    if given is not None:
        return check_name(origin, given, key)
    return check_name(origin, file_name, f"{key} (the file's name, as the file gives none)")


def presets_dir() -> Path:
    """Folder holding the shipped preset scenarios."""
    here = Path(__file__).resolve().parent
    for cand in (here / "_presets" / "scenarios", here.parent / "scenarios"):
        if cand.is_dir():
            return cand
    raise ScenarioError("preset folder 'scenarios/' not found next to the clustersim package")


def preset_names() -> list[str]:
    """Names of the shipped presets, sorted."""
    return sorted(p.stem for p in presets_dir().glob("*.toml"))


class Scenario(Mapping):
    """A validated, fully resolved set of parameters plus its provenance.

    Parameters are readable as attributes (``scenario.n_firms``) or as a mapping.
    Scenarios are immutable; :meth:`replace` returns a validated copy.
    """

    def __init__(
        self,
        params: Mapping[str, object],
        name: str = "custom",
        description: str = "",
        source: str = "<python>",
        chain: tuple[str, ...] = (),
        lesson: str = "",
    ):
        self._params = dict(params)
        self.name = name
        self.description = description
        self.source = source
        self.chain = chain
        self.lesson = lesson

    def __getattr__(self, key: str):
        try:
            return self.__dict__["_params"][key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str):
        return self._params[key]

    def __iter__(self):
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"Scenario({self.name!r}, {len(self._params)} parameters)"

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)

    def to_dict(self) -> dict[str, object]:
        """Plain dict of all parameters."""
        return dict(self._params)

    def replace(self, origin: str = "<override>", **overrides) -> Scenario:
        """Return a validated copy with some parameters changed."""
        params = dict(self._params)
        for key, value in overrides.items():
            params[key] = validate_value(origin, key, value)
        check_consistency(origin, params)
        return Scenario(params, self.name, self.description, self.source, self.chain, self.lesson)

    def changed_from_defaults(self) -> dict[str, object]:
        """Parameters that differ from the registry defaults."""
        d = defaults()
        return {k: v for k, v in self._params.items() if d[k] != v}


def _unknown_key(
    origin: str, key: str, where: str, allowed: list[str], elsewhere: dict[str, str] | None = None
) -> ScenarioError:
    """A one-line error with the closest allowed key; failing that, the closest key of ``elsewhere`` (name ->
    the table it belongs in), so that a misspelt or renamed key in the wrong table still finds its name."""
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    if not close and elsewhere:
        other = difflib.get_close_matches(key, list(elsewhere), n=1)
        hint = f" (did you mean '{other[0]}' in [{elsewhere[other[0]]}]?)" if other else ""
    return ScenarioError(f"{origin}: unknown key '{key}' in {where}{hint}; allowed keys: {', '.join(allowed)}")


def validate_value(origin: str, key: str, value: object, section: str | None = None) -> object:
    """Check one parameter value against the registry and return it normalised."""
    p: Param | None = BY_NAME.get(key)
    if p is None:
        raise _unknown_key(origin, key, f"[{section}]" if section else "parameters", list(BY_NAME))
    if section is not None and p.section != section:
        raise ScenarioError(f"{origin}: key '{key}' belongs in [{p.section}], not [{section}]; allowed: {p.allowed()}")
    label = f"{origin}: {key} = {value!r}"
    if p.kind == "bool":
        if not isinstance(value, bool):
            raise ScenarioError(f"{label} has the wrong type; allowed: {p.allowed()}")
        return value
    if p.kind == "choice":
        if not isinstance(value, str) or value not in p.choices:
            raise ScenarioError(f"{label} is not allowed; allowed: {p.allowed()}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{label} has the wrong type; allowed: {p.allowed()}")
    if p.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise ScenarioError(f"{label} is not a whole number; allowed: {p.allowed()}")
            value = int(value)
    else:
        value = float(value)
    if value != value or not (p.low <= value <= p.high):  # NaN fails too
        raise ScenarioError(f"{label} is out of range; allowed: {p.allowed()}")
    return value


BUDGET_LINE_KEYS = (
    "budget_manager",
    "budget_bso_training",
    "budget_firm_training",
    "grant_amount",
    "budget_monitoring",
    "budget_regional_exchange",
    "budget_leader_incentive",
)


def check_consistency(origin: str, params: Mapping[str, object]) -> None:
    """Cross-parameter rules that single-key checks cannot express."""
    budget = params["programme_budget"]
    lines = sum(params[k] for k in BUDGET_LINE_KEYS)
    if budget > 0 and lines > budget + 1e-9:
        split = " + ".join(f"{k} {params[k]:g}" for k in BUDGET_LINE_KEYS if params[k])
        raise ScenarioError(
            f"{origin}: budget lines exceed programme_budget = {budget:g}: {split} = {lines:g}; "
            f"allowed: lines summing to at most {budget:g} (or programme_budget = 0 for their sum)"
        )
    if params["bso_training_staff"] > params["bso_staff"]:
        raise ScenarioError(
            f"{origin}: bso_training_staff = {params['bso_training_staff']} exceeds bso_staff; "
            f"allowed: int in 0..{params['bso_staff']} (bso_staff)"
        )
    if params["leader_firms"] > params["n_firms"]:
        raise ScenarioError(
            f"{origin}: leader_firms = {params['leader_firms']} exceeds n_firms; allowed: int in 0..{params['n_firms']} (n_firms)"
        )
    if params["network_kind"] != "complete" and params["mean_degree"] >= params["n_firms"]:
        raise ScenarioError(
            f"{origin}: mean_degree = {params['mean_degree']} must be below n_firms; allowed: int in 2..{params['n_firms'] - 1}"
        )


def _flatten_action_types(origin: str, table: dict) -> dict:
    """``[action_types.joint_export] success_threshold = 0.7`` -> ``joint_export_success_threshold = 0.7``.

    Flat keys (``joint_export_success_threshold = 0.7``) are accepted too.
    """
    flat: dict = {}
    for key, value in table.items():
        if not isinstance(value, dict):
            flat[key] = value
            continue
        if key not in ACTION_TYPES:
            raise _unknown_key(origin, key, "[action_types]", list(ACTION_TYPES))
        for field, v in value.items():
            if field not in ACTION_TYPE_TABLE:
                raise _unknown_key(origin, field, f"[action_types.{key}]", list(ACTION_TYPE_TABLE))
            flat[action_type_key(key, field)] = v
    return flat


def _read_toml(path: Path, origin: str) -> dict:
    if not path.is_file():
        problem = "a folder, not a file" if path.is_dir() else "file not found"
        raise ScenarioError(
            f"{origin}: {problem}; allowed: a preset name (clustersim presets) or a path to a scenario .toml file"
        )
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{origin}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{origin}: cannot be read ({exc})") from None


def resolve_path(name_or_path: str | Path) -> Path:
    """Map a preset name or a path to the scenario file."""
    s = str(name_or_path)
    if s.endswith(".toml") or "/" in s or "\\" in s:
        return Path(s)
    return presets_dir() / f"{s}.toml"


def _load_raw(name_or_path: str | Path, seen: tuple[str, ...]) -> tuple[dict, str, str, str, tuple[str, ...]]:
    path = resolve_path(name_or_path)
    origin = str(name_or_path) if not str(name_or_path).endswith(".toml") else str(path)
    if not path.is_file() and not str(name_or_path).endswith(".toml") and "/" not in str(name_or_path):
        raise ScenarioError(
            f"{name_or_path}: no such preset; allowed: one of {', '.join(preset_names())} or a path to a .toml file"
        )
    data = _read_toml(path, origin)
    if str(path.resolve()) in seen:
        raise ScenarioError(f"{origin}: extends: circular chain {' -> '.join(seen)}; allowed: a chain without cycles")
    params: dict[str, object] = {}
    description, lesson = "", ""
    chain: tuple[str, ...] = ()
    for key in data:
        if key not in TOP_LEVEL_KEYS and key not in SECTIONS:
            if key in BY_NAME:
                raise ScenarioError(
                    f"{origin}: key '{key}' must sit in section [{BY_NAME[key].section}]; allowed: {BY_NAME[key].allowed()}"
                )
            raise _unknown_key(origin, key, "the top level", list(TOP_LEVEL_KEYS) + [f"[{s}]" for s in SECTIONS])
    for key in ("name", "description", "extends", "lesson"):
        if key in data and not isinstance(data[key], str):
            raise ScenarioError(f"{origin}: {key} = {data[key]!r} has the wrong type; allowed: a string")
    if "name" in data:
        check_name(origin, data["name"])
    if "extends" in data:
        parent_ref = data["extends"]
        if not parent_ref.endswith(".toml") and "/" not in parent_ref:
            parent_path = presets_dir() / f"{parent_ref}.toml"
            if not parent_path.is_file():
                # relative to the extending file first, then presets
                local = path.parent / f"{parent_ref}.toml"
                parent_ref = str(local) if local.is_file() else parent_ref
        elif not Path(parent_ref).is_absolute():
            parent_ref = str(path.parent / parent_ref)
        try:
            params, description, _, lesson, chain = _load_raw(parent_ref, seen + (str(path.resolve()),))
        except ScenarioError as exc:
            raise ScenarioError(f"{origin}: extends = {data['extends']!r}: {exc}") from None
    for section in SECTIONS:
        if section not in data:
            continue
        table = data[section]
        if not isinstance(table, dict):
            raise ScenarioError(f"{origin}: [{section}] must be a table of parameters; allowed: key = value lines")
        if section == "action_types":
            table = _flatten_action_types(origin, table)
        for key, value in table.items():
            if key not in BY_NAME or BY_NAME[key].section != section:
                if key in BY_NAME:
                    raise ScenarioError(
                        f"{origin}: key '{key}' belongs in [{BY_NAME[key].section}], not [{section}]; allowed: {BY_NAME[key].allowed()}"
                    )
                allowed = [p.name for p in PARAMETERS if p.section == section]
                raise _unknown_key(origin, key, f"[{section}]", allowed, {p.name: p.section for p in PARAMETERS})
            params[key] = validate_value(origin, key, value, section)
    name = data.get("name", path.stem)
    description = data.get("description", description)
    lesson = data.get("lesson", lesson)
    return params, description, name, lesson, chain + (name,)


def load_scenario(name_or_path: str | Path | Scenario = "baseline", **overrides) -> Scenario:
    """Load a preset name or TOML path, apply overrides, validate, and return a :class:`Scenario`.

    Raises :class:`ScenarioError` (a one-line message naming file, key and allowed values).
    """
    if isinstance(name_or_path, Scenario):
        return name_or_path.replace(**overrides) if overrides else name_or_path
    raw, description, name, lesson, chain = _load_raw(name_or_path, ())
    path = resolve_path(name_or_path)
    check_name(str(name_or_path), name, "name (the file's name, as the file gives none)")  # an explicit one: checked
    params = defaults()
    params.update(raw)
    origin = str(path) if str(name_or_path).endswith(".toml") else str(name_or_path)
    check_consistency(origin, params)
    scenario = Scenario(
        params,
        name=name,
        description=" ".join(description.split()),
        source=str(path),
        chain=chain,
        lesson=" ".join(lesson.split()),
    )
    if overrides:
        scenario = scenario.replace(**overrides)
    return scenario


def parse_assignment(text: str) -> tuple[str, object]:
    """Parse a ``key=value`` command-line override; the value is read as a TOML literal."""
    if "=" not in text:
        raise ScenarioError(f"--set {text}: expected key=value; allowed keys: {', '.join(BY_NAME)}")
    key, raw = (s.strip() for s in text.split("=", 1))
    if "." in key:  # accept section.key
        key = key.split(".", 1)[1]
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # bare words such as online or scale_free
    return key, value
