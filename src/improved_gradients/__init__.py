"""Helpers for the chapter "Improved gradients for physics-based deep learning".

One module per concept:

- ``physics``: the forward problems (toy y(x), the SIP sin benchmark, the HIG toy).
- ``updates``: the update rules the chapter teaches (GD, Newton, inverse simulator,
  the SIP inverse step, the SVD-based HIG / Gauss-Newton family).
- ``models``: small MLPs in plain JAX.
- ``training``: jitted training loops fused with ``lax.scan``.
- ``plotting``: one figure style and one colour per method for every page.
"""

__version__ = "0.1.0"
