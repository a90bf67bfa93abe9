# Wrapper for one MPI rank: runs the command, writes its exit status to
# $RANK_STATUS_DIR/rank-<rank>, and exits 0.
#
# mpirun kills the other ranks as soon as one exits non-zero, so its own exit status cannot tell a
# rank that ended by itself from one that hung and was killed. Behind this wrapper no rank exits
# non-zero: a rank that hangs keeps mpirun waiting (the caller's timeout then fails the test), and a
# rank that was killed leaves no status file.
#
# usage: mpirun -x RANK_STATUS_DIR ... bash rank_status.sh COMMAND ARGS...
"$@"
status=$?
echo "$status" > "${RANK_STATUS_DIR:?}/rank-${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:?}}"
exit 0
