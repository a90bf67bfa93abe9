#pragma once
// The signals that ask a running job to stop early and keep its finished work: SIGUSR1 (what
// `sbatch --signal=B:USR1@<s>` sends before the time limit or a preemption, forwarded by
// slurm/compare.sbatch to the job step; mpirun forwards it to every rank) and SIGTERM (what Slurm
// sends when it cancels or preempts a step). The handler only records the signal; ranks look at
// it between units of work and agree on stopping through the round sums of shared_work.cpp.
namespace lineage {

// Installs the handler for SIGUSR1 and SIGTERM in this process (idempotent).
void install_interrupt_handlers();

// The signal received since installation (SIGUSR1 or SIGTERM), or 0.
[[nodiscard]] int interrupt_signal() noexcept;

// "SIGUSR1", "SIGTERM", or "signal N".
[[nodiscard]] const char* signal_name(int signal) noexcept;

}  // namespace lineage
