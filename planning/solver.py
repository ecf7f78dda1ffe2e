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
the LP over the patterns known so far, then, per node kind, find patterns of great dual value (a greedy fill first;
the exact integer knapsack over the classes when the greedy finds nothing: dynamic programming over the capacities
where they are few states, else a small MILP); a pattern worth more than
its node's cost enters. Every round also bounds each kind's best pattern value from above (fractional knapsacks of
surrogate relaxations, in numpy), which gives a valid Lagrangian / Farley bound on every plan and rules out kinds
that cannot price out. Column generation stops when no pattern enters (the LP value is then the bound), when the LP
is within CG_TOLERANCE of the bound (the long tail would gain at most that), or at its share of the time limit: the
bound is honest in every case.

The plan: a dive from the LP solution (keep every pattern's whole nodes, round up the pattern nearest its next node,
price new patterns for the rest, solve the LP again, until it is integral); while it is not within ``gap`` of the
bound, repack its emptiest nodes (their replicas planned again on their own, _repack); then, still not within the
gap, the MILP over the generated patterns (HiGHS branch and cut) started from that plan, for a share of the time
spent so far; when every pattern was enumerated (small pools) the MILP is the whole problem and gets the time left
to prove its plan optimal. The gap target only decides when to stop improving the plan, never the bound. The gap
between the plan's cost and the bound is what remains unproven; zero means the plan is optimal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

INF = highspy.kHighsInf
#: A pattern enters the LP when its reduced cost is below this (USD per hour); smaller gains are noise.
REDUCED_COST_EPSILON = 1e-7
#: Column generation stops once the LP over the patterns found so far is within this share of a proven bound: the
#: last rounds would gain at most that much (the long tail of column generation), and the bound is reported as is.
CG_TOLERANCE = 1e-3
#: Share of the time limit column generation may use before the integer phase starts with what it has.
COLUMN_GENERATION_SHARE = 0.7
#: The integer phase stops once the plan is within this relative gap of the LP over the generated patterns.
MIP_RELATIVE_GAP = 1e-6
#: When all patterns number at most this many, all of them enter the integer phase: the MILP is then the whole
#: problem and HiGHS proves its plan optimal (small pools, the tests' hand-computed examples).
ENUMERATION_LIMIT = 20_000
#: ... and the enumeration gives up after this many steps of its walk (each step at least one pattern or one choice).
ENUMERATION_STEPS = 3 * ENUMERATION_LIMIT
#: Over the generated patterns only, the integer phase may take this share of the time the pool took before it, and
#: at least MIP_SECONDS.
MIP_EFFORT = 0.25
MIP_SECONDS = 1.0
#: Rounds of (greedy) column generation after each step of the dive that finds the first plan.
DIVE_PRICING_ROUNDS = 3
#: The dive's nodes fuller than this (in their fullest resource) are kept, the others' replicas planned again
#: (_repack), one pass per threshold while the plan is not within the gap asked for ...
REPACK_FILL = (0.9, 0.97)
#: ... each pass for this share of the time spent so far, at least MIP_SECONDS.
REPACK_EFFORT = 0.5
#: ... and none of them runs into the last REPACK_RESERVE of the pool's time limit.
REPACK_RESERVE = 0.1
#: Where only the plan matters (a repack's problem), column generation stops once the LP improved by less than STALL
#: (relative) over the last STALL_ROUNDS rounds.
STALL = 1e-3
STALL_ROUNDS = 20
#: Most states of a pricing problem's dynamic programme (_KnapsackTable); larger ones go to HiGHS.
KNAPSACK_TABLE_STATES = 200_000
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


