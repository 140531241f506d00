"""Has Adam converged? The sip-training page's convergence check on the long-budget
record: how much one doubling of the budget changes each method's final x-distance.
"""

import numpy as np

from .._checks import check_choice, check_mapping, check_number, check_records
from .runs import XI_SWEEP, _check_budget, _check_results
from .sweep import SIN_METHODS

# Convergence: "converged" means that doubling the budget changes a value by less than
# this factor. Over a doubling, a power law d ∝ steps^(−p) changes d by 2^p, so the
# criterion is p < log2(CONVERGED_FACTOR) ≈ 0.14.
CONVERGED_FACTOR = 1.1


def decay_exponents(record, method, start, end):
    """Local power-law exponents p of the record's final x-distances, d ∝ steps^(−p),
    fitted by least squares in log-log to the checkpoints of ``method`` in [start, end]:
    (n_settings,). Doubling the budget divides d by 2^p."""
    check_choice("method", method, SIN_METHODS)
    check_mapping("record", record, keys=("steps", method))
    check_number("start", start, 0.0)
    check_number("end", end, 0.0)
    steps = np.asarray(record["steps"][method], float)
    chosen = (steps >= start) & (steps <= end)
    if chosen.sum() < 2:
        raise ValueError(f"the record has fewer than 2 checkpoints of {method} in "
                         f"[{start}, {end}] (it has every {int(steps[0])} up to "
                         f"{int(steps[-1])})")
    log_n = np.log(steps[chosen]) - np.log(steps[chosen]).mean()
    log_d = np.log(record[method]["final"][:, chosen])
    # the least-squares slope in closed form (no LAPACK: the same digits on every CPU)
    return -(log_d * log_n).sum(axis=1) / (log_n * log_n).sum()


def adam_convergence(record, budget):
    """Adam and SIP in the record's ξ sweep over one doubling of the equal-time ``budget``
    ({method: steps}; the record must reach twice it): per ξ of XI_SWEEP a dict with
    "adam_doubling" and "sip_doubling" (d at the budget / d at twice it, measured),
    "p_adam" and "p_sip" (decay exponents fitted over that doubling), and "lag_n" and
    "lag_2n" (Adam's d / SIP's d at the budget and at twice it; below 1 Adam is ahead)."""
    _check_results("record", record, ("budget", "Adam", "SIP"))
    _check_budget("budget", budget)
    check_mapping("budget", budget, keys=("Adam", "SIP"))
    ends = {}
    for method in ("Adam", "SIP"):
        steps = int(budget[method])
        checkpoints = list(record["steps"][method])
        if steps not in checkpoints or 2 * steps not in checkpoints:
            raise ValueError(f"the record must hold {method} at {steps} and twice that "
                             f"({2 * steps}) steps; it ends at {record['budget'][method]}")
        finals = record[method]["final"][record["settings"][2]["xi_sweep"]]
        exponents = decay_exponents(record, method, steps, 2 * steps)
        ends[method] = (finals[:, checkpoints.index(steps)],
                        finals[:, checkpoints.index(2 * steps)],
                        exponents[record["settings"][2]["xi_sweep"]])
    (a1, a2, pa), (s1, s2, ps) = ends["Adam"], ends["SIP"]
    return [{"xi": xi, "adam_doubling": float(a1[k] / a2[k]),
             "sip_doubling": float(s1[k] / s2[k]), "p_adam": float(pa[k]),
             "p_sip": float(ps[k]), "lag_n": float(a1[k] / s1[k]),
             "lag_2n": float(a2[k] / s2[k])} for k, xi in enumerate(XI_SWEEP)]


def convergence_table(rows):
    """``adam_convergence``'s rows as a text table."""
    check_records("rows", rows, ("xi", "adam_doubling", "sip_doubling", "p_adam", "p_sip",
                                 "lag_n", "lag_2n"))
    lines = [f"{'xi':>4} {'Adam d(n)/d(2n)':>16} {'SIP d(n)/d(2n)':>15} {'p Adam':>7} "
             f"{'p SIP':>6} {'Adam/SIP at n':>14} {'at 2n':>6}"]
    for row in rows:
        lines.append(f"{row['xi']:>4g} {row['adam_doubling']:>16.2f} "
                     f"{row['sip_doubling']:>15.2f} {row['p_adam']:>7.2f} "
                     f"{row['p_sip']:>6.2f} {row['lag_n']:>14.2f} {row['lag_2n']:>6.2f}")
    return "\n".join(lines)

