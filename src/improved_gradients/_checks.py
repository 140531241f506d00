"""Input validation shared by the public helpers: clear ValueErrors instead of NaNs.

Every check names the argument and says what is allowed. The checks are trace-safe:
inside ``jax.jit``/``jax.vmap``/``jax.grad`` an argument is an abstract tracer whose
shape and dtype are known but whose values are not, so shapes, dtypes, names and Python
numbers are checked (at trace time, once per compilation: free inside a jitted loop)
and value checks (finiteness) only run on concrete arrays.

The second half holds the ``argparse`` ``type=`` factories of the command line
(``positive_int``, ``int_in_range``, ``float_in_range``, ``writable_directory``): they
turn a bad value into a usage error (exit status 2) that states the allowed range,
before any computation.
"""

import argparse
import math
import numbers
import pathlib

import numpy as np


def is_traced(value):
    """Whether ``value`` is an abstract JAX tracer (inside jit/vmap/grad): no values then."""
    import jax

    return isinstance(value, jax.core.Tracer)


def _describe(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _format_shape(shape):
    parts = ["..." if s is Ellipsis else ("any" if s is None else str(s)) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_shape(name, value, shape):
    """Raise ValueError unless ``value`` has ``shape``: ``None`` entries match any size, a
    leading ``...`` any number of leading axes (so ``(..., 2)`` means "last axis 2")."""
    actual = tuple(np.shape(value))
    if shape and shape[0] is Ellipsis:
        tail = tuple(shape[1:])
        ok = len(actual) >= len(tail) and all(
            s is None or s == a for s, a in zip(tail, actual[len(actual) - len(tail):]))
    else:
        ok = len(actual) == len(shape) and all(s is None or s == a for s, a in zip(shape, actual))
    if not ok:
        raise ValueError(f"{name} must have shape {_format_shape(shape)}, got {actual}")


def check_finite(name, value):
    """Raise ValueError if ``value`` contains NaN or infinity (skipped for a tracer)."""
    if is_traced(value):
        return
    if not np.all(np.isfinite(np.asarray(value))):
        raise ValueError(f"{name} must be finite (no NaN or infinity), got {_describe(value)}")


def check_array(name, value, shape=None, *, finite=True, min_size=None):
    """A real-valued array argument: checks the type (numbers, not strings, objects or
    complex values), the ``shape`` (see ``check_shape``), that the leading axis holds at
    least ``min_size`` entries, and (for concrete values) finiteness.

    Returns a float array: a NumPy array (integer and boolean input promoted to float64,
    documented in the policy of the package), or the tracer itself under jit/vmap/grad
    (an integer tracer is rejected: it cannot be differentiated)."""
    if is_traced(value):
        kind = np.dtype(value.dtype).kind
        if kind != "f":
            raise ValueError(f"{name} must be a floating-point array, got dtype {value.dtype}")
        array = value
    else:
        if isinstance(value, (str, bytes)) or value is None:
            raise ValueError(f"{name} must be a real-valued array, got {_describe(value)}")
        try:
            array = np.asarray(value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name} must be a real-valued array, got {_describe(value)} "
                             f"({error})") from None
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be a real-valued array, got {_describe(value)} "
                             f"(dtype {array.dtype})")
        if array.dtype.kind != "f":
            array = array.astype(np.float64)
    if shape is not None:
        check_shape(name, array, shape)
    if min_size is not None and (np.ndim(array) == 0 or np.shape(array)[0] < min_size):
        raise ValueError(f"{name} must hold a batch of at least {min_size} sample(s) (first axis), "
                         f"got shape {tuple(np.shape(array))}")
    if finite:
        check_finite(name, array)
    return array


def _finite_scalar(value, wanted):
    """``value`` as a float if it is one finite real number, else ValueError(``wanted``)."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or np.ndim(value) != 0:
        raise ValueError(wanted)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(wanted) from None
    if not math.isfinite(number):
        raise ValueError(wanted)
    return number


def check_number(name, value, low=None, high=None, *, low_open=False, high_open=False):
    """Raise ValueError unless ``value`` is a finite real number in the interval
    [low, high] (an open end with ``low_open``/``high_open``; ``None``: unbounded).
    Returns it as a float."""
    interval = (("(" if low_open else "[") + ("-inf" if low is None else f"{low:g}") + ", "
                + ("inf" if high is None else f"{high:g}") + (")" if high_open else "]"))
    wanted = f"{name} must be a finite number in {interval}, got {_describe(value)}"
    number = _finite_scalar(value, wanted)
    if ((low is not None and (number < low or (low_open and number == low)))
            or (high is not None and (number > high or (high_open and number == high)))):
        raise ValueError(wanted)
    return number


def check_positive(name, value):
    """Raise ValueError unless ``value`` is a finite number > 0."""
    wanted = f"{name} must be a positive finite number, got {_describe(value)}"
    number = _finite_scalar(value, wanted)
    if number <= 0:
        raise ValueError(wanted)
    return number


def check_int(name, value, low=None, high=None):
    """Raise ValueError unless ``value`` is an integer in [low, high]; returns an int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)) \
            or (low is not None and value < low) or (high is not None and value > high):
        span = (f"in [{low}, {high}]" if low is not None and high is not None
                else f">= {low}" if low is not None else f"<= {high}" if high is not None else "")
        raise ValueError(f"{name} must be an integer {span}, got {_describe(value)}".rstrip())
    return int(value)


