"""The packing problem and its exact solution: which nodes to buy, and what each one runs.

Stated once (docs/capacity-planning.md has the notation of the seed articles):

- Item classes ``i``: interchangeable replicas (same requests, same allowed node kinds, same spreading), ``D_i`` of
  them, each asking ``r_i = (r_i1, ..., r_iR)`` of the node's resources; at most ``u_i`` of them on one node
  (replicas of a spread model go to distinct nodes).
- Node kinds ``k``: an instance type under a capacity type (on-demand or spot), offering ``C_k`` after per-node
  overheads, costing ``c_k`` per hour, at most ``L_k`` of them (usually unlimited).
- A pattern ``p`` is what one node of kind ``k(p)`` runs: ``a_ip`` replicas of each class, within ``C_k`` and ``u_i``.
  ``z_p`` is the number of nodes running pattern ``p``. The problem, exactly:

      min  sum_p c_k(p) z_p
      s.t. sum_p a_ip z_p >= D_i          for every class i        (every replica placed once)
           sum_{p of k} z_p <= L_k        for every limited kind k
           z_p integer >= 0

  This is the seed's assignment model (x_ij: container j on node i) with identical nodes and identical replicas
  aggregated: a pattern is a column of x for a whole group of identical nodes, so no two solutions differ only by
  renumbering nodes or replicas (the symmetry that makes the assignment model slow).

Patterns are far too many to list, so the LP relaxation is solved by column generation (Gilmore and Gomory): solve
the LP over the patterns known so far, then, per node kind, find the pattern of greatest dual value (an integer
knapsack over the classes, solved exactly as a small MILP); a pattern worth more than its node's cost enters. When
none does, the LP is solved over all patterns and its value is a lower bound on every plan. Before that, every
iteration yields a valid Lagrangian bound, so a time limit still leaves an honest bound. The plan itself is the
MILP over the generated patterns (HiGHS branch and cut), started from the LP solution rounded up. The gap between
the plan's cost and the bound is what remains unproven; zero means the plan is optimal.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

INF = highspy.kHighsInf
#: A pattern enters the LP when its reduced cost is below this (USD per hour); smaller gains are noise.
REDUCED_COST_EPSILON = 1e-7
#: Share of the time limit column generation may use before the integer phase starts with what it has.
COLUMN_GENERATION_SHARE = 0.8
#: The integer phase stops once the plan is within this relative gap of the LP over the generated patterns.
MIP_RELATIVE_GAP = 1e-6
#: When all patterns number at most this many, all of them enter the integer phase: the MILP is then the whole
#: problem and HiGHS proves its plan optimal (small pools, the tests' hand-computed examples).
ENUMERATION_LIMIT = 20_000
#: Share of the remaining time the first plan's leftover replicas may take (their own, much smaller, problem).
RESIDUAL_SHARE = 0.25
#: Without a time limit (a render's ``gpuNodePool.limits: plan``), work limits instead, which do not depend on the
#: machine: column-generation rounds, and branch-and-bound nodes of the integer phase.
WORK_LIMIT_ITERATIONS = 2_000
WORK_LIMIT_MIP_NODES = 20_000


@dataclass(frozen=True)
class NodeKind:
    """Nodes one may buy: an instance type under a capacity type."""

    name: str
    capacity: tuple[int, ...]
    hourly_usd: float
    limit: int | None = None
    """Most nodes of this kind (None: as many as needed)."""


@dataclass(frozen=True)
class ItemClass:
    """Interchangeable replicas."""

    name: str
    demand: int
    size: tuple[int, ...]
    kinds: tuple[str, ...]
    """Node kinds these replicas may run on."""
    per_node: int | None = None
    """Most of them on one node (None: no limit beyond capacity)."""


@dataclass(frozen=True)
class Pattern:
    kind: str
    counts: tuple[tuple[int, int], ...]
    """(class index, replicas) for each class the node runs, by class index."""


@dataclass
class Solution:
    nodes: list[tuple[Pattern, int]]
    """Each pattern used and how many nodes run it, in a canonical order."""
    cost: float
    bound: float
    """Best proven lower bound on the cost of every plan: the MILP's own bound when it saw every pattern, else the
    LP bound."""
    lp_bound: float
    """The LP relaxation's value once column generation converged, else the best Lagrangian bound seen (both are
    lower bounds on every plan)."""
    lp_converged: bool
    complete: bool
    """Every pattern was enumerated, so the MILP was the whole problem."""
    proven_optimal: bool
    columns: int
    iterations: int
    seconds: float
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative optimality gap, (cost - bound) / cost."""
        return 0.0 if self.cost <= 0 else max(0.0, (self.cost - self.bound) / self.cost)

    @property
    def lp_gap(self) -> float:
        """Relative gap to the LP bound, (cost - LP bound) / cost."""
        return 0.0 if self.cost <= 0 else max(0.0, (self.cost - self.lp_bound) / self.cost)


