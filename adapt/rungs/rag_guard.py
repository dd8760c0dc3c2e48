"""rag+guard: rag whose answers the guard checks, its thresholds calibrated on a suite (adapt.rag.guard)."""

from adapt.rungs import Guard, Model, Retrieval, Rung, register

# place 2, after rag by name: it costs what rag costs per query, less the questions the gate stops
register(Rung("rag+guard", 2, "rag, with a retrieval gate and a support check that abstain instead of "
              "answering unsupported", (Retrieval(), Model(), Guard()), default_recipe="rag-guarded"))
