#!/bin/bash
# A sweep on Slurm: one array task per shard. SLURM_ARRAY_TASK_ID picks the shard, so the
# array must be 0-based and as long as --shards (0-7 for 8). Rerunning the array (or only the
# failed indices: sbatch --array=3,5 ...) redoes only the shards whose file is missing.
#
#   mkdir -p results && sbatch reports/sweep/slurm-array.sh     # Slurm opens the --output log before the script runs
#   sbatch --dependency=afterok:<jobid> --wrap 'node bin/tlbsim.mjs aggregate results/scaling'
#
# Without a scheduler, GNU parallel runs the same shards on one or more hosts:
#   parallel -j 8 node bin/tlbsim.mjs sweep reports/sweep/scaling.json --shard {}/8 -o results/scaling ::: $(seq 0 7)
#SBATCH --job-name=tlbsim-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=1
#SBATCH --mem=1G
#SBATCH --time=00:30:00
#SBATCH --output=results/slurm-%A_%a.log
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"
exec node bin/tlbsim.mjs sweep reports/sweep/scaling.json --shards 8 -o results/scaling
