"""lt.backends.cpu: the CPU's vector capability, as LLVM sees the host."""

from functools import lru_cache


@lru_cache(maxsize=1)
def get_cpu_capability() -> str:
    """'AVX512', 'AVX2' or 'DEFAULT' (PyTorch's names), from the host's CPU features."""
    from llvmlite import binding

    features = binding.get_host_cpu_features()
    if features.get("avx512f") and features.get("avx512bw"):
        return "AVX512"
    if features.get("avx2") and features.get("fma"):
        return "AVX2"
    return "DEFAULT"