class UnplaceableError(ValueError):
    """A class no node kind can hold a single replica of."""

    def __init__(self, item: ItemClass):
        super().__init__(f"no allowed node kind holds one replica of {item.name}")
        self.item = item


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS prints a banner from C++ on the first solver it creates: keep it off stdout (the plan's JSON)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs(time_limit: float | None = None) -> highspy.Highs:
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    # One thread and a fixed seed: the same problem gives the same plan on every machine and run.
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.01, float(time_limit)))
    return h


def fits(size: Sequence[int], capacity: Sequence[int]) -> int:
    """How many items of ``size`` fit in ``capacity`` (resource by resource)."""
    return min((c // s for s, c in zip(size, capacity, strict=True) if s > 0), default=sys.maxsize)


class _Pricer:
    """The pricing problem of one node kind: max sum_i pi_i a_i over the patterns of that kind (an integer knapsack
    in every resource), kept as one HiGHS model whose objective changes between calls."""

    def __init__(self, kind: NodeKind, classes: Sequence[ItemClass], bounds: dict[int, int]):
        self.kind = kind
        self.classes = classes
        self.bounds = bounds
        self.index = sorted(bounds)  # class indices this kind may hold
        self.shares = {
            i: [s / c for s, c in zip(classes[i].size, kind.capacity, strict=True) if c] or [0.0] for i in self.index
        }
        self.h = new_highs()
        n = len(self.index)
        ub = np.array([float(bounds[i]) for i in self.index])
        self.h.addVars(n, np.zeros(n), ub)
        self.h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n))
        for r, cap in enumerate(kind.capacity):
            cols = [j for j, i in enumerate(self.index) if classes[i].size[r] > 0]
            if not cols or sum(classes[self.index[j]].size[r] * bounds[self.index[j]] for j in cols) <= cap:
                continue  # never binding
            vals = np.array([float(classes[self.index[j]].size[r]) for j in cols])
            self.h.addRow(-INF, float(cap), len(cols), np.array(cols, dtype=np.int32), vals)
        self.h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h.setOptionValue("mip_rel_gap", 0.0)

    def greedy(self, duals: np.ndarray) -> list[tuple[float, tuple[tuple[int, int], ...]]]:
        """Good patterns at these duals, not necessarily the best: classes by dual value per share of the node (the
        sum of their shares, and the largest), filled in that order."""
        found = []
        for measure in (sum, max):
            scored = []
            for i in self.index:
                if duals[i] > 0:
                    share = measure(self.shares[i])
                    scored.append((-duals[i] / max(share, 1e-12), i))
            free = list(self.kind.capacity)
            counts = []
            for _, i in sorted(scored):
                a = min(self.bounds[i], fits(self.classes[i].size, free))
                if a > 0:
                    counts.append((i, a))
                    free = [f - a * s for f, s in zip(free, self.classes[i].size, strict=True)]
            found.append((sum(duals[i] * a for i, a in counts), tuple(sorted(counts))))
        return found

    def best(self, duals: np.ndarray) -> tuple[float, tuple[tuple[int, int], ...]]:
        """The most valuable pattern at these duals and its value."""
        costs = np.array([max(0.0, float(duals[i])) for i in self.index])
        if not np.any(costs > 0):
            return 0.0, ()
        n = len(self.index)
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        self.h.run()
        values = self.h.getSolution().col_value
        counts = tuple((self.index[j], round(values[j])) for j in range(n) if round(values[j]) > 0 and costs[j] > 0)
        return sum(duals[i] * a for i, a in counts), counts