def check_positive_int(name, value):
    """Raise ValueError unless ``value`` is an integer >= 1."""
    return check_int(name, value, low=1)


def check_seed(name, value):
    """A random seed: an integer in [0, 2³² − 1] (what ``jax.random.PRNGKey`` takes)."""
    return check_int(name, value, 0, 2**32 - 1)


def check_key(name, key):
    """A JAX random key: ``jax.random.PRNGKey(seed)`` (uint32, shape (2,)) or a typed key."""
    import jax

    dtype = getattr(key, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return key
    if dtype is None or np.dtype(dtype) != np.uint32 or np.shape(key) != (2,):
        raise ValueError(f"{name} must be a JAX random key such as jax.random.PRNGKey(0), "
                         f"got {_describe(key)}")
    return key


def check_choice(name, value, known):
    """Raise ValueError unless ``value`` is one of ``known`` (the message lists them)."""
    try:
        found = value in known
    except TypeError:  # an unhashable value and a dict or set of names
        found = False
    if not found or not isinstance(value, (str, numbers.Number)):
        raise ValueError(f"unknown {name} {value!r}; known: {', '.join(map(str, known))}")
    return value


def check_callable(name, value):
    """Raise ValueError unless ``value`` can be called."""
    if not callable(value):
        raise ValueError(f"{name} must be a function, got {_describe(value)}")
    return value


def check_floating_tree(name, tree):
    """A pytree of floating-point arrays (network parameters): checks the leaves' dtypes
    (statically) and, for concrete leaves, finiteness."""
    import jax

    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        raise ValueError(f"{name} must be a non-empty pytree of arrays, got {_describe(tree)}")
    for leaf in leaves:
        dtype = getattr(leaf, "dtype", None)
        if dtype is None or np.dtype(dtype).kind != "f":
            raise ValueError(f"{name} must hold floating-point arrays, got a leaf {_describe(leaf)}")
        check_finite(name, leaf)
    return tree


def check_text(name, value, *, empty=False):
    """Raise ValueError unless ``value`` is a string (non-empty unless ``empty``)."""
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ValueError(f"{name} must be a{'' if empty else ' non-empty'} string, "
                         f"got {_describe(value)}")
    return value


def check_sequence(name, value, *, min_size=1):
    """A list-like argument (list, tuple, range or 1-D array; not a string, dict or set)
    with at least ``min_size`` entries. Returns it as a list."""
    if (isinstance(value, (str, bytes, dict, set, frozenset)) or value is None
            or not hasattr(value, "__len__") or not hasattr(value, "__iter__")
            or (isinstance(value, np.ndarray) and value.ndim != 1)):
        raise ValueError(f"{name} must be a list or tuple, got {_describe(value)}")
    items = list(value)
    if len(items) < min_size:
        raise ValueError(f"{name} must hold at least {min_size} entr"
                         f"{'y' if min_size == 1 else 'ies'}, got {_describe(value)}")
    return items


def check_mapping(name, value, *, keys=(), entry_keys=(), min_size=1):
    """A dict argument, such as a page's results {name: run}: a dict with at least
    ``min_size`` entries that holds every key of ``keys``; with ``entry_keys`` every value
    must be a dict holding those keys. The message lists what is missing. Returns it."""
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a dict, got {_describe(value)}")
    if len(value) < min_size:
        raise ValueError(f"{name} must hold at least {min_size} entr"
                         f"{'y' if min_size == 1 else 'ies'}, got {_describe(value)}")
    missing = [key for key in keys if key not in value]
    if missing:
        raise ValueError(f"{name} lacks {', '.join(map(repr, missing))} (it must hold "
                         f"{', '.join(map(repr, keys))})")
    if entry_keys:
        for label, entry in value.items():
            _check_entry_keys(f"{name}[{label!r}]", entry, entry_keys)
    return value


def check_records(name, value, keys, *, min_size=1):
    """A list of dicts (table rows, timings), at least ``min_size`` of them, each holding
    ``keys``. Returns it as a list."""
    items = check_sequence(name, value, min_size=min_size)
    for k, item in enumerate(items):
        _check_entry_keys(f"{name}[{k}]", item, keys)
    return items


def _check_entry_keys(label, entry, keys):
    """One entry of a mapping or list of records: a dict holding ``keys``."""
    if not isinstance(entry, dict):
        raise ValueError(f"{label} must be a dict, got {_describe(entry)}")
    missing = [key for key in keys if key not in entry]
    if missing:
        raise ValueError(f"{label} lacks {', '.join(map(repr, missing))} (each entry must "
                         f"hold {', '.join(map(repr, keys))})")


def check_progress_bar(name, value):
    """None or a progress bar (an object with ``update(n)``, e.g. tqdm)."""
    if value is not None and not callable(getattr(value, "update", None)):
        raise ValueError(f"{name} must be None or a progress bar with update(n) (tqdm), "
                         f"got {value!r}")
    return value


def check_axes(name, value, count=None):
    """Matplotlib axes to draw on: one ``Axes`` (``count=None``) or a sequence (list, tuple
    or array, as ``plt.subplots`` returns) of exactly ``count`` of them. Returns them."""
    from matplotlib.axes import Axes

    if count is None:
        if not isinstance(value, Axes):
            raise ValueError(f"{name} must be a matplotlib Axes (e.g. from plt.subplots()), "
                             f"got {_describe(value)}")
        return value
    items = (list(np.ravel(value)) if isinstance(value, np.ndarray) else
             list(value) if isinstance(value, (list, tuple)) else None)
    if items is None or len(items) != count or not all(isinstance(a, Axes) for a in items):
        raise ValueError(f"{name} must be {count} matplotlib Axes (e.g. from "
                         f"plt.subplots(1, {count})), got {_describe(value)}")
    return value


def check_optional(check, name, value, *args, **kwargs):
    """``None`` or a value passing ``check(name, value, ...)``."""
    return None if value is None else check(name, value, *args, **kwargs)


# ---------------------------------------------------------------------------------------
# argparse type= factories: a bad value is a usage error (exit status 2) before any run
# ---------------------------------------------------------------------------------------


def int_in_range(low, high=None):
    """argparse type: an integer in [low, high] (``high=None``: no upper bound)."""
    span = f"in [{low}, {high}]" if high is not None else f">= {low}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer {span}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {span}, got {text!r}")
        return value

    parse.__name__ = f"integer {span}"
    return parse


