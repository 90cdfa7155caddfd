"""Resource quantities: one unit rule for every engine.

The IR keeps Metaflow's numbers: cpu in cores, memory, disk, shared memory and tmpfs in "MB" as
@resources / @batch / @kubernetes take them. flowc reads every such number as MiB on every engine:
AWS Batch defines MEMORY and linuxParameters sizes in MiB, so Kubernetes quantities carry `Mi`, and
`memory=16000` is the same 16000 MiB on an Argo pod, an EKS job, a Batch job and a `flowc run`
Kubernetes Job. (Metaflow writes `M`, 10^6 bytes, on Kubernetes: 4.6% less than on Batch. flowc does
not copy that difference.) Kubernetes cpu is "2" or "500m"; Batch VCPU is "2" or "0.5".
"""
from __future__ import annotations

KUBERNETES = "kubernetes"
BATCH = "batch"
ENGINES = (KUBERNETES, BATCH)


def size(mb: float, engine: str) -> str:
    """Memory, disk, shared memory or tmpfs (the IR's MB, read as MiB) as `engine` writes it."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    mib = int(mb)
    return f"{mib}Mi" if engine == KUBERNETES else str(mib)


def cpu(cores: float, engine: str) -> str:
    """Cores as `engine` writes them: Kubernetes "2" / "500m", Batch VCPU "2" / "0.5"."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    value = float(cores)
    if value == int(value):
        return str(int(value))
    return f"{int(round(value * 1000))}m" if engine == KUBERNETES else repr(value)


def tmpfs_mb(compute) -> int:
    """The tmpfs size of a step: its own, else half its memory (Metaflow's rule)."""
    return int(compute.tmpfs_size or max(1, int(compute.memory) // 2))