def solve(
    classes: Sequence[ItemClass],
    kinds: Sequence[NodeKind],
    time_limit: float | None = 60.0,
    _depth: int = 0,
) -> Solution:
    """Cheapest set of nodes holding every replica (see the module docstring). ``time_limit`` None: bounded by work
    limits instead of time, so the same problem gives the same plan on any machine, however loaded."""
    started = time.perf_counter()
    deadline = math.inf if time_limit is None else started + time_limit
    kind_index = {k.name: j for j, k in enumerate(kinds)}
    if not classes:
        return Solution([], 0.0, 0.0, 0.0, True, True, True, 0, 0, 0.0)

    # Per class and kind, most replicas on one node; a class no allowed kind holds is an error.
    bounds: list[dict[int, int]] = [{} for _ in kinds]
    for i, item in enumerate(classes):
        for name in item.kinds:
            k = kind_index[name]
            most = min(fits(item.size, kinds[k].capacity), item.demand, item.per_node or sys.maxsize)
            if most >= 1:
                bounds[k][i] = most
        if not any(i in b for b in bounds):
            raise UnplaceableError(item)

    # Master LP: one row per class (>= demand), one per limited kind (<= limit).
    master = new_highs()
    master.addRows(
        len(classes),
        np.array([float(c.demand) for c in classes]),
        np.full(len(classes), INF),
        0,
        np.zeros(len(classes) + 1, dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([]),
    )
    limit_row: dict[int, int] = {}
    for k, kind in enumerate(kinds):
        if kind.limit is not None:
            limit_row[k] = len(classes) + len(limit_row)
            master.addRow(-INF, float(kind.limit), 0, np.array([], dtype=np.int32), np.array([]))
    # With limited kinds the homogeneous starting patterns may not be enough: one artificial column per class, at a
    # prohibitive price, keeps the LP feasible until real patterns replace it (and is barred from the plan).
    artificial = len(classes) if limit_row else 0
    penalty = 1e4 * max(k.hourly_usd for k in kinds) * max(1, sum(c.demand for c in classes))
    for i in range(artificial):
        master.addCol(penalty, 0.0, INF, 1, np.array([i], dtype=np.int32), np.array([1.0]))
    patterns: list[Pattern] = []
    known: dict[Pattern, int] = {}

    def add(k: int, counts: tuple[tuple[int, int], ...]) -> bool:
        pattern = Pattern(kinds[k].name, tuple(sorted(counts)))
        if not counts or pattern in known:
            return False
        known[pattern] = len(patterns)
        patterns.append(pattern)
        rows = [i for i, _ in pattern.counts] + ([limit_row[k]] if k in limit_row else [])
        vals = [float(a) for _, a in pattern.counts] + ([1.0] if k in limit_row else [])
        master.addCol(kinds[k].hourly_usd, 0.0, INF, len(rows), np.array(rows, dtype=np.int32), np.array(vals))
        return True

    # Start from one full homogeneous node per class and allowed kind: always feasible without limits.
    for k in range(len(kinds)):
        for i, most in sorted(bounds[k].items()):
            add(k, ((i, most),))

    pricers = [_Pricer(kinds[k], classes, bounds[k]) if bounds[k] else None for k in range(len(kinds))]
    # No optimal plan uses more nodes than replicas (a node without replicas can go): bounds the Lagrangian.
    most_nodes = sum(c.demand for c in classes)
    best_bound = 0.0
    converged = False
    iterations = 0
    cg_deadline = math.inf if time_limit is None else started + time_limit * COLUMN_GENERATION_SHARE
    lp_value = math.inf
    while True:
        iterations += 1
        _set_time_limit(master, deadline, 0.01)
        master.run()
        status = master.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            raise UnplaceableError(classes[0]) if len(classes) == 1 else RuntimeError(_infeasible_message(kinds))
        if status != highspy.HighsModelStatus.kOptimal:
            break
        lp_value = master.getInfo().objective_function_value
        duals = np.array(master.getSolution().row_dual)
        pi = duals[: len(classes)]
        # Cheap pricing first (greedy fill by dual value per unit of node); the exact knapsack only when the greedy
        # finds nothing, which is also the round that proves convergence and yields a bound.
        improved = False
        for k, pricer in enumerate(pricers):
            if pricer is None:
                continue
            mu = float(duals[limit_row[k]]) if k in limit_row else 0.0
            for value, counts in pricer.greedy(pi):
                if kinds[k].hourly_usd - mu - value < -REDUCED_COST_EPSILON and add(k, counts):
                    improved = True
        if not improved:
            lagrangian = float(np.dot(pi, [c.demand for c in classes]))
            unlimited_worst = 0.0
            ratio = 1.0
            for k, pricer in enumerate(pricers):
                if pricer is None:
                    continue
                mu = float(duals[limit_row[k]]) if k in limit_row else 0.0
                value, counts = pricer.best(pi)
                reduced = kinds[k].hourly_usd - mu - value
                if k in limit_row:
                    lagrangian += mu * kinds[k].limit + kinds[k].limit * min(0.0, reduced)
                else:
                    unlimited_worst = min(unlimited_worst, reduced)
                    ratio = max(ratio, value / kinds[k].hourly_usd)
                if reduced < -REDUCED_COST_EPSILON and add(k, counts):
                    improved = True
            lagrangian += most_nodes * unlimited_worst
            best_bound = max(best_bound, lagrangian)
            if not limit_row:
                # Farley: the duals scaled down by the largest value-to-cost ratio are feasible for every pattern.
                best_bound = max(best_bound, lp_value / ratio)
        if not improved:
            converged = True
            best_bound = max(best_bound, lp_value)
            break
        if time.perf_counter() > cg_deadline or (time_limit is None and iterations >= WORK_LIMIT_ITERATIONS):
            break
    cg_seconds = time.perf_counter() - started

    # Small pools: every pattern enters, and the integer phase solves the whole problem.
    lp_solution = list(master.getSolution().col_value) if math.isfinite(lp_value) else []
    complete = converged and _enumerate_all(classes, kinds, bounds, add)
    # A first plan to start the integer phase from: the LP's nodes rounded down, and the replicas they leave out
    # planned as a problem of their own (small: at most one node's worth per fractional pattern).
    start_counts: dict[int, int] = {}
    if lp_solution and not limit_row and _depth == 0:
        residual = [c.demand for c in classes]
        for j, v in enumerate(lp_solution[artificial:]):
            whole = math.floor(v + 1e-9)
            if whole:
                start_counts[j] = whole
                for i, a in patterns[j].counts:
                    residual[i] -= a * whole
        left = [i for i, r in enumerate(residual) if r > 0]
        if left:
            sub_classes = [
                ItemClass(classes[i].name, residual[i], classes[i].size, classes[i].kinds, classes[i].per_node)
                for i in left
            ]
            budget = None if time_limit is None else max(0.5, (deadline - time.perf_counter()) * RESIDUAL_SHARE)
            sub = solve(sub_classes, kinds, budget, _depth=1)
            for pattern, count in sub.nodes:
                k = kind_index[pattern.kind]
                counts = tuple((left[i], a) for i, a in pattern.counts)
                add(k, counts)
                j = known[Pattern(kinds[k].name, tuple(sorted(counts)))]
                start_counts[j] = start_counts.get(j, 0) + count
    # Integer phase over the patterns (feasible when no kind is limited).
    n = len(patterns)
    columns = artificial + n
    master.changeColsIntegrality(
        columns, np.arange(columns, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * columns)
    )
    if artificial:
        master.changeColsBounds(
            artificial, np.arange(artificial, dtype=np.int32), np.zeros(artificial), np.zeros(artificial)
        )
    master.setOptionValue("mip_rel_gap", MIP_RELATIVE_GAP)
    _set_time_limit(master, deadline, 0.5)
    if time_limit is None:
        master.setOptionValue("mip_max_nodes", WORK_LIMIT_MIP_NODES)
    if start_counts:
        start = highspy.HighsSolution()
        start.col_value = [float(start_counts.get(j, 0)) for j in range(n)]
        start.value_valid = True
        master.setSolution(start)
    elif not limit_row and lp_solution:
        start = highspy.HighsSolution()
        start.col_value = [float(math.ceil(v - 1e-9)) for v in lp_solution] + [0.0] * (n - len(lp_solution))
        start.value_valid = True
        master.setSolution(start)
    master.run()
    info = master.getInfo()
    values = master.getSolution().col_value
    if master.getModelStatus() == highspy.HighsModelStatus.kInfeasible or not len(values):
        raise RuntimeError(_infeasible_message(kinds))
    nodes = _trim(
        classes, [(patterns[j], round(values[artificial + j])) for j in range(n) if round(values[artificial + j]) > 0]
    )
    nodes.sort(key=lambda pn: (kind_index[pn[0].kind], pn[0].counts))
    cost = sum(kinds[kind_index[p.kind]].hourly_usd * count for p, count in nodes)
    lp_bound = min(best_bound, cost)
    bound = min(cost, _round_up_to_price_unit(lp_bound, kinds))
    if complete and master.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        # Every pattern was in the MILP: its dual bound holds for every plan.
        bound = min(cost, max(lp_bound, info.mip_dual_bound))
    proven = cost - bound <= 1e-6 * max(1.0, cost)
    return Solution(
        nodes=nodes,
        cost=cost,
        bound=bound,
        lp_bound=lp_bound,
        lp_converged=converged,
        complete=complete,
        proven_optimal=proven,
        columns=n,
        iterations=iterations,
        seconds=time.perf_counter() - started,
        stats={"column_generation_seconds": round(cg_seconds, 3), "mip_nodes": int(info.mip_node_count)},
    )


def _set_time_limit(h: highspy.Highs, deadline: float, least: float) -> None:
    if math.isfinite(deadline):
        h.setOptionValue("time_limit", max(least, deadline - time.perf_counter()))


def _round_up_to_price_unit(bound: float, kinds: Sequence[NodeKind]) -> float:
    """Every plan costs a whole number of nodes, so a multiple of the prices' greatest common divisor (in
    micro-dollars): a bound rounds up to the next multiple. Decisive when one instance type prices a pool."""
    unit = 0
    for kind in kinds:
        unit = math.gcd(unit, round(kind.hourly_usd * 1_000_000))
    if unit <= 0:
        return bound
    micro = bound * 1_000_000
    return math.ceil(micro / unit - 1e-6) * unit / 1_000_000


def _trim(classes: Sequence[ItemClass], nodes: list[tuple[Pattern, int]]) -> list[tuple[Pattern, int]]:
    """Drop replicas beyond each class's demand (the covering rows allow them), from the last nodes first, and
    regroup identical nodes."""
    covered: dict[int, int] = {}
    for pattern, count in nodes:
        for i, a in pattern.counts:
            covered[i] = covered.get(i, 0) + a * count
    excess = {i: covered[i] - classes[i].demand for i in covered}
    single = [dict(pattern.counts) for pattern, count in nodes for _ in range(count)]
    kinds = [pattern.kind for pattern, count in nodes for _ in range(count)]
    for counts in reversed(single):
        for i in sorted(counts):
            drop = min(counts[i], excess.get(i, 0))
            counts[i] -= drop
            excess[i] -= drop
    grouped: dict[Pattern, int] = {}
    for kind, counts in zip(kinds, single, strict=True):
        if any(counts.values()):
            pattern = Pattern(kind, tuple(sorted((i, a) for i, a in counts.items() if a)))
            grouped[pattern] = grouped.get(pattern, 0) + 1
    return list(grouped.items())


def _enumerate_all(classes, kinds, bounds, add) -> bool:
    """Add every pattern of every kind if there are at most ENUMERATION_LIMIT of them; tell whether it did."""
    found: list[tuple[int, tuple[tuple[int, int], ...]]] = []
    visits = [0]

    def walk(k: int, order: list[int], at: int, free: list[int], counts: list[tuple[int, int]]) -> bool:
        visits[0] += 1
        if len(found) > ENUMERATION_LIMIT or visits[0] > 10 * ENUMERATION_LIMIT:
            return False
        if at == len(order):
            if counts:
                found.append((k, tuple(counts)))
            return True
        i = order[at]
        most = min(bounds[k][i], fits(classes[i].size, free))
        for a in range(most, -1, -1):
            rest = [f - a * s for f, s in zip(free, classes[i].size, strict=True)]
            if not walk(k, order, at + 1, rest, [*counts, (i, a)] if a else counts):
                return False
        return True

    for k, kind in enumerate(kinds):
        if bounds[k] and not walk(k, sorted(bounds[k]), 0, list(kind.capacity), []):
            return False
    for k, counts in found:
        add(k, counts)
    return True


def _infeasible_message(kinds: Sequence[NodeKind]) -> str:
    limited = ", ".join(f"{k.name} <= {k.limit}" for k in kinds if k.limit is not None)
    return f"no plan holds every replica within the node limits ({limited})"
