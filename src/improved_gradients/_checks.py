"""Input validation shared by the public helpers: clear ValueErrors instead of NaNs."""

import math

import numpy as np


def check_shape(name, value, shape):
    """Raise ValueError unless ``value`` has ``shape`` (``None`` entries match any size)."""
    actual = np.shape(value)
    if len(actual) != len(shape) or any(s is not None and s != a for s, a in zip(shape, actual)):
        wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {actual}")


def check_finite(name, value):
    """Raise ValueError if ``value`` contains NaN or infinity."""
    if not np.all(np.isfinite(np.asarray(value))):
        raise ValueError(f"{name} must be finite, got {value}")


def check_positive(name, value):
    """Raise ValueError unless ``value`` is a finite number > 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def check_positive_int(name, value):
    """Raise ValueError unless ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_choice(name, value, known):
    """Raise ValueError unless ``value`` is one of ``known`` (the message lists them)."""
    if value not in known:
        raise ValueError(f"unknown {name} {value!r}; known: {', '.join(map(str, known))}")
    return value
