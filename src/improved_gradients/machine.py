"""The machine configuration every run of the book uses, in one place.

Long float32 training runs amplify last-bit differences, and those come from the machine:
the instruction set XLA compiles for (``--xla_cpu_max_isa``), the OpenBLAS kernels
LAPACK calls pick per CPU, and the number of threads. ``PINS`` fixes what can be fixed,
so that machines of one architecture compute the same numbers where that is possible;
``PERTURBATIONS`` are deliberately different configurations that simulate another machine
(the tests build the book under one of them; ``make spread`` measures the spread of every
tolerance-checked result under all of them).

The pins do not make two CPU generations compute the same float32 numbers: code generated
for the host CPU and its library kernels differ in the last bits, and a long training run
amplifies those bits as a different seed would (measured between two AMD EPYC generations:
×1.1–1.8 on chaotic outcomes, every deterministic cell identical). Changing the instruction
set on one CPU reaches only part of that spread. What reaches it is a perturbation of a few
ulps: with ``IMPROVED_GRADIENTS_PERTURBATION=<seed>`` every model initialiser
(``models.perturb_initial``) multiplies the initial parameters by (1 + 3e-7·ε), ε ~ N(0, 1)
drawn from that seed, and leaves everything else untouched. The ``ulp-*`` configurations
use it, and so does the test build (``TEST_PERTURBATION``).

This module does not import JAX: ``python src/improved_gradients/machine.py CONFIG``
prints the configuration as ``NAME=value`` words for ``env`` (the Makefile uses it), and
``apply_pins()`` sets it in ``os.environ`` before JAX is imported (the command line).
"""

import os
import platform
import sys

# x86-64: compile for AVX2 (with FMA) on every CPU, AVX-512 ones included, and use the
# Haswell kernels of OpenBLAS; one OpenBLAS thread (the decompositions are small, and the
# results then do not depend on the core count).
_PINS_X86 = {"XLA_FLAGS": "--xla_cpu_max_isa=AVX2", "OPENBLAS_CORETYPE": "Haswell"}
_PINS_ALL = {"OPENBLAS_NUM_THREADS": "1"}

# Other machines, simulated: another instruction set (AVX has no FMA, so every fused
# multiply-add rounds differently), other BLAS kernels, and one core instead of two.
PERTURBATIONS = {
    "avx": {"XLA_FLAGS": "--xla_cpu_max_isa=AVX", "OPENBLAS_CORETYPE": "Sandybridge"},
    "sse4": {"XLA_FLAGS": "--xla_cpu_max_isa=SSE4_2", "OPENBLAS_CORETYPE": "Nehalem"},
    "one-core": {},  # the pins, run under ``taskset -c 0`` (see ``command_prefix``)
    # a few-ulp perturbation of every initial parameter, one seed each
    **{f"ulp-{seed}": {"IMPROVED_GRADIENTS_PERTURBATION": str(seed)} for seed in range(1, 5)},
    # the test build: another instruction set and a perturbation, together
    "avx-ulp": {"XLA_FLAGS": "--xla_cpu_max_isa=AVX", "OPENBLAS_CORETYPE": "Sandybridge",
                "IMPROVED_GRADIENTS_PERTURBATION": "7"},
}
# The configuration the test build runs under (the nbval run uses the pins).
TEST_PERTURBATION = "avx-ulp"
# The configurations ``make spread`` measures the tolerances over: four perturbations, the
# test build's configuration and another instruction set (the pins' own values are
# recorded by ``make notebooks``, which writes the references).
SPREAD_CONFIGURATIONS = ("ulp-1", "ulp-2", "ulp-3", "ulp-4", "avx-ulp", "avx")
PERTURBATION_VARIABLE = "IMPROVED_GRADIENTS_PERTURBATION"


def pins():
    """The pinned environment variables for this machine's architecture."""
    if platform.machine().lower() in ("x86_64", "amd64"):
        return {**_PINS_X86, **_PINS_ALL}
    return dict(_PINS_ALL)


def configuration(name="default"):
    """Environment variables of a named configuration: "default" (the pins) or one of
    ``PERTURBATIONS`` (the pins with that perturbation's values replacing them)."""
    if name == "default":
        return pins()
    if not isinstance(name, str) or name not in PERTURBATIONS:
        known = ", ".join(["default", *PERTURBATIONS])
        raise ValueError(f"unknown machine configuration {name!r}; known: {known}")
    x86_only = set(PERTURBATIONS[name]) - {PERTURBATION_VARIABLE}
    if platform.machine().lower() not in ("x86_64", "amd64") and x86_only:
        raise ValueError(f"configuration {name!r} perturbs x86-64 settings; this machine is "
                         f"{platform.machine()} (use 'one-core' or 'ulp-1' ... 'ulp-4')")
    return {**pins(), **PERTURBATIONS[name]}


def command_prefix(name="default"):
    """The words that run a command under configuration ``name``: ``env`` assignments (the
    configuration and its name), and ``taskset -c 0`` for the one-core configuration."""
    variables = {**configuration(name), "IMPROVED_GRADIENTS_CONFIG": name}
    words = ["env", *(f"{key}={value}" for key, value in variables.items())]
    if name == "one-core":
        words += ["taskset", "-c", "0"]
    return words


def perturbation_seed():
    """The seed of the few-ulp perturbation of initial parameters, from
    ``IMPROVED_GRADIENTS_PERTURBATION`` (an integer >= 0), or None where it is unset or
    empty (every ordinary run)."""
    text = os.environ.get(PERTURBATION_VARIABLE, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"{PERTURBATION_VARIABLE}={text!r} must be an integer seed >= 0 "
                         f"(or unset for no perturbation)")
    return int(text)


def apply_pins():
    """Set the pins in ``os.environ`` where they are not set yet (call before importing JAX)."""
    for key, value in pins().items():
        os.environ.setdefault(key, value)


def describe():
    """One line naming the CPU, its vector extensions and the active pins (for provenance)."""
    model, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name") and model == "unknown CPU":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        model = platform.processor() or platform.machine()
    isa = "/".join(f for f in ("avx512f", "avx2", "fma", "avx") if f in flags) or platform.machine()
    active = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in configuration("default"))
    return f"{model} ({isa}, {os.cpu_count()} cores); {active}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--spread-configurations"]:
        print(" ".join(SPREAD_CONFIGURATIONS))
    else:
        print(" ".join(command_prefix(sys.argv[1] if len(sys.argv) > 1 else "default")))