def positive_int(high=None):
    """argparse type: an integer >= 1 (and <= ``high`` if given)."""
    return int_in_range(1, high)


def positive_float(text):
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def float_in_range(low, high, *, low_open=False, high_open=False):
    """argparse type: a finite number in [low, high] (open ends if asked)."""
    span = ("(" if low_open else "[") + f"{low:g}, {high:g}" + (")" if high_open else "]")

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number in {span}, got {text!r}") from None
        if (not math.isfinite(value) or value < low or value > high
                or (low_open and value == low) or (high_open and value == high)):
            raise argparse.ArgumentTypeError(f"must be a finite number in {span}, got {text!r}")
        return value

    parse.__name__ = f"number in {span}"
    return parse


def _can_write_in(directory):
    """Whether a file can be created in ``directory`` (tried, not guessed from permissions:
    root ignores them, and read-only or virtual file systems refuse anyway)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def existing_directory(text):
    """argparse type: a directory that exists (an input folder). Returns a ``pathlib.Path``."""
    path = pathlib.Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"input directory {text!r} does not exist or is not a "
                                         f"directory")
    return path


def writable_directory(text):
    """argparse type: a directory that exists and is writable, or can be created (its
    nearest existing parent is a writable directory). Returns a ``pathlib.Path``; the
    folder itself is created by the command."""
    path = pathlib.Path(text)
    if path.exists():
        if not path.is_dir():
            raise argparse.ArgumentTypeError(f"output directory {text!r} exists and is not a directory")
        if not _can_write_in(path):
            raise argparse.ArgumentTypeError(f"output directory {text!r} is not writable")
        return path
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not _can_write_in(parent):
        raise argparse.ArgumentTypeError(
            f"output directory {text!r} cannot be created: {str(parent)!r} is not a writable "
            f"directory")
    return path
