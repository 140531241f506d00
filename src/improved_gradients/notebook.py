"""Small helpers for the notebook pages."""

import ast
import inspect
import math
import re
import textwrap

from IPython.display import Markdown


def _is_validation(node):
    """Whether a statement only checks input: a call of a ``check_*`` / ``_check_*``
    function (alone or assigned), or an ``if`` whose body raises ``ValueError``."""
    def checker(call):
        if not isinstance(call, ast.Call):
            return False
        name = getattr(call.func, "id", getattr(call.func, "attr", ""))
        return name.startswith(("check_", "_check_"))

    if isinstance(node, ast.Expr) or isinstance(node, ast.Assign):
        return checker(node.value)
    if isinstance(node, ast.If) and not node.orelse and len(node.body) == 1:
        raised = node.body[0]
        return (isinstance(raised, ast.Raise) and isinstance(raised.exc, ast.Call)
                and getattr(raised.exc.func, "id", "") == "ValueError")
    return False


def rule_source(function):
    """The source of ``function`` without its input checks (the statements
    ``_is_validation`` recognises, in the function body), with one comment where they
    were: what a page shows as the rule it teaches."""
    if not callable(function):
        raise ValueError(f"function must be a Python function, got {function!r}")
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (TypeError, OSError) as error:
        raise ValueError(f"function must be a Python function with source code: {error}") from None
    tree = ast.parse(source)
    body = tree.body[0].body
    drop = set()
    for node in body:
        if _is_validation(node):
            drop.update(range(node.lineno - 1, node.end_lineno))
    if not drop:
        return source.rstrip()
    kept, marked = [], False
    for number, line in enumerate(source.splitlines()):
        if number in drop:
            if not marked:
                indent = line[:len(line) - len(line.lstrip())]
                kept.append(f"{indent}# (input checks omitted; see the package)")
                marked = True
            continue
        kept.append(line)
    return "\n".join(kept).rstrip()


def show_source(*functions, checks=False):
    """Display the source of package functions as a highlighted Python block.

    The pages use it to put the update rules they teach on the page, exactly as they run;
    the input checks of entry points are left out (``checks=True`` keeps them).
    """
    if not functions or not all(callable(f) for f in functions):
        raise ValueError("show_source needs one or more functions (functions), "
                         f"got {functions!r}")
    if not isinstance(checks, bool):
        raise ValueError(f"checks must be True or False, got {checks!r}")
    try:
        code = "\n\n".join(inspect.getsource(f).rstrip() if checks else rule_source(f)
                            for f in functions)
    except (TypeError, OSError, ValueError) as error:
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


def glue_key(name):
    """A quantity's name as a glue name: "." becomes "p" (so "kappa -0.5" and "kappa -5"
    stay apart), every run of other characters that are not letters, digits or "_"
    becomes one "_", and "_" at the ends goes: "Adam / SIP x_l1" -> "Adam_SIP_x_l1"."""
    if not isinstance(name, str) or not re.search(r"[^\W_]", name):
        raise ValueError(f"name must be a string with a letter or digit, got {name!r}")
    return re.sub(r"\W+", "_", name.replace(".", "p")).strip("_")


def glue_values(values):
    """``glue`` every entry of ``values`` ({quantity name: number}) under its ``glue_key``;
    returns {glue name: value}."""
    if not isinstance(values, dict) or not values:
        raise ValueError(f"values must be a non-empty dict {{name: number}}, got {values!r}")
    keys = {}
    for name, value in values.items():
        key = glue_key(name)
        if key in keys:
            raise ValueError(f"{name!r} and {keys[key]!r} give the same glue name {key!r}")
        keys[key] = name
        glue(key, value, display=False)
    return {key: values[name] for key, name in keys.items()}
