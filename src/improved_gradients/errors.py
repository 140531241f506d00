"""The package's own exception: how a training loop reports that it diverged.

Every training loop of the package (``training.iterate``, ``training.optax_trajectory``,
``training.run_chunks`` and the loops built on it, ``training.train_control_network``,
``training.train_heat``, the SIP sweeps and timings, the per-sample heat solvers) stops
with ``TrainingDiverged`` when a loss or a parameter becomes non-finite, and with nothing
else. It is a ``ValueError``, so code that treats every bad outcome alike still catches
it; code that keeps a diverged run as a result (the hig-oscillators page) catches
``TrainingDiverged`` alone. The command line turns it into an error message and exit
status 1 (``python -m improved_gradients``).
"""


class TrainingDiverged(ValueError):
    """A training loop met a non-finite loss or parameter. The message names the method
    (or the run's label) and the step; ``method`` and ``step`` hold them where the loop
    knows them (``None`` otherwise)."""

    def __init__(self, message, *, method=None, step=None):
        super().__init__(message)
        self.method = method
        self.step = step

    def __reduce__(self):  # keep method and step through pickling (multiprocessing)
        return (_rebuild, (type(self), str(self), self.method, self.step))


def _rebuild(cls, message, method, step):
    return cls(message, method=method, step=step)