class _KnapsackTable:
    """The exact integer knapsack max pi.a s.t. sum_i a_i s_i <= C (every resource), 0 <= a_i <= u_i, by dynamic
    programming over the capacities, when they are few enough states: each resource that can bind is counted in
    units of its sizes' greatest common divisor (exact: every sum of sizes is a multiple of it), and a resource
    that another one implies (s_ir C_q <= s_iq C_r for every item i, e.g. pod slots when every replica asks for a
    good share of the cpu) or that all items together cannot fill is left out. Replica counts are split in binary
    chunks (1, 2, 4, ..., the rest), each a 0/1 item. About three times faster than the HiGHS MILP on the CPU pool's
    pricing problems, and the same optimum (a tie may pick another pattern of the same value)."""

    def __init__(self, scaled: np.ndarray, shape: tuple[int, ...], ub: Sequence[int]):
        self.scaled = scaled
        self.shape = shape
        self.ub = ub

    @classmethod
    def of(cls, capacity: Sequence[int], sizes: Sequence[Sequence[int]], ub: Sequence[int]) -> _KnapsackTable | None:
        """The table for these items, or None when it would exceed KNAPSACK_TABLE_STATES states."""
        size = np.array(sizes, dtype=np.int64).reshape(len(sizes), len(capacity))
        most = np.array(ub, dtype=np.int64)
        cap = np.array(capacity, dtype=np.int64)

        def implied(r: int) -> bool:
            for q in range(len(cap)):
                if q == r or cap[q] <= 0 or not np.all(size[:, r] * cap[q] <= size[:, q] * cap[r]):
                    continue
                # Two resources proportional in every item imply each other: keep the first.
                if q < r or not np.all(size[:, q] * cap[r] <= size[:, r] * cap[q]):
                    return True
            return False

        dims = [r for r in range(len(cap)) if int((size[:, r] * most).sum()) > cap[r] and not implied(r)]
        units = [int(np.gcd.reduce(size[:, r][size[:, r] > 0])) for r in dims]
        shape = tuple(int(cap[r] // u) + 1 for r, u in zip(dims, units, strict=True))
        if math.prod(shape) > KNAPSACK_TABLE_STATES:
            return None
        scaled = np.array([[s // u for s, u in zip(size[j, dims], units, strict=True)] for j in range(len(size))])
        return cls(scaled.reshape(len(size), len(dims)), shape, list(ub))

    def best(self, values: np.ndarray) -> list[tuple[int, int]]:
        """(item, count) of a most valuable filling at these item values (items of value 0 or less left out)."""
        shape = self.shape
        if not shape:  # no resource binds: every item as often as it may
            return [(j, self.ub[j]) for j in np.flatnonzero(values > 0).tolist()]
        table = np.zeros(shape)  # best value within each capacity
        chunks = []
        for j in np.flatnonzero(values > 0).tolist():
            left, chunk = self.ub[j], 1
            while left > 0:
                take = min(chunk, left)
                left -= take
                chunk *= 2
                size = self.scaled[j] * take
                if any(s >= n for s, n in zip(size, shape, strict=True)):
                    continue
                source = tuple(slice(0, n - s) for n, s in zip(shape, size, strict=True))
                target = tuple(slice(s, n) for n, s in zip(shape, size, strict=True))
                candidate = table[source] + values[j] * take
                current = table[target]  # a view: updated in place
                better = candidate > current
                np.copyto(current, candidate, where=better)
                chunks.append((j, take, size, better))
        at = [n - 1 for n in shape]
        counts: dict[int, int] = {}
        for j, take, size, better in reversed(chunks):
            offset = [a - s for a, s in zip(at, size, strict=True)]
            if min(offset, default=0) >= 0 and better[tuple(offset)]:
                counts[j] = counts.get(j, 0) + take
                at = offset
        return sorted(counts.items())


class _UpperBounds:
    """Per node kind, an upper bound on its best pattern's value at given duals: per surrogate relaxation of the
    kind (its resources, and sums of their shares, as one constraint), the fractional knapsack; the least of them.
    Every kind's relaxations are rows of one matrix over all classes (a class the kind cannot hold has no room
    there), so one numpy pass bounds every kind."""

    def __init__(self, pricers: Sequence[_Pricer | None], classes: int):
        weights, most, caps, starts, kinds = [], [], [], [], []
        for k, pricer in enumerate(pricers):
            if pricer is None:
                continue
            rows = len(pricer.surrogate_caps)
            w = np.ones((rows, classes))
            w[:, pricer.index_array] = pricer.surrogate_sizes
            u = np.zeros((rows, classes))
            u[:, pricer.index_array] = pricer.ub
            starts.append(sum(len(c) for c in caps))
            weights.append(w)
            most.append(u)
            caps.append(pricer.surrogate_caps)
            kinds.append(k)
        self.kinds = np.array(kinds, dtype=np.int64)
        self.count = len(pricers)
        if not kinds:
            return
        self.w = np.vstack(weights)  # (relaxations, classes), every weight > 0
        self.ub = np.vstack(most)
        self.wub = self.w * self.ub
        self.caps = np.concatenate(caps)
        self.starts = np.array(starts, dtype=np.int64)

    def __call__(self, duals: np.ndarray) -> np.ndarray:
        values = np.zeros(self.count)
        if not len(self.kinds):
            return values
        pi = np.maximum(duals, 0.0)
        ratio = np.where(self.ub > 0, pi / self.w, 0.0)
        order = np.argsort(-ratio, axis=1, kind="stable")
        rows = np.arange(len(self.w))[:, None]
        weights = self.wub[rows, order]
        gains = (pi * self.ub)[rows, order]
        filled = np.cumsum(weights, axis=1)
        whole = (filled <= self.caps[:, None]).sum(axis=1)
        n = self.w.shape[1]
        taken = np.where(np.arange(n) < whole[:, None], gains, 0.0).sum(axis=1)
        flat = np.arange(len(self.w))
        before = filled[flat, np.maximum(whole - 1, 0)]
        room = np.where(whole > 0, self.caps - before, self.caps)
        at = np.minimum(whole, n - 1)
        extra = np.where(whole < n, ratio[flat, order[flat, at]] * room, 0.0)
        values[self.kinds] = np.minimum.reduceat(taken + extra, self.starts)
        return values


class _Pricer:
    """The pricing problem of one node kind: max sum_i pi_i a_i over the patterns of that kind (an integer knapsack
    in every resource), solved by dynamic programming when the capacities are few states (_KnapsackTable), else
    kept as one HiGHS model whose objective changes between calls."""

    def __init__(self, kind: NodeKind, classes: Sequence[ItemClass], bounds: dict[int, int]):
        self.kind = kind
        self.classes = classes
        self.bounds = bounds
        self.index = sorted(bounds)  # class indices this kind may hold
        # Surrogate relaxations for upper_bound: each nonempty set of the node's resources that some class uses,
        # summed as shares of the node (a class without any size there would be unbounded: none is, every replica
        # takes a pod slot).
        self.index_array = np.array(self.index, dtype=np.int64)
        self.ub = np.array([float(bounds[i]) for i in self.index])
        self.ub_int = [bounds[i] for i in self.index]
        sizes = np.array([classes[i].size for i in self.index], dtype=float)
        shares = sizes / np.array([c if c > 0 else 1 for c in kind.capacity], dtype=float)
        usable = [r for r, c in enumerate(kind.capacity) if c > 0 and np.all(sizes[:, r] > 0)]
        usable = usable or [r for r, c in enumerate(kind.capacity) if c > 0]
        masks = range(1, 2 ** len(usable))
        self.surrogate_sizes = np.array(
            [sum(shares[:, usable[b]] for b in range(len(usable)) if m >> b & 1) for m in masks]
        )
        self.surrogate_caps = np.array([float(bin(m).count("1")) for m in masks])
        self.surrogate_sizes = np.maximum(self.surrogate_sizes, 1e-12)
        self.nonzero = [[(r, s) for r, s in enumerate(classes[i].size) if s > 0] for i in self.index]
        self.share_measures = [np.maximum(m, 1e-12) for m in (shares.sum(axis=1), shares.max(axis=1))]
        self.table = _KnapsackTable.of(kind.capacity, [classes[i].size for i in self.index], self.ub_int)
        if self.table is None:
            self._highs_model(kind, classes, bounds)

    def _highs_model(self, kind: NodeKind, classes: Sequence[ItemClass], bounds: dict[int, int]) -> None:
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
        pi = duals[self.index_array]
        positive = np.flatnonzero(pi > 0)
        found = []
        for share in self.share_measures:
            order = positive[np.argsort(-pi[positive] / share[positive], kind="stable")]
            free = list(self.kind.capacity)
            counts = []
            value = 0.0
            for j in order.tolist():
                a = self.ub_int[j]
                for r, size in self.nonzero[j]:
                    a = min(a, free[r] // size)
                if a > 0:
                    counts.append((self.index[j], a))
                    value += pi[j] * a
                    for r, size in self.nonzero[j]:
                        free[r] -= a * size
            found.append((float(value), tuple(sorted(counts))))
        return found

    def best(self, duals: np.ndarray) -> tuple[float, tuple[tuple[int, int], ...]]:
        """The most valuable pattern at these duals and its value."""
        costs = np.array([max(0.0, float(duals[i])) for i in self.index])
        if not np.any(costs > 0):
            return 0.0, ()
        if self.table is not None:
            counts = tuple((self.index[j], a) for j, a in self.table.best(costs))
            return sum(duals[i] * a for i, a in counts), counts
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
    gap: float = MIP_RELATIVE_GAP,
    repack: bool = True,
    need_bound: bool = True,
) -> Solution:
    """Cheapest set of nodes holding every replica (see the module docstring). ``time_limit`` None: bounded by work
    limits instead of time, so the same problem gives the same plan on any machine, however loaded."""
    started = time.perf_counter()
    cpu_started = time.process_time()
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
    upper_bounds = _UpperBounds(pricers, len(classes))
    # No optimal plan uses more nodes than replicas (a node without replicas can go): bounds the Lagrangian.
    most_nodes = sum(c.demand for c in classes)
    best_bound = 0.0
    converged = close = False
    iterations = 0
    cg_deadline = math.inf if time_limit is None else started + time_limit * COLUMN_GENERATION_SHARE
    lp_value = math.inf
    history: list[float] = []
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
        history.append(lp_value)
        if not need_bound and len(history) > STALL_ROUNDS and history[-STALL_ROUNDS - 1] - lp_value <= STALL * lp_value:
            break  # only the plan matters (a repack): the LP has stopped improving, good enough to dive from
        duals = np.array(master.getSolution().row_dual)
        pi = duals[: len(classes)]
        mus = [float(duals[limit_row[k]]) if k in limit_row else 0.0 for k in range(len(kinds))]
        # Every round: a cheap upper bound on each kind's best pattern value (fractional knapsacks of surrogate
        # relaxations) gives a valid bound, and rules out the kinds that cannot price out.
        values = list(upper_bounds(pi))
        best_bound = max(best_bound, _lagrangian(pi, mus, values, classes, kinds, limit_row, most_nodes, lp_value))
        if lp_value - best_bound <= CG_TOLERANCE * lp_value:
            close = True  # the LP can improve by at most CG_TOLERANCE: stop before the long tail
            break
        open_kinds = [
            k
            for k, pricer in enumerate(pricers)
            if pricer is not None and kinds[k].hourly_usd - mus[k] - values[k] < -REDUCED_COST_EPSILON
        ]
        # Cheap pricing first (greedy fill by dual value per unit of node); the exact knapsack only when the greedy
        # finds nothing, which is also the round that proves convergence or tightens the bound.
        improved = False
        for k in open_kinds:
            for value, counts in pricers[k].greedy(pi):
                if kinds[k].hourly_usd - mus[k] - value < -REDUCED_COST_EPSILON and add(k, counts):
                    improved = True
        if not improved:
            for k in open_kinds:
                value, counts = pricers[k].best(pi)
                values[k] = min(values[k], value)
                if kinds[k].hourly_usd - mus[k] - value < -REDUCED_COST_EPSILON and add(k, counts):
                    improved = True
            best_bound = max(best_bound, _lagrangian(pi, mus, values, classes, kinds, limit_row, most_nodes, lp_value))
        if not improved:
            converged = True
            best_bound = max(best_bound, lp_value)
            break
        if time.perf_counter() > cg_deadline or (time_limit is None and iterations >= WORK_LIMIT_ITERATIONS):
            break
    cg_seconds = time.perf_counter() - started
    cg_cpu = time.process_time() - cpu_started

    # Small pools: every pattern enters, and the integer phase solves the whole problem (not for a repack's problem,
    # whose plan is its dive's).
    lp_solution = list(master.getSolution().col_value) if math.isfinite(lp_value) else []
    complete = need_bound and (converged or close) and _enumerate_all(classes, kinds, bounds, add)

    # A first plan to start the integer phase from: dive from the LP solution (round up one pattern at a time).
    def dive_price(duals: np.ndarray) -> bool:
        pi = duals[: len(classes)]
        added = False
        bounds_now = upper_bounds(pi)
        for k, pricer in enumerate(pricers):
            mu = float(duals[limit_row[k]]) if k in limit_row else 0.0
            if pricer is None or kinds[k].hourly_usd - mu - bounds_now[k] >= -REDUCED_COST_EPSILON:
                continue
            for value, counts in pricer.greedy(pi):
                if kinds[k].hourly_usd - mu - value < -REDUCED_COST_EPSILON and add(k, counts):
                    added = True
        return added

    start_counts = (
        _dive(master, artificial, lambda: artificial + len(patterns), dive_price, deadline) if lp_solution else None
    )
    dive_seconds = time.perf_counter() - started - cg_seconds
    dive_cpu = time.process_time() - cpu_started - cg_cpu

    def cost_of(counts: dict[int, int]) -> float:
        return sum(kinds[kind_index[patterns[j].kind]].hourly_usd * c for j, c in counts.items())

    dive_cost = cost_of(start_counts) if start_counts is not None else math.inf
    # Repack the dive's emptiest nodes: their replicas are a small problem of the same kind, solved on its own.
    if repack and start_counts is not None and not limit_row:
        # Repacks stop short of the deadline: the integer phase and the plan's assembly need a moment too.
        repack_deadline = started + (1 - REPACK_RESERVE) * time_limit if time_limit is not None else math.inf
        for fill in REPACK_FILL:
            if _within(dive_cost, best_bound, kinds, gap) or time.perf_counter() >= repack_deadline:
                break
            spent = time.perf_counter() - started
            share = (
                None
                if time_limit is None
                else min(repack_deadline - time.perf_counter(), max(MIP_SECONDS, spent * REPACK_EFFORT))
            )
            if share is not None and share < 0.1:
                break
            better = _repack(
                classes, kinds, [(patterns[j], c) for j, c in sorted(start_counts.items())], fill, share, gap
            )
            if better is not None:
                start_counts = {}
                for pattern, count in better:
                    add(kind_index[pattern.kind], pattern.counts)
                    j = known[pattern]
                    start_counts[j] = start_counts.get(j, 0) + count
                dive_cost = cost_of(start_counts)
    repack_cpu = time.process_time() - cpu_started - cg_cpu - dive_cpu
    n = len(patterns)
    mip_nodes = 0
    dual_bound = -math.inf
    if start_counts is not None and (_within(dive_cost, best_bound, kinds, gap) or not need_bound):
        # Within the gap asked for already, or a repack's problem (its plan is what the dive found): no MILP.
        chosen = dict(start_counts)
    else:
        # Over every pattern the MILP gets the time left; over the generated ones a share of the time so far.
        spent = time.perf_counter() - started
        mip_deadline = (
            deadline if complete else min(deadline, time.perf_counter() + max(MIP_SECONDS, MIP_EFFORT * spent))
        )
        chosen, mip_nodes, dual_bound = _integer_phase(
            master,
            classes,
            kinds,
            patterns,
            artificial,
            start_counts,
            best_bound,
            gap,
            complete,
            mip_deadline,
            time_limit is None,
        )
    if chosen is None:
        # The MILP stopped (time) before it had a plan of its own: the dive's, else each class on the kind that
        # holds its replicas cheapest (always a plan without node limits).
        if start_counts is not None:
            chosen = dict(start_counts)
        elif not limit_row:
            chosen = _homogeneous(classes, kinds, bounds, known)
        else:
            raise RuntimeError(_infeasible_message(kinds) + " found within the time limit")
    nodes = _trim(classes, [(patterns[j], count) for j, count in sorted(chosen.items())])
    nodes.sort(key=lambda pn: (kind_index[pn[0].kind], pn[0].counts))
    cost = sum(kinds[kind_index[p.kind]].hourly_usd * count for p, count in nodes)
    lp_bound = min(best_bound, cost)
    bound = min(cost, _round_up_to_price_unit(lp_bound, kinds))
    if math.isfinite(dual_bound):
        # Every pattern was in the MILP: its dual bound holds for every plan.
        bound = min(cost, max(bound, dual_bound))
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
        stats={
            "column_generation_seconds": round(cg_seconds, 3),
            "dive_seconds": round(dive_seconds, 3),
            "column_generation_cpu_seconds": round(cg_cpu, 3),
            "dive_cpu_seconds": round(dive_cpu, 3),
            "dive_cost": round(dive_cost, 4),
            "repack_cpu_seconds": round(repack_cpu, 3),
            "mip_nodes": mip_nodes,
        },
    )


def _within(cost: float, bound: float, kinds: Sequence[NodeKind], gap: float) -> bool:
    """Whether a plan of this cost is within ``gap`` of the bound (rounded up to whole nodes' prices)."""
    proven = min(cost, _round_up_to_price_unit(min(bound, cost), kinds))
    return math.isfinite(cost) and cost - proven <= max(gap * cost, 1e-6 * max(1.0, cost))


def _integer_phase(
    master: highspy.Highs,
    classes: Sequence[ItemClass],
    kinds: Sequence[NodeKind],
    patterns: list[Pattern],
    artificial: int,
    start_counts: dict[int, int] | None,
    bound: float,
    gap: float,
    complete: bool,
    deadline: float,
    work_limited: bool,
) -> tuple[dict[int, int] | None, int, float]:
    """The MILP over the patterns, from the start plan, until within ``gap`` of ``bound`` (or the deadline): the
    plan (None if it found none), its branch-and-bound nodes, and its dual bound when that holds for every plan
    (every pattern in the MILP, and what HiGHS reports is the plan's cost), else -inf. Over every pattern the MILP
    is the whole problem (it gets the time left, to prove the optimum); over the generated patterns only it is an
    improvement heuristic for the start plan. The gap reports what either leaves."""
    kind_index = {k.name: j for j, k in enumerate(kinds)}
    n = len(patterns)
    columns = artificial + n
    master.changeColsIntegrality(
        columns, np.arange(columns, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * columns)
    )
    if artificial:
        master.changeColsBounds(
            artificial, np.arange(artificial, dtype=np.int32), np.zeros(artificial), np.zeros(artificial)
        )
    # Over every pattern HiGHS's own gap is against a bound on every plan: it may stop within the gap asked for.
    master.setOptionValue("mip_rel_gap", max(gap, MIP_RELATIVE_GAP) if complete else MIP_RELATIVE_GAP)
    _set_time_limit(master, deadline, 0.1)
    if work_limited:
        master.setOptionValue("mip_max_nodes", WORK_LIMIT_MIP_NODES)
    if start_counts is not None:
        start = highspy.HighsSolution()
        start.col_value = [0.0] * artificial + [float(start_counts.get(j, 0)) for j in range(n)]
        start.value_valid = True
        master.setSolution(start)
    # The plan is good enough once within ``gap`` of the bound column generation proved (HiGHS's own gap is only
    # against the patterns it has): stop there.
    # HiGHS's own primal value can miss the presolve's offset (below): the incumbents' costs are computed here.
    prices = np.array([0.0] * artificial + [kinds[kind_index[p.kind]].hourly_usd for p in patterns])
    incumbent = [math.inf]

    def improving(event) -> None:
        solution = np.asarray(event.data_out.mip_solution)
        if len(solution) == len(prices):
            incumbent[0] = min(incumbent[0], float(np.dot(prices, np.round(solution))))

    def interrupt(event) -> None:
        if incumbent[0] - bound <= gap * incumbent[0]:
            event.interrupt()

    master.cbMipImprovingSolution += improving
    master.cbMipInterrupt += interrupt
    master.run()
    optimal = master.getModelStatus() == highspy.HighsModelStatus.kOptimal
    if complete and optimal and not _consistent(master, kinds, patterns, artificial):
        # HiGHS 1.16 can leave the presolve's objective offset out of what it reports after a start solution: its
        # bound is then not the plan's. Every pattern is in the MILP, so solve it again without the start.
        master.clearSolver()
        _set_time_limit(master, deadline, 0.1)
        master.run()
    # The MILP's own bound counts only over every pattern, and only when what HiGHS reports is the plan's cost.
    dual_bound_holds = complete and _consistent(master, kinds, patterns, artificial)
    master.cbMipInterrupt -= interrupt
    master.cbMipImprovingSolution -= improving
    info = master.getInfo()
    values = master.getSolution().col_value
    if master.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        raise RuntimeError(_infeasible_message(kinds))
    chosen = {j: round(values[artificial + j]) for j in range(n) if len(values) and round(values[artificial + j]) > 0}
    dual_bound = info.mip_dual_bound if dual_bound_holds and math.isfinite(info.mip_dual_bound) else -math.inf
    if not _covers(classes, patterns, chosen) or (artificial and any(round(v) for v in values[:artificial])):
        return None, int(info.mip_node_count), dual_bound
    return chosen, int(info.mip_node_count), dual_bound


def _repack(
    classes: Sequence[ItemClass],
    kinds: Sequence[NodeKind],
    nodes: list[tuple[Pattern, int]],
    fill: float,
    time_limit: float | None,
    gap: float,
) -> list[tuple[Pattern, int]] | None:
    """A cheaper plan, or None: the nodes whose fullest resource is below ``fill`` of the node give up their
    replicas, which are planned again on their own (a small problem of the same kind: few replicas per class, so
    column generation and the integer phase are quick and the patterns can mix them better than the dive did). The
    other nodes stay. A large-neighbourhood step: it never makes the plan worse, and the bound is not involved."""
    capacity = {k.name: k.capacity for k in kinds}
    price = {k.name: k.hourly_usd for k in kinds}
    kept: list[tuple[Pattern, int]] = []
    freed: dict[int, int] = {}
    freed_cost = 0.0
    for pattern, count in _trim(classes, nodes):
        cap = capacity[pattern.kind]
        used = max(sum(a * classes[i].size[r] for i, a in pattern.counts) / c for r, c in enumerate(cap) if c > 0)
        if used < fill:
            freed_cost += price[pattern.kind] * count
            for i, a in pattern.counts:
                freed[i] = freed.get(i, 0) + a * count
        else:
            kept.append((pattern, count))
    if len(freed) < 2:
        return None  # one class alone: its nodes are already the cheapest homogeneous ones the dive could price
    index = sorted(freed)
    sub = solve(
        [dataclasses.replace(classes[i], demand=freed[i]) for i in index],
        kinds,
        time_limit,
        gap,
        repack=False,
        need_bound=False,
    )
    if sub.cost >= freed_cost - 1e-9:
        return None
    return kept + [(Pattern(p.kind, tuple((index[i], a) for i, a in p.counts)), count) for p, count in sub.nodes]


def _dive(
    master: highspy.Highs,
    artificial: int,
    columns: Callable[[], int],
    price: Callable[[np.ndarray], bool],
    deadline: float,
) -> dict[int, int] | None:
    """A plan from the LP over the patterns: keep every pattern's whole nodes (its value rounded down, as a lower
    bound), round up the pattern nearest to its next whole node, price new patterns for what is left (``price``:
    the greedy pricing at the LP's duals; true when it added any), solve the LP again, until it is integral. Each
    step adds a node, so it ends; past the deadline the LP's patterns are rounded up at once instead. The column bounds
    are restored. None when no plan results (node limits)."""
    lower = np.zeros(columns())
    result = None
    master.setOptionValue("time_limit", INF)  # each LP of the dive is a warm-started re-solve: short
    while True:
        late = time.perf_counter() >= deadline
        rounds = 0
        while True:
            master.run()
            if master.getModelStatus() != highspy.HighsModelStatus.kOptimal or rounds == DIVE_PRICING_ROUNDS or late:
                break
            if not price(np.array(master.getSolution().row_dual)):
                break
            rounds += 1
        if master.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        x = np.array(master.getSolution().col_value)
        if artificial and np.any(x[:artificial] > 1e-6):
            break  # the node limits leave replicas only the artificial columns hold
        whole = np.floor(x + 1e-6)
        fractional = np.flatnonzero(x - whole > 1e-6)
        if not fractional.size or (late and not artificial):
            # Past the deadline: every pattern rounded up at once (covers every replica, as the LP does).
            result = {j: int(v) for j, v in enumerate(np.ceil(x[artificial:] - 1e-6)) if v > 0}
            break
        lower = np.maximum(np.concatenate([lower, np.zeros(len(x) - len(lower))]), whole)
        j = fractional[int(np.argmax(x[fractional] - whole[fractional]))]
        lower[j] = whole[j] + 1
        master.changeColsBounds(len(x), np.arange(len(x), dtype=np.int32), lower, np.full(len(x), INF))
    n = columns()
    upper = np.full(n, INF)
    upper[:artificial] = 0.0
    master.changeColsBounds(n, np.arange(n, dtype=np.int32), np.zeros(n), upper)
    return result


def _lagrangian(pi, mus, values, classes, kinds, limit_row, most_nodes, lp_value) -> float:
    """A lower bound on every plan from duals ``pi`` (classes) and ``mus`` (limited kinds), given an upper bound
    ``values[k]`` on the best pattern value of each kind at those duals. Lagrangian: sum_i pi_i D_i, plus per limited
    kind its limit times its most negative reduced cost, plus the most nodes an optimal plan uses times the most
    negative reduced cost of an unlimited kind. Without limits also Farley's: the duals scaled down by the largest
    value-to-price ratio are feasible for every pattern, so LP value / ratio is a bound."""
    bound = float(np.dot(pi, [c.demand for c in classes]))
    unlimited_worst = 0.0
    ratio = 1.0
    for k, kind in enumerate(kinds):
        reduced = kind.hourly_usd - mus[k] - values[k]
        if k in limit_row:
            bound += mus[k] * kind.limit + kind.limit * min(0.0, reduced)
        else:
            unlimited_worst = min(unlimited_worst, reduced)
            ratio = max(ratio, values[k] / kind.hourly_usd)
    bound += most_nodes * unlimited_worst
    if not limit_row:
        bound = max(bound, lp_value / ratio)
    return bound


def _set_time_limit(h: highspy.Highs, deadline: float, least: float) -> None:
    if math.isfinite(deadline):
        h.setOptionValue("time_limit", max(least, deadline - time.perf_counter()))


def _covers(classes: Sequence[ItemClass], patterns: list[Pattern], chosen: dict[int, int]) -> bool:
    """Whether these nodes (pattern index: how many) hold every replica."""
    held = [0] * len(classes)
    for j, count in chosen.items():
        for i, a in patterns[j].counts:
            held[i] += a * count
    return all(h >= c.demand for h, c in zip(held, classes, strict=True))


def _homogeneous(classes, kinds, bounds, known) -> dict[int, int]:
    """Each class alone on nodes of the kind that holds its replicas cheapest (full homogeneous patterns, which the
    master starts with)."""
    chosen: dict[int, int] = {}
    for i, item in enumerate(classes):
        k = min((k for k in range(len(kinds)) if i in bounds[k]), key=lambda k: (kinds[k].hourly_usd / bounds[k][i], k))
        j = known[Pattern(kinds[k].name, ((i, bounds[k][i]),))]
        chosen[j] = chosen.get(j, 0) + -(-item.demand // bounds[k][i])
    return chosen


def _consistent(master: highspy.Highs, kinds: Sequence[NodeKind], patterns: list[Pattern], artificial: int) -> bool:
    """Whether the objective HiGHS reports is the cost of the solution it returns."""
    values = master.getSolution().col_value
    if not len(values):
        return True
    price = {k.name: k.hourly_usd for k in kinds}
    cost = sum(price[p.kind] * values[artificial + j] for j, p in enumerate(patterns))
    reported = master.getInfo().objective_function_value
    return abs(cost - reported) <= 1e-6 * max(1.0, abs(cost))


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
    """Add every pattern of every kind if there are at most ENUMERATION_LIMIT of them; tell whether it did (a walk
    over the classes, each taken as often as still fits; it gives up as soon as the patterns or the steps run over)."""
    found: list[tuple[int, tuple[tuple[int, int], ...]]] = []
    steps = [0]
    nonzero = [[(r, s) for r, s in enumerate(c.size) if s > 0] for c in classes]

    def walk(k: int, order: list[int], at: int, free: list[int], counts: list[tuple[int, int]]) -> bool:
        steps[0] += 1
        if len(found) > ENUMERATION_LIMIT or steps[0] > ENUMERATION_STEPS:
            return False
        most = 0
        while at < len(order):  # classes that no longer fit add nothing: skip them
            i = order[at]
            most = bounds[k][i]
            for r, size in nonzero[i]:
                most = min(most, free[r] // size)
            if most > 0:
                break
            at += 1
        if at == len(order):
            if counts:
                found.append((k, tuple(counts)))
            return True
        for a in range(most, -1, -1):
            rest = list(free)
            for r, size in nonzero[i]:
                rest[r] -= a * size
            if not walk(k, order, at + 1, rest, [*counts, (i, a)] if a else counts):
                return False
        return True

    for k, kind in enumerate(kinds):
        # At least 2^m patterns when the m smallest classes fit on one node together (one replica each, any subset):
        # no walk needed to know there are too many.
        free, together = list(kind.capacity), 0
        for i in sorted(
            bounds[k], key=lambda i: (max(s / c for s, c in zip(classes[i].size, kind.capacity, strict=True) if c), i)
        ):
            free = [f - s for f, s in zip(free, classes[i].size, strict=True)]
            if min(free) < 0:
                break
            together += 1
        if 2**together > ENUMERATION_LIMIT:
            return False
    for k, kind in enumerate(kinds):
        if bounds[k] and not walk(k, sorted(bounds[k]), 0, list(kind.capacity), []):
            return False
    for k, counts in found:
        add(k, counts)
    return True


def _infeasible_message(kinds: Sequence[NodeKind]) -> str:
    limited = ", ".join(f"{k.name} <= {k.limit}" for k in kinds if k.limit is not None)
    return f"no plan holds every replica within the node limits ({limited})"
