"""The update rules the chapter teaches, written out by hand (they are its subject).

toy-comparison and scale-invariance, for a point x of shape (n,):

- gradient descent:   Δx = −η (∂L/∂x)ᵀ
- Newton:             Δx = −η (∂²L/∂x²)⁻¹ (∂L/∂x)ᵀ
- inverse simulator:  y' = y(x) − η (∂²L/∂y²)⁻¹ (∂L/∂y)ᵀ,  x' = y⁻¹(y')

Each step returns ``(x_new, u)`` where ``u`` is the update direction stored for the
"diagonal length" measure: the gradient for GD, H⁻¹g for Newton, x − x' for the inverse
simulator.

Further sections: the SIP inverse steps (sip-training), the κ/τ family of HIG and
Gauss-Newton on a stacked Jacobian (hig-toy, hig-oscillators), the steps of a control
network (hig-oscillators: the per-sample SIP control step and one step of each method)
and the inverse steps and x-space directions of the heat equation (sip-heat).
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from ._checks import (check_array, check_callable, check_choice, check_floating_tree,
                      check_int, check_positive, is_traced)


_NO_LOSS = object()


def _check_point(x, loss_x=_NO_LOSS, loss_name="loss_x"):
    """x: a finite vector (n,) of real numbers; ``loss_x`` (if given): a function of x
    returning a scalar, checked by tracing it once (no evaluation)."""
    x = check_array("x", x, (None,), min_size=1)
    if loss_x is not _NO_LOSS:
        check_callable(loss_name, loss_x)
        try:
            out = jax.eval_shape(loss_x, jnp.asarray(x, dtype=jnp.float32))
        except Exception as error:  # a loss that cannot take x: name it, keep the cause
            raise ValueError(f"{loss_name} cannot be evaluated at x of shape {np.shape(x)}: "
                             f"{type(error).__name__}: {error}") from error
        if getattr(out, "shape", None) != ():
            raise ValueError(f"{loss_name} must return a scalar, got shape "
                             f"{getattr(out, 'shape', type(out).__name__)}")
    return jnp.asarray(x)


def _check_invertible(name, matrix, where):
    """Raise ValueError naming the cause if ``matrix`` (a concrete Hessian) is not finite or
    singular (no inverse in float64: a zero eigenvalue), where the step would be NaN. An
    ill-conditioned but invertible matrix passes (the toy's Newton iterates approach
    x1 = 0, where H = diag(2, 12 x1²) becomes singular, and stay exact on the way)."""
    if is_traced(matrix):
        return
    values = np.asarray(matrix, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"the {name} at {where} is not finite: {values.tolist()}")
    try:
        inverse = np.linalg.inv(values)
    except np.linalg.LinAlgError:
        inverse = None
    if inverse is None or not np.all(np.isfinite(inverse)):
        raise ValueError(
            f"the {name} at {where} is singular (eigenvalues "
            f"{np.linalg.eigvalsh(0.5 * (values + values.T)).tolist()}), so the step H⁻¹∇L "
            f"does not exist. Start elsewhere (for the toy loss: away from x1 = 0) or use gd_step")


def gd_step(loss_x, x, eta):
    """One gradient-descent step x' = x − η ∇L(x); returns (x', ∇L(x))."""
    x = _check_point(x, loss_x)
    eta = check_positive("eta", eta)
    g = jax.grad(loss_x)(x)
    return x - eta * g, g


def newton_step(loss_x, x, eta):
    """One Newton step x' = x − η H⁻¹∇L(x) with the full Hessian H = ∂²L/∂x²; returns (x', H⁻¹∇L)."""
    x = _check_point(x, loss_x)
    eta = check_positive("eta", eta)
    g = jax.grad(loss_x)(x)
    hessian = jax.hessian(loss_x)(x)
    _check_invertible("Hessian ∂²L/∂x²", hessian, f"x = {np.asarray(x).tolist()}")
    u = jnp.linalg.inv(hessian) @ g
    return x - eta * u, u


def inverse_simulator_step(physics, loss_y, inverse, x, eta):
    """One inverse-simulator step: a Newton step for L in y space, mapped back by y⁻¹.

    y' = y − η (∂²L/∂y²)⁻¹ ∂L/∂y with y = physics(x), then x' = inverse(y', x). The
    ``inverse(y, x_start)`` callable is pluggable: an analytic inverse ignores
    ``x_start``, a numerical solver starts from it. Returns (x', x − x').
    """
    x = _check_point(x, lambda x: loss_y(physics(x)), "loss_y(physics(x))")
    eta = check_positive("eta", eta)
    check_callable("inverse", inverse)
    y = physics(x)
    hessian = jax.hessian(loss_y)(y)
    _check_invertible("Hessian ∂²L/∂y²", hessian, f"y = {np.asarray(y).tolist()}")
    y_new = y - eta * jnp.linalg.solve(hessian, jax.grad(loss_y)(y))
    x_new = jnp.asarray(inverse(y_new, x), dtype=jnp.result_type(x))
    check_array("inverse(y', x) (the new point)", x_new, np.shape(x))
    return x_new, x - x_new


def diagonal_length(u):
    """Projection of the unit update onto the diagonal, (u/‖u‖)·(1, …, 1); at most √n."""
    u = np.asarray(check_array("u", u, (None,)), dtype=np.float64)
    norm = np.linalg.norm(u)
    if not np.isfinite(norm) or norm == 0:
        raise ValueError(f"diagonal_length needs u to be a finite, non-zero update, got {u}")
    return float(np.sum(u / norm))


# ---------------------------------------------------------------------------------------
# sip-training: SIP (scale-invariant physics) training, Holl et al. 2022
#
# Per batch entry a local inverse of the physics gives an x-space target x̃ = x + Δx;
# the network is then trained on the proxy loss ‖x − stop_grad(x̃)‖ with Adam.
# ---------------------------------------------------------------------------------------


def symmetric_eigh(hessian):
    """Eigen-decomposition H = V diag(S) Vᵀ of a symmetric (n, n) matrix, S ascending.

    For n = 2 (the sin benchmark) in closed form, cheap and vectorised where LAPACK would
    loop over the batch: with m = (a + c)/2, d = (a − c)/2, r = √(d² + b²), the
    eigenvalues are m ∓ r, and (d + r, b) (if d ≥ 0, else (b, r − d)) is an eigenvector
    of m + r. The eigenvalue of smaller magnitude is computed as det(H)/S_large, not as
    m ∓ r: for ξ = 64 the two differ by 10⁷ and the subtraction would lose it in float32.
    A kernel-level helper (used under jit/vmap): hessian of shape (..., n, n), checked
    statically; for concrete input also floating-point and finite (NaN in, NaN out).
    """
    hessian = check_array("hessian", hessian, (..., None, None))
    if hessian.shape[-1] != hessian.shape[-2]:
        raise ValueError(f"hessian must be square (..., n, n), got shape {hessian.shape}")
    hessian = jnp.asarray(hessian)
    if hessian.shape[-1] != 2:
        return jnp.linalg.eigh(hessian)
    a, b, c = hessian[..., 0, 0], 0.5 * (hessian[..., 0, 1] + hessian[..., 1, 0]), hessian[..., 1, 1]
    mean, half_difference = 0.5 * (a + c), 0.5 * (a - c)
    radius = jnp.sqrt(half_difference**2 + b**2)
    positive = mean >= 0
    large = jnp.where(positive, mean + radius, mean - radius)
    small = _divide_or_zero(a * c - b**2, large)
    eigenvalues = jnp.stack(
        [jnp.where(positive, small, large), jnp.where(positive, large, small)], axis=-1
    )
    right = half_difference >= 0
    v1 = jnp.where(right, half_difference + radius, b)
    v2 = jnp.where(right, b, radius - half_difference)
    norm = jnp.sqrt(v1**2 + v2**2)
    isotropic = norm == 0  # H = m I: every vector is an eigenvector
    v1 = jnp.where(isotropic, 1.0, v1 / jnp.where(isotropic, 1.0, norm))
    v2 = jnp.where(isotropic, 0.0, v2 / jnp.where(isotropic, 1.0, norm))
    eigenvectors = jnp.stack([jnp.stack([-v2, v1], -1), jnp.stack([v1, v2], -1)], axis=-1)
    return eigenvalues, eigenvectors


def _divide_or_zero(numerator, denominator):
    safe = jnp.where(denominator == 0, 1.0, denominator)
    return jnp.where(denominator == 0, 0.0, numerator / safe)


def saddle_free_newton_direction(grad, hessian, max_loss_change=0.2):
    """The inverse step of the SIP code for one sample; grad: (n,), hessian: (n, n) -> Δx: (n,).

    In the eigenbasis of H = V diag(S) Vᵀ, with g_e = Vᵀg and the geometric mean
    S̄ = |Π S_i|^(1/n):
        Δ_e,i = −sign(g_e,i) · |g_e,i / S_i|                          if S_i > S̄,
        Δ_e,i = −sign(g_e,i) · min(|g_e,i / S_i|, max_loss_change / |g_e,i|)   otherwise,
    and Δx = V Δ_e. The sign makes it a descent step even where H is indefinite
    (saddle-free Newton); the cap limits the predicted first-order loss change
    |g_e,i Δ_e,i| along weakly curved (or negatively curved) directions. As in the code,
    the comparison uses the signed S_i, and a zero S_i or g_e,i gives a zero component.
    """
    eigenvalues, eigenvectors = symmetric_eigh(hessian)
    grad_eig = eigenvectors.T @ grad
    newton_length = jnp.abs(_divide_or_zero(grad_eig, eigenvalues))
    geometric_mean = jnp.abs(jnp.prod(eigenvalues)) ** (1.0 / eigenvalues.shape[-1])
    capped_length = jnp.minimum(newton_length, jnp.abs(_divide_or_zero(max_loss_change, grad_eig)))
    length = jnp.where(eigenvalues > geometric_mean, newton_length, capped_length)
    return eigenvectors @ (-jnp.sign(grad_eig) * length)


def sip_inverse_step_kernel(loss_x, x, y_target, max_loss_change=0.2):
    """Per sample: g = ∇ₓL and H = ∇²ₓL (the forward-mode Jacobian of the gradient, which
    returns g along with it), then the saddle-free step; vmapped over the batch."""

    def one(x_i, y_i):
        def grad_twice(x):
            grad = jax.grad(loss_x)(x, y_i)
            return grad, grad

        hessian, grad = jax.jacfwd(grad_twice, has_aux=True)(x_i)
        return saddle_free_newton_direction(grad, hessian, max_loss_change)

    return jax.vmap(one)(x, y_target)


def sip_inverse_step(loss_x, x, y_target, max_loss_change=0.2):
    """Δx of the SIP physics step for a batch: x: (B, n), y_target: (B, m) -> Δx: (B, n).

    ``loss_x(x_i, y_i)`` is the per-sample loss L(x; y*) (a scalar). For each sample,
    g = ∇ₓL and the full Hessian H = ∇²ₓL feed ``saddle_free_newton_direction``
    (η = 1: a full Newton step where the curvature is strong).
    """
    check_callable("loss_x", loss_x)
    x = check_array("x", x, (None, None), min_size=1)
    y_target = check_array("y_target", y_target, (np.shape(x)[0], None))
    try:
        out = jax.eval_shape(loss_x, jnp.asarray(x[0], jnp.float32), jnp.asarray(y_target[0], jnp.float32))
    except Exception as error:
        raise ValueError(f"loss_x(x_i, y_i) cannot be evaluated on one sample: "
                         f"{type(error).__name__}: {error}") from error
    if getattr(out, "shape", None) != ():
        raise ValueError(f"loss_x(x_i, y_i) must return a scalar per sample, got {out}")
    max_loss_change = check_positive("max_loss_change", max_loss_change)
    step = jax.jit(lambda x, y: sip_inverse_step_kernel(loss_x, x, y, max_loss_change))
    return step(jnp.asarray(x), jnp.asarray(y_target))


SIP_PROXY_NORMS = ("l1", "l2")


def sip_proxy_loss(x, x_target, norm="l1"):
    """Proxy loss in x space, batch mean over x: (B, n) with x̃ = stop_grad(x_target):

    "l1" (the paper's code): mean_b ‖x_b − x̃_b‖₁, whose gradient is sign(x − x̃)/B;
    "l2" (the paper's text): mean_b ½‖x_b − x̃_b‖², whose gradient is (x − x̃)/B.
    """
    check_choice("norm", norm, SIP_PROXY_NORMS)
    _check_batch_pair(x, x_target)
    difference = x - jax.lax.stop_gradient(x_target)
    if norm == "l1":
        return jnp.mean(jnp.sum(jnp.abs(difference), axis=-1))
    return jnp.mean(0.5 * jnp.sum(difference**2, axis=-1))


# ---------------------------------------------------------------------------------------
# hig-toy and hig-oscillators: the SVD-based family Δθ = −η V Λ^κ Uᵀ g (HIG κ = −½,
# Gauss-Newton κ = −1, gradient κ = 1) on the stacked Jacobian of a mini-batch
# ---------------------------------------------------------------------------------------

SVD_MODES = ("truncate", "clamp")


def _check_batch_pair(x, x_target):
    """x and x_target: (B, n) with B >= 1 (an empty batch would give a NaN mean)."""
    x = check_array("x", x, (None, None), min_size=1)
    check_array("x_target (the shape of x)", x_target, np.shape(x))


def batch_jacobian_kernel(fn, params, xs):
    """(J, y): the stacked Jacobian (B·dim_y, n_params) and the outputs (B, dim_y), from
    one pass of reverse mode (the outputs come with the Jacobian at no extra cost)."""
    flat, unravel = ravel_pytree(params)

    def sample_output(flat_params, x):
        y = fn(unravel(flat_params), x)
        return y, y

    jac, y = jax.vmap(jax.jacrev(sample_output, has_aux=True), in_axes=(None, 0))(flat, xs)
    return jac.reshape(-1, flat.size), y


def batch_jacobian(fn, params, xs):
    """Stacked per-sample Jacobian of a mini-batch, J = [∂y_i/∂θ]_{i=1..B}.

    ``fn(params, x) -> y`` maps one sample x to its output y of shape (dim_y,); θ is the
    flat vector of the ``params`` pytree (``ravel_pytree`` order). xs: shape (B, ...).
    Returns J of shape (B·dim_y, n_params), sample-major rows: row i·dim_y + k is ∂y_ik/∂θ.
    """
    check_callable("fn", fn)
    check_floating_tree("params", params)
    xs = check_array("xs", xs, min_size=1)
    try:
        y = jax.eval_shape(fn, params, jnp.asarray(xs, jnp.float32)[0])
    except Exception as error:
        raise ValueError(f"fn(params, x) cannot be evaluated on one sample of xs: "
                         f"{type(error).__name__}: {error}") from error
    if len(y.shape) != 1:
        raise ValueError(f"fn must return a vector of shape (dim_y,) per sample, got {y.shape}")
    return batch_jacobian_kernel(fn, params, jnp.asarray(xs, jnp.float32))[0]


def svd_power_update_kernel(jacobian, g, kappa, tau, eta, mode):
    """−η V Λ^κ Uᵀ g from the eigendecomposition of the float64 Gram matrix of J's shorter
    side (no SVD routine); jacobian: (m, n), g: (m,) -> (n,) in J's dtype. Assumes a
    floating-point J (an integer J would round the step to integers) and finite inputs;
    a zero J (σ_max = 0) gives a zero step. The checked entry point is ``svd_power_update``."""
    m, n = jacobian.shape
    with jax.enable_x64(True):
        jac, g64 = jacobian.astype(jnp.float64), g.astype(jnp.float64)
        tall = m >= n
        # Λ² and the singular vectors of the short side: JᵀJ = V Λ² Vᵀ or J Jᵀ = U Λ² Uᵀ.
        eigenvalues, vectors = jnp.linalg.eigh(jac.T @ jac if tall else jac @ jac.T)
        sigma = jnp.sqrt(jnp.maximum(eigenvalues, 0.0))
        sigma_max = sigma[-1]
        resolved = sigma > gram_resolution(min(m, n)) * sigma_max
        safe = jnp.where(resolved, sigma, 1.0)
        if mode == "truncate":
            weight = jnp.where(sigma > tau * sigma_max, safe**kappa, 0.0)
        else:
            weight = jnp.maximum(safe, tau * sigma_max) ** kappa
        # V Λ^κ Uᵀ g = V (Λ^(κ−1) Vᵀ Jᵀ g)  (tall)  =  Jᵀ U (Λ^(κ−1) Uᵀ g)  (wide)
        coefficient = jnp.where(resolved, weight / safe, 0.0)
        if tall:
            step = vectors @ (coefficient * (vectors.T @ (jac.T @ g64)))
        else:
            step = jac.T @ (vectors @ (coefficient * (vectors.T @ g64)))
        return (-eta * step).astype(jacobian.dtype)


def gram_resolution(k):
    """Smallest σ/σ_max that the float64 eigendecomposition of a k × k Gram matrix resolves:
    its eigenvalues carry an absolute error of about k·ε·σ_max², so σ below
    4·√(k·ε)·σ_max (≈ 3.3e-7 for k = 30) is treated as zero."""
    k = check_int("k", k, low=1)
    return 4.0 * float(np.sqrt(k * np.finfo(np.float64).eps))


def svd_power_update(jacobian, g, kappa, tau, eta=1.0, mode="truncate"):
    """Δθ = −η J^κ g with J^κ := V Λ^κ Uᵀ from the thin SVD J = U Λ Vᵀ.

    κ = −½ is the half-inverse gradient (HIG), κ = −1 the Gauss-Newton / pseudo-inverse
    step J⁺g, κ = 1 the plain gradient step Jᵀg. Relative cut-off τ: in ``"truncate"``
    mode singular values σ ≤ τ·σ_max get weight 0 (their directions are dropped); in
    ``"clamp"`` mode they are raised to τ·σ_max (for κ < 0 those directions then get the
    largest weight). jacobian: shape (m, n); g = ∂L/∂y stacked like J's rows, shape (m,).
    Returns Δθ, shape (n,), in J's dtype.

    Λ and the singular vectors of the shorter side come from the eigendecomposition of the
    k × k Gram matrix (JᵀJ or JJᵀ, k = min(m, n)) in float64, which is faster on a CPU
    than LAPACK's SVD and, from a float32 J, more accurate than a float32 SVD; directions
    with σ below ``gram_resolution(k)``·σ_max (numerically zero) are always dropped.

    Degenerate input: an integer J or g is promoted to float32 (the result is float32); a
    zero J or g has no direction to follow and gives Δθ = 0 (the pseudo-inverse of the
    zero matrix is zero); an empty J (m = 0 or n = 0) raises ValueError.
    """
    jacobian = check_array("jacobian", jacobian)
    if jacobian.ndim != 2 or 0 in jacobian.shape:
        raise ValueError(f"jacobian must be a non-empty matrix (B·dim_y, n_params), got shape "
                         f"{jacobian.shape}")
    g = check_array("g (stacked like the Jacobian's rows)", g, (jacobian.shape[0],))
    jacobian = jnp.asarray(jacobian)
    g = jnp.asarray(g, jacobian.dtype)
    kappa, tau, eta = check_svd_setting(kappa, tau, eta, mode)
    return svd_power_update_kernel(jacobian, g, kappa, tau, eta, mode)


def check_svd_setting(kappa, tau, eta, mode):
    """κ ∈ [−1, 1], τ ∈ (0, 1), η > 0 and a known mode; returns the floats."""
    for name, value in (("kappa", kappa), ("tau", tau)):
        if isinstance(value, (bool, str, bytes)) or np.ndim(value) != 0:
            raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        kappa, tau = float(kappa), float(tau)
    except (TypeError, ValueError):
        raise ValueError(f"kappa and tau must be numbers, got {kappa!r} and {tau!r}") from None
    if not -1.0 <= kappa <= 1.0:
        raise ValueError(f"kappa must lie in [-1, 1] (1: gradient, -1/2: HIG, -1: Gauss-Newton), got {kappa}")
    if not 0.0 < tau < 1.0:
        raise ValueError(f"tau (the relative singular-value cut-off) must lie in (0, 1), got {tau}")
    eta = check_positive("eta", eta)
    check_choice("mode", mode, SVD_MODES)
    return kappa, tau, eta


# ---------------------------------------------------------------------------------------
# hig-oscillators: the steps of a network that outputs the controls u = f(x; θ) of a
# simulator y = P(x, u), per-sample loss ‖y − y*‖²
# ---------------------------------------------------------------------------------------


def sip_control_step_kernel(physics, x, u, y_target, tau, mode="truncate", eta=1.0):
    """Per-sample SIP physics step in control space, vmapped over the batch:
    Δu_b = −η (∂y/∂u)⁺ (y_b − y*_b) with the pseudo-inverse truncated at τ (the κ = −1
    member of ``svd_power_update_kernel`` applied to the residual itself, not to a
    gradient of a batch-mean loss, so η = 1 is a full Gauss-Newton step of ‖y − y*‖² in
    u whatever the batch size). x: (B, ...), u: (B, d_u), y_target: (B, d_y) ->
    (Δu (B, d_u), y (B, d_y))."""

    def one(x_i, u_i, target_i):
        def output(u):
            y = physics(x_i, u)
            return y, y

        jac, y = jax.jacrev(output, has_aux=True)(u_i)
        return svd_power_update_kernel(jac, y - target_i, -1.0, tau, eta, mode), y

    return jax.vmap(one)(x, u, y_target)


def control_sample_loss_kernel(y, y_target):
    """‖y − y*‖² per sample (sum of squares over the last axis); (..., d) -> (...)."""
    return jnp.sum((y - y_target) ** 2, axis=-1)


def control_update_kernel(network, physics, method, mode, batch_size, unravel, params,
                          opt_state, xb, yb, hyper):
    """One step of ``method`` on the batch (xb, yb): returns (batch loss, θ', Adam state').

    "svd": θ' = θ − η V Λ^κ Uᵀ g on the joint Jacobian J = ∂y/∂θ (B·d_y, n_θ), with
    g = ∂(mean_b ‖y_b − y*_b‖²)/∂y = 2(y − y*)/B row-stacked; "adam": Adam on the
    batch-mean loss; "sip": Adam on mean_b ½‖u_b − stop_grad(u_b + Δu_b)‖² with Δu from
    ``sip_control_step_kernel``. θ (``params``) is flat (``unravel`` rebuilds the
    network's pytree); hyper holds the floats kappa, tau, eta, lr. Assumes checked
    settings."""
    def outputs(t, xs):
        return jax.vmap(lambda x: physics(x, network(unravel(t), x)))(xs)

    if method == "svd":
        jac, y = batch_jacobian_kernel(lambda t, x: physics(x, network(unravel(t), x)), params, xb)
        g = (2.0 * (y - yb) / batch_size).reshape(-1)  # ∂(batch-mean loss)/∂y, row-stacked
        step = svd_power_update_kernel(jac, g, hyper["kappa"], hyper["tau"], hyper["eta"], mode)
        return jnp.mean(control_sample_loss_kernel(y, yb)), params + step, opt_state
    optimizer = optax.adam(hyper["lr"])
    if method == "adam":
        def batch_loss(t):
            return jnp.mean(control_sample_loss_kernel(outputs(t, xb), yb))

        loss, grad = jax.value_and_grad(batch_loss)(params)
    else:
        u = jax.vmap(lambda x: network(unravel(params), x))(xb)
        du, y = sip_control_step_kernel(physics, xb, u, yb, hyper["tau"], mode, hyper["eta"])
        target = u + du
        loss = jnp.mean(control_sample_loss_kernel(y, yb))

        def proxy(t):
            u_t = jax.vmap(lambda x: network(unravel(t), x))(xb)
            return jnp.mean(0.5 * jnp.sum((u_t - jax.lax.stop_gradient(target)) ** 2, axis=-1))

        grad = jax.grad(proxy)(params)
    updates, opt_state = optimizer.update(grad, opt_state, params)
    return loss, params + updates, opt_state



# ---------------------------------------------------------------------------------------
# sip-heat: inverse steps of the heat equation (float64, Fourier space). The physics
# enters as the exponent κ(f) of its damping e^{−κ(f)} per Fourier coefficient, an
# (n, n) array (``physics.heat_log_kernel(n, νt)``), and as callables.
# ---------------------------------------------------------------------------------------

HEAT_NOISE_FRACTION = 1e-6
HEAT_TIKHONOV_ALPHA = 1e-3


def heat_inverse_step_kernel(residual, log_kernel, noise_fraction=HEAT_NOISE_FRACTION):
    """Damped Bayesian Fourier inverse of the heat equation for residuals r = y* − P(x).

    Per sample, with a = FFT2(r) (unnormalised), κ(f) = νt (2π)²|f|² (``log_kernel``, a
    NumPy (n, n) array) and n the grid size:
    σ_noise = noise_fraction · ‖r‖₂, σ_sig(f) = n · e^{−κ(f)},
    L_sig = ½ exp(−½ (|a|/σ_sig)²), L_noise = ½ exp(−½ (|a|/σ_noise)²) (non-finite → 0),
    p = L_sig / (L_sig + L_noise) (0/0 → 0), s = 2(p − ½) where p ≤ ½ or p ≥ 0.68, else 0,
    Δx = Re IFFT2(a · e^{κ(f) s}).
    p = 1 undoes the damping of a frequency fully, p = 0 damps it once more, an undecided
    p leaves it. residual: (..., n, n) float64 (trace with 64-bit types enabled); returns
    Δx of the same shape. No validation.
    """
    a = jnp.fft.fft2(residual)
    amplitude = jnp.abs(a)
    sigma_noise = noise_fraction * jnp.sqrt(jnp.sum(residual**2, axis=(-2, -1), keepdims=True))
    sigma_signal = residual.shape[-1] * np.exp(-log_kernel)
    l_signal = 0.5 * jnp.exp(-0.5 * (amplitude / sigma_signal) ** 2)
    l_noise = 0.5 * jnp.exp(-0.5 * (amplitude / sigma_noise) ** 2)
    l_signal = jnp.where(jnp.isfinite(l_signal), l_signal, 0.0)
    l_noise = jnp.where(jnp.isfinite(l_noise), l_noise, 0.0)
    total = l_signal + l_noise
    p = jnp.where(total > 0, l_signal / jnp.where(total > 0, total, 1.0), 0.0)
    action = jnp.where((p <= 0.5) | (p >= 0.68), 2.0 * (p - 0.5), 0.0)
    return jnp.real(jnp.fft.ifft2(a * jnp.exp(log_kernel * action)))


def heat_tikhonov_step_kernel(residual, log_kernel, alpha=HEAT_TIKHONOV_ALPHA):
    """Tikhonov-regularised division: Δx = Re IFFT2(FFT2(r) · k / (k² + α)), k = e^{−κ(f)}.

    The amplification k/(k² + α) ≤ 1/(2√α) is bounded for every frequency; ≈ 1/k where
    k² ≫ α. residual: (..., n, n) float64, log_kernel: κ(f) as a NumPy (n, n) array;
    returns Δx of the same shape. No validation.
    """
    damping = np.exp(-log_kernel)
    return jnp.real(jnp.fft.ifft2(jnp.fft.fft2(residual) * (damping / (damping**2 + alpha))))


HEAT_INVERSES = {"bayes": heat_inverse_step_kernel, "tikhonov": heat_tikhonov_step_kernel}


def heat_x_direction_kernel(x, y_target, direction, physics, loss, inverses):
    """The x-space step Δx each method of the sip-heat page asks of the network's output
    x (B, n, n) float64, for observations y* (B, n, n).

    direction 0 (the gradient, Adam and SGD through the physics): Δx = −∂L/∂x with
    L = Σ_b loss(x_b, y*_b), loss = ½‖P(x) − y*‖²; since P is symmetric this is
    −P(P(x) − y*), and it carries the damping of P once more. direction k ≥ 1 (SIP):
    Δx = inverses[k − 1](y* − P(x)), an inverse step of the residual. ``physics`` x -> P(x),
    ``loss`` (x, y*) -> per-sample losses and ``inverses`` (residual -> Δx) are the heat
    equation's, passed in; ``direction`` may be traced (lax.switch). Either way the
    network's parameter gradient is −J_fᵀ Δx: for SIP that is the gradient of the proxy
    loss ½‖f(y*) − x̃‖² with x̃ = sg(x + Δx) held constant.
    """
    def gradient(_):
        return -jax.grad(lambda x_: jnp.sum(loss(x_, y_target)))(x)

    def inverse(kernel):
        return lambda _: kernel(y_target - physics(x))

    branches = [gradient] + [inverse(kernel) for kernel in inverses]
    return jax.lax.switch(direction, branches, None)


def heat_inverse_step(residual, log_kernel, inverse="bayes", **options):
    """Δx for residual(s) r = y* − P(x): (..., n, n) -> float64 numpy of the same shape;
    ``log_kernel`` is the exponent κ(f) of the heat equation's damping on the n × n grid,
    ``physics.heat_log_kernel(n, νt)``.

    ``inverse``: "bayes" (the damped Bayesian division, option ``noise_fraction``) or
    "tikhonov" (option ``alpha``); see the kernels for the formulas.
    """
    check_choice("inverse", inverse, tuple(HEAT_INVERSES))
    log_kernel = check_array("log_kernel", log_kernel, (None, None), min_size=2)
    n = log_kernel.shape[0]
    if log_kernel.shape != (n, n) or np.any(log_kernel < 0):
        raise ValueError(f"log_kernel must be the exponents κ(f) >= 0 of a square grid, "
                         f"physics.heat_log_kernel(n, nu_t), got shape {log_kernel.shape}")
    residual = check_array("residual", residual, (..., n, n))
    for name in options:
        check_choice("option", name, ("noise_fraction",) if inverse == "bayes" else ("alpha",))
        check_positive(name, options[name])
    with jax.enable_x64(True):
        return np.asarray(HEAT_INVERSES[inverse](jnp.asarray(residual, jnp.float64),
                                                 log_kernel, **options))
