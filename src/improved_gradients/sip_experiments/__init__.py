"""The sip-training page (SIP on the sin benchmark), one module per concern:

- ``sweep``: the benchmark's training loop (a scan of scans, vmapped and sharded over the
  settings) and its optimisers;
- ``runs``: the page's settings, budgets and runs, and the numbers read off them;
- ``record``: the long-budget record (write, load, re-run of a prefix);
- ``convergence``: how much a doubling of the budget changes each method's error;
- ``claims``: the page's claims in the book's registry, their evidence per budget, and the
  page's rows of the discussion;
- ``figures``: the page's figures;
- ``command``: ``sip-reproduce`` and ``sip-bench``.

The notebook ``book/sip-training.ipynb`` and the commands call the same functions; only
the step budget differs. The names the page, the discussion page and the tests use are
re-exported here (``from improved_gradients import sip_experiments as sip``).
"""

PAGE = "sip-training"

from .sweep import (SIN_BATCH_SIZE, SIN_METHODS, SIN_NETWORK_SIZES,
                    SIN_VALIDATION_SIZE, run_sin_sweep, sin_batch_loss, sin_initial_state,
                    sin_optimizer, sin_step_timer, sin_sweep_program, sin_targets)
from .runs import (BOOK_LOG_EVERY, BOOK_STEPS, CURVE_PHI, CURVE_XIS, EMULATED_FACTOR,
                   FINAL_WINDOW, LANDSCAPE, LANDSCAPE_BOX, PAPER_ADAM_AHEAD_UP_TO,
                   PAPER_ADAM_ROTATION, PAPER_ADAM_STEPS, PAPER_COST_PER_STEP, PAPER_SECONDS,
                   PAPER_XI1, PAPER_XI32, PHI_SWEEP, PHI_SWEEP_XI, RECORD_FACTOR, WEAK_METHODS,
                   XI_SWEEP, XI_SWEEP_PHI, adam_ahead, adam_doubling_change, budget_view,
                   experiment_settings, final_value, final_x_distance, learning_curves,
                   measure_cost_per_update, measure_step_times, outcomes, page_budgets,
                   paper_budget, record_view, run_methods, run_page, run_proxy_ablation,
                   summary_table, sweep_values, xi_list)
from .record import (RECORD_CHECK, RECORD_CHECKPOINT, RECORD_CURVE_EVERY,
                     RECORD_PATH, load_long_budget_record, load_record_or_none,
                     long_budget_record, record_from_output, rerun_ratio, rerun_record_prefix)
from .convergence import (CONVERGED_FACTOR, adam_convergence, convergence_table,
                          decay_exponents)
from .figures import (BUDGET_STYLES, draw_sip_spaces, exact_solutions,
                      figure_budget_curves, figure_budget_sweeps, figure_curves,
                      figure_landscape, figure_proxy_ablation, figure_record, figure_sip_step,
                      figure_spaces, figure_sweeps, landscape_grid, plot_sip_curves,
                      plot_sip_landscape, plot_sip_step_diagram, plot_sip_sweep)
from .claims import (BUDGETS, discussion_summary, evidence, evidence_from,
                     stored_column)
from .command import add_commands, benchmark, estimate_run_time, reproduce

__all__ = [
    "BOOK_LOG_EVERY",
    "BOOK_STEPS",
    "BUDGETS",
    "BUDGET_STYLES",
    "CONVERGED_FACTOR",
    "CURVE_PHI",
    "CURVE_XIS",
    "EMULATED_FACTOR",
    "FINAL_WINDOW",
    "LANDSCAPE",
    "LANDSCAPE_BOX",
    "PAGE",
    "PAPER_ADAM_AHEAD_UP_TO",
    "PAPER_ADAM_ROTATION",
    "PAPER_ADAM_STEPS",
    "PAPER_COST_PER_STEP",
    "PAPER_SECONDS",
    "PAPER_XI1",
    "PAPER_XI32",
    "PHI_SWEEP",
    "PHI_SWEEP_XI",
    "RECORD_CHECK",
    "RECORD_CHECKPOINT",
    "RECORD_CURVE_EVERY",
    "RECORD_FACTOR",
    "RECORD_PATH",
    "SIN_BATCH_SIZE",
    "SIN_METHODS",
    "SIN_NETWORK_SIZES",
    "SIN_VALIDATION_SIZE",
    "WEAK_METHODS",
    "XI_SWEEP",
    "XI_SWEEP_PHI",
    "adam_ahead",
    "adam_convergence",
    "adam_doubling_change",
    "add_commands",
    "benchmark",
    "budget_view",
    "convergence_table",
    "decay_exponents",
    "discussion_summary",
    "draw_sip_spaces",
    "estimate_run_time",
    "evidence",
    "evidence_from",
    "exact_solutions",
    "experiment_settings",
    "figure_budget_curves",
    "figure_budget_sweeps",
    "figure_curves",
    "figure_landscape",
    "figure_proxy_ablation",
    "figure_record",
    "figure_sip_step",
    "figure_spaces",
    "figure_sweeps",
    "final_value",
    "final_x_distance",
    "landscape_grid",
    "learning_curves",
    "load_long_budget_record",
    "load_record_or_none",
    "long_budget_record",
    "measure_cost_per_update",
    "measure_step_times",
    "outcomes",
    "page_budgets",
    "paper_budget",
    "plot_sip_curves",
    "plot_sip_landscape",
    "plot_sip_step_diagram",
    "plot_sip_sweep",
    "record_from_output",
    "record_view",
    "reproduce",
    "rerun_ratio",
    "rerun_record_prefix",
    "run_methods",
    "run_page",
    "run_proxy_ablation",
    "run_sin_sweep",
    "sin_batch_loss",
    "sin_initial_state",
    "sin_optimizer",
    "sin_step_timer",
    "sin_sweep_program",
    "sin_targets",
    "stored_column",
    "summary_table",
    "sweep_values",
    "xi_list",
]
