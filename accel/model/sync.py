"""Control and synchronization: nop and counting semaphores between engine queues."""

from __future__ import annotations

from accel.model import semantics


@semantics("nop")
def nop(core, ins) -> None:
    """No effect; the engine's queue advances."""


@semantics("sem.signal")
def sem_signal(core, ins) -> None:
    core.semaphore(ins.ops["sem"])  # bounds check
    core.sems[ins.ops["sem"]] += ins.ops["count"]


@semantics("sem.wait")
def sem_wait(core, ins) -> bool | None:
    s, n = ins.ops["sem"], ins.ops["count"]
    if core.semaphore(s) < n:
        return False  # cannot issue yet; nothing happened
    core.sems[s] -= n
    return None
