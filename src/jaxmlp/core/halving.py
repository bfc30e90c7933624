"""Successive halving's schedule, with epochs as the resource: how many epochs each rung
reaches and how many candidates train at it. One function, shared by
:class:`~jaxmlp.MLPHalvingSearchCV` and ``jaxmlp sweep --halving``; it computes what
scikit-learn's ``HalvingGridSearchCV`` computes, so the two give the same rungs.
"""

from __future__ import annotations

from math import ceil, floor, log
from typing import NamedTuple

__all__ = ["HalvingSchedule", "halving_schedule"]


class HalvingSchedule(NamedTuple):
    """The rungs of a successive-halving run.

    Attributes
    ----------
    n_resources : list of int
        Epochs trained in all by the end of each rung (non-decreasing).
    n_candidates : list of int
        Candidates trained at each rung.
    min_resources : int
        Epochs of the first rung.
    n_required_iterations : int
        Rungs needed to end with one candidate: ``1 + floor(log(n, factor))``.
    n_possible_iterations : int
        Rungs the epochs allow: ``1 + floor(log(max // min, factor))``.
    n_remaining_candidates : int
        Candidates left after the last rung.
    """

    n_resources: list[int]
    n_candidates: list[int]
    min_resources: int
    n_required_iterations: int
    n_possible_iterations: int
    n_remaining_candidates: int


def halving_schedule(n_candidates: int, max_resources: int, factor: float = 3,
                     min_resources: int | None = None,
                     aggressive_elimination: bool = False) -> HalvingSchedule:  # fmt: skip
    """The rungs for ``n_candidates`` candidates and at most ``max_resources`` epochs.

    Parameters
    ----------
    n_candidates : int
        >= 1. One candidate has nothing to halve: one rung of ``max_resources`` epochs.
    max_resources : int
        >= 1, the most epochs a candidate trains.
    factor : float
        > 1: each rung keeps ``ceil(n / factor)`` candidates and multiplies the epochs by
        ``factor``.
    min_resources : int, optional
        Epochs of the first rung, at most ``max_resources``; None is scikit-learn's
        'exhaust': the most that lets the last rung reach ``max_resources``.
    aggressive_elimination : bool
        Repeat the first rung's epochs until few enough candidates are left to end at
        ``max_resources`` (scikit-learn's meaning).

    Returns
    -------
    HalvingSchedule
    """
    if n_candidates < 1 or max_resources < 1 or factor <= 1:
        raise ValueError(
            f"halving needs n_candidates >= 1, max_resources >= 1 and factor > 1; got "
            f"{n_candidates}, {max_resources}, {factor}."
        )
    if min_resources is not None and not 1 <= min_resources <= max_resources:
        raise ValueError(f"min_resources={min_resources} is not within [1, {max_resources}].")
    n_required = 1 + floor(log(n_candidates, factor))
    if n_candidates == 1:
        lowest = max_resources
    elif min_resources is None:
        lowest = max(1, int(max_resources // factor ** (n_required - 1)))
    else:
        lowest = min_resources
    n_possible = 1 + floor(log(max_resources // lowest, factor))
    n_rungs = n_required if aggressive_elimination else min(n_possible, n_required)
    resources, candidates = [], []
    n = n_candidates
    for rung in range(n_rungs):
        power = max(0, rung - n_required + n_possible) if aggressive_elimination else rung
        resources.append(min(int(factor**power * lowest), max_resources))
        candidates.append(n)
        n = ceil(n / factor)
    return HalvingSchedule(resources, candidates, lowest, n_required, n_possible, n)
