"""Helpers for the chapter "Improved gradients for physics-based deep learning".

Reusable parts, one module (or sub-package) each:

- ``physics``: the forward problems (the toy y(x), the crux of scale-invariance, the SIP
  sin benchmark, the HIG toy, the coupled oscillators; the heat equation in
  ``physics.heat``, its names re-exported by ``physics``).
- ``updates``: the update rules the chapter teaches, written by hand (GD, Newton, the
  inverse simulator, the SIP inverse steps, the SVD-based κ/τ family of HIG and
  Gauss-Newton, the steps of a control network, the heat equation's inverse steps and
  x-space directions), each with its formula.
- ``models``: small MLPs in plain JAX and the U-Net (flax).
- ``training``: the loops. ``iterate`` and ``optax_trajectory`` (toy-comparison,
  scale-invariance); one compiled loop for a method's step function (``LoopState``,
  ``sampled_chunk``, ``run_chunks``, ``train_chunks``), which the HIG toy
  (``hig_experiments.train_hig_toy``) and the control network
  (``train_control_network``, hig-oscillators) use; ``train_heat`` (sip-heat, one jitted
  step per call). Every loop returns {"step", "time", "params", metrics}.
- ``errors``: ``TrainingDiverged``, the one way a training loop reports divergence.
- ``claims``: the registry of the book's claims, one record each, the one place
  verdicts come from.
- ``common``: best-of timing, provenance of stored results, saving figures, the flags and
  the one argument-check hook of a ``*-reproduce`` command.
- ``plotting``: one figure style, one colour per method, generic drawing primitives.
- ``machine`` and ``reference``: the pinned machine configuration and the stored,
  tolerance-checked reference values of the training outcomes.
- ``notebook``: ``show_source`` and ``glue`` for the pages.
- ``_checks``: the argument checks every public function uses.

One experiments sub-package per page with several concerns, a module for the small ones,
in reading order, holding what belongs to that page (settings, runs, tables, figures, its
claims, its commands and its rows of the discussion page): ``theory_experiments``
(scale-invariance), ``toy_experiments`` (toy-comparison), ``sip_experiments``
(sip-training: ``sweep``, ``runs``, ``record``, ``convergence``, ``claims``,
``figures``, ``command``), ``heat_experiments`` (sip-heat: ``figures``, ``record``,
``claims``, ``command``), ``hig_experiments`` (hig-toy: ``claims``, ``timings``,
``figures``), ``hig_oscillators_experiments`` (hig-oscillators: ``figures``, ``record``,
``claims``, ``command``) and ``discussion_experiments`` (discussion). A sub-package
re-exports the names its page uses. ``__main__`` is the command line; its
``*-reproduce`` commands write ``provenance.json`` beside their results.

Boundary policy (bad input)
---------------------------
Entry points are what the pages, Colab readers and the command line call: every public
function without ``_kernel`` in its name, e.g. ``physics.sin_loss``,
``updates.newton_step``, ``updates.svd_power_update``, ``hig_experiments.train_hig_toy``,
``sip_experiments.run_sin_sweep`` and every other function of the experiments modules.
They validate fully and raise ``ValueError`` naming the argument and what is allowed:
the type (real numbers, not strings or complex values;
functions where a function is wanted), the shape (``(2,)`` or ``(..., 2)``: an extra
coordinate is an error, never silently ignored), ranges (step sizes, ξ, λ, τ positive;
κ in [−1, 1]; seeds in [0, 2³² − 1]; counts >= 1), finiteness (no NaN or infinity in
any array or number) and names (the message lists the known ones: methods ``SIP, Adam,
SGD, Adadelta, Adagrad, RMSprop`` (sin benchmark), ``svd, adam`` (HIG toy loop), ``Adam,
GN, HIG`` (HIG page), modes ``truncate, clamp``, proxy norms ``l1, l2``). Integer and
boolean arrays are promoted to float (the result is the same as for the same floats).
Empty batches are errors (their mean would be NaN).

Degenerate cases of the update rules: a singular Hessian (``newton_step``,
``inverse_simulator_step``) raises ValueError naming it, with its eigenvalues; a zero
Jacobian or zero g in ``svd_power_update`` gives the documented zero step (the
pseudo-inverse of zero); a training loop (``training.iterate``, ``optax_trajectory``,
``run_chunks`` and the loops built on it, ``train_heat``, ``sip_experiments.run_sin_sweep``
and its timings) that meets a non-finite loss or
parameter raises ``errors.TrainingDiverged`` (a ValueError) naming the step and the
method, and the command line reports it as an error with exit status 1.

Kernels (``*_kernel``: ``sin_physics_kernel``, ``sip_inverse_step_kernel``,
``svd_power_update_kernel``, ...) are the numerical cores the jitted loops call. They
check nothing about values (NaN in, NaN out) and their docstrings state the formula, the
shapes and what they assume. Kernel-level helpers used under jit (``rotate``,
``symmetric_eigh``, ``saddle_free_newton_direction``, ``sip_proxy_loss``, ``mlp_apply``,
``mlp_hidden``) check what is known when tracing: types, shapes and names; so does
``physics.heat_log_kernel``, whose arguments (grid size, νt) are Python numbers.

All checks (``_checks.py``) are trace-safe: under jit/vmap/grad they check shapes, dtypes
and names once per compilation and skip value checks, so they cost nothing inside a
jitted training loop (the compiled programs are unchanged by them).

The command line checks its arguments when parsing (argparse ``type=`` factories in
``_checks``: ``positive_int``, ``int_in_range``, ``float_in_range``,
``writable_directory``): a bad value is a usage error, exit status 2, stating the allowed
range, before any computation. ``tests/test_bad_input.py`` holds one table row per public
function of every module (found with ``pkgutil``) with the kinds of bad values it must
reject; kernels have a case of their documented behaviour instead.
"""

__version__ = "0.1.0"
