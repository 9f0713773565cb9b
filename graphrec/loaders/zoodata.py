"""What one ingest writes: the validated models, datasets, records and scores of a zoo.

Apart from `build`, which makes it from files, because ingest, scoring, the benchmark and
`serve` make and read it too, and its name rule is checked by both build and ingest.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem
from ..names import INT64, name_problem, shown_name
from .spec import property_problem

#: Edge properties graphrec computes; a records column of the same name is kept as NAME_raw.
EDGE_KEYS = frozenset({"accuracy", "runs", "accuracy_std", "accuracy_min", "accuracy_max",
                       "source", "updated_at", "digest"})



@dataclass
class Entity:
    """A model or dataset: its properties and the attribute names it links to."""

    props: dict[str, Any]
    origin: tuple[str, int]  # (file, line) that defined it, for conflict messages


@dataclass
class ZooData:
    """Everything one ingest writes, validated and deduplicated."""

    models: dict[str, Entity] = field(default_factory=dict)
    datasets: dict[str, Entity] = field(default_factory=dict)
    # (model, dataset) -> list of (accuracy, extra values) runs, in file order; the extra
    # values line up with `extra_keys` (None where a cell was empty). Tuples, not dicts:
    # a large zoo holds a million of these.
    transfers: dict[tuple[str, str], list[tuple[float, tuple]]] = field(default_factory=dict)
    extra_keys: tuple[str, ...] = ()
    # (model, dataset, metric) -> value
    scores: dict[tuple[str, str, str], float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # role -> file name
    record_rows: int = 0
    # ("model" | "dataset", name) -> (file, line) of the first record or score naming it
    first_seen: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)

    def transfer_props(self, pair: tuple[str, str]) -> dict[str, Any]:
        """The TRANSFERS_TO properties of a pair: runs aggregate deterministically."""
        runs = self.transfers[pair]
        keys = self.extra_keys
        if len(runs) == 1:  # the common case, kept cheap: it runs once per edge
            accuracy, extra = runs[0]
            props = {"accuracy": accuracy, "runs": 1}
            for key, value in zip(keys, extra, strict=True):
                if value is not None:
                    props[key] = value
            if "records" in self.sources:
                props["source"] = self.sources["records"]
            return props
        accuracies = [a for a, _ in runs]
        # Aggregates are rounded to 12 decimals: stable across platforms and exactly
        # representable in the 15 significant digits a FalkorDB reply carries.
        props = {
            "accuracy": round(statistics.fmean(accuracies), 12),
            "runs": len(runs),
            "accuracy_std": round(statistics.pstdev(accuracies), 12),
            "accuracy_min": min(accuracies),
            "accuracy_max": max(accuracies),
        }
        if "records" in self.sources:
            props["source"] = self.sources["records"]
        for i, key in enumerate(keys):
            values = [extra[i] for _, extra in runs]
            present = [v for v in values if v is not None]
            if not present:
                continue
            if all(v == present[0] for v in values):
                props[key] = present[0]
            else:  # one value per run, in file order; a missing value becomes ""
                props[key] = [("" if v is None else v) for v in values]
                if len({type(v) for v in props[key]}) > 1:
                    props[key] = ["" if v is None else str(v) for v in values]
        return props


#: Properties whose values become nodes of their own (a unique name each), as (label, prop).
LINKED_PROPS: tuple[tuple[str, str], ...] = (
    ("models", "family"), ("models", "pretrain_dataset"),
    ("datasets", "domain"), ("datasets", "labels"))


def name_problems(zoo: ZooData) -> list[Problem]:
    """Every name in `zoo` that breaks the rule of `graphrec.names`, where it was read.
    Distinct names only: a million records name a few thousand models and datasets."""
    problems = []
    for (kind, name), (file, line) in zoo.first_seen.items():
        reason = name_problem(name)
        if reason:
            problems.append(Problem(file, f"{kind} name {shown_name(name)}: {reason}", line))
    # Names no file line introduced (a zoo built or extended in Python): set differences,
    # so that a million records cost a pass over their keys, not a check per record.
    for i, kind in enumerate(("model", "dataset")):
        named = {key[i] for key in zoo.transfers} | {key[i] for key in zoo.scores}
        read = {name for k, name in zoo.first_seen if k == kind}
        for name in sorted(named - read):
            reason = name_problem(name)
            if reason:
                problems.append(Problem("input", f"{kind} name {shown_name(name)}: {reason}"))
    for kind, entities in (("models", zoo.models), ("datasets", zoo.datasets)):
        for name, entity in entities.items():
            file, line = entity.origin
            reason = name_problem(name)
            if reason and (kind[:-1], name) not in zoo.first_seen:
                problems.append(Problem(file, f"{kind[:-1]} name {shown_name(name)}: "
                                        f"{reason}", line))
            for prop, value in entity.props.items():
                reason = property_problem(prop)
                if reason:
                    problems.append(Problem(file, f"{kind[:-1]} {shown_name(name)}: {reason}",
                                            line))
                    continue
                if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
                    problems.append(Problem(file, f"{prop} {value} is beyond the 64-bit whole "
                                            "numbers the databases store", line, prop))
                elif isinstance(value, str) and "\x00" in value:
                    problems.append(Problem(file, f"{prop} holds a NUL character, which no "
                                            "query can carry", line, prop))
            for of, prop in LINKED_PROPS:
                value = entity.props.get(prop) if of == kind else None
                for v in (value if isinstance(value, list) else [value]):
                    reason = None if v in (None, "") else name_problem(str(v))
                    if reason:
                        problems.append(Problem(file, f"{prop} {shown_name(str(v))}: {reason}",
                                                line, prop))
    for key in zoo.extra_keys:
        reason = property_problem(key)
        if reason:
            problems.append(Problem(zoo.sources.get("records", "records"),
                                    f"edge property {reason}"))
    for metric in {metric for _, _, metric in zoo.scores}:
        reason = name_problem(metric)
        if reason:
            problems.append(Problem(zoo.sources.get("scores", "scores"),
                                    f"metric name {shown_name(metric)}: {reason}"))
    return problems
