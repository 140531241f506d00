"""Small helpers for the notebook pages."""

import inspect
import math

from IPython.display import Markdown


def show_source(*functions):
    """Display the source of package functions as a highlighted Python block.

    The pages use it to put the update rules they teach on the page, exactly as they run.
    """
    if not functions or not all(callable(f) for f in functions):
        raise ValueError("show_source needs one or more functions (functions), "
                         f"got {functions!r}")
    try:
        code = "\n\n".join(inspect.getsource(f).rstrip() for f in functions)
    except (TypeError, OSError) as error:
        raise ValueError(f"show_source needs Python functions with source code (functions): "
                         f"{error}") from None
    return Markdown(f"```python\n{code}\n```")


def glue(name, value, display=False):
    """myst-nb's ``glue`` for a number in the prose: a NumPy or JAX scalar is passed on as
    the Python number it holds (myst-nb formats ``{glue:text}`name:.3g``` from its repr,
    which for NumPy 2 scalars reads ``np.float32(…)``)."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # outside the book build (e.g. in Colab) there is nothing to glue into
        myst_glue = None
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise ValueError(f"name must be letters, digits and underscores, got {name!r}")
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"value of {name!r} must be finite, got {value!r}")
    if myst_glue is None:
        return None
    return myst_glue(name, value, display=display)
