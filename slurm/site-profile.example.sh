# An example site profile: what a cluster needs before lineage runs. Copy it, adapt it and point
# LINEAGE_SITE_PROFILE at the copy:
#   LINEAGE_SITE_PROFILE=$HOME/lineage-site.sh sbatch slurm/compare.sbatch job.yaml
# The templates source it in the batch shell before srun starts the ranks.

# Modules of the toolchain lineage was built with (names differ per site).
# module purge
# module load gcc/12 openmpi/4.1 hdf5/1.10-mpi

# The executable, if not build/lineage under the submit directory.
# export LINEAGE=/opt/lineage/bin/lineage

# Open MPI over the site's fabric; PMIx is what srun --mpi=pmix provides.
# export OMPI_MCA_pml=ucx
# export OMPI_MCA_btl=^vader,tcp,openib

# One thread per rank: the statistics kernel is single-threaded and ranks fill the cores.
export OMP_NUM_THREADS=1

# Parallel file systems: lineage reads with memory maps by default (io_mode: map); where mapping is
# slow or counted against the job, set io_mode: read in the job file instead.
