#!/usr/bin/env bash
# Strategies compared at the same budget over several seeds (issue 11's acceptance measurement):
# for each strategy and seed, one `nos-search run` on the default child, then the mean reward over
# the last 20 % of batches, the best reward found, and mean ± std over the seeds, as a table and as
# JSON (OUT/comparison.json). Reads the databases with python3's sqlite3 module.
#
#   benchmarks/compare_strategies.sh [--build DIR] [--out DIR] [--budget N] [--seeds "1 2 3"]
#                                    [--strategies "lstm random"] [-- extra nos-search run options]
set -euo pipefail

build=build out=strategy-comparison budget=600 seeds="1 2 3" strategies="lstm random"
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --strategies) strategies=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "compare_strategies.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
search="$build/bin/nos-search"
[[ -x "$search" ]] || { echo "compare_strategies.sh: $search not found: build first (or give --build DIR)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "compare_strategies.sh: python3 is needed to read the results" >&2; exit 1; }
mkdir -p "$out"

for seed in $seeds; do
  for strategy in $strategies; do
    db="$out/$strategy-seed$seed.db"
    if [[ -f "$db" ]]; then
      echo "== $strategy, seed $seed: $db exists, resuming it (a finished search just reports)"
      "$search" run --db "$db" --resume --no-report --no-baseline --quiet
    else
      echo "== $strategy, seed $seed"
      start=$(date +%s)
      "$search" run --db "$db" --strategy "$strategy" --seed "$seed" --budget "$budget" --no-report --no-baseline \
        --quiet "${extra[@]}"
      echo "   $(( $(date +%s) - start )) s"
    fi
  done
done

python3 - "$out" $strategies <<'EOF'
import json, math, sqlite3, sys, glob, os
out, strategies = sys.argv[1], sys.argv[2:]
rows = {}
for strategy in strategies:
    for db in sorted(glob.glob(os.path.join(out, f"{strategy}-seed*.db"))):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        batches = [json.loads(s) for (s,) in con.execute("SELECT statistics FROM strategy_states ORDER BY batch")]
        means = [b["rewards"]["mean"] for b in batches if "rewards" in b]
        tail = means[-max(1, len(means) // 5):]
        best = con.execute("SELECT MAX(reward) FROM evaluations WHERE accepted = 1 AND stage = 1").fetchone()[0]
        counts = dict(con.execute("SELECT source, COUNT(*) FROM evaluations WHERE accepted = 1 AND stage = 1 GROUP BY source"))
        seed = int(db.rsplit("seed", 1)[1].split(".")[0])
        rows.setdefault(strategy, []).append({"seed": seed, "batches": len(means), "last_20pct_mean_reward": sum(tail) / len(tail),
                                              "first_batch_mean_reward": means[0] if means else None,
                                              "best_reward": best, "sources": counts})
def stats(xs):
    m = sum(xs) / len(xs)
    return m, (math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0)
summary = {}
print(f"{'strategy':10} {'seeds':>5} {'last 20% mean reward':>22} {'best reward':>16}   per seed (last 20%)")
for strategy, runs in rows.items():
    tail_m, tail_s = stats([r["last_20pct_mean_reward"] for r in runs])
    best_m, best_s = stats([r["best_reward"] for r in runs])
    summary[strategy] = {"last_20pct_mean_reward": {"mean": tail_m, "std": tail_s}, "best_reward": {"mean": best_m, "std": best_s}, "runs": runs}
    per_seed = ", ".join(f"{r['seed']}: {r['last_20pct_mean_reward']:.4f}" for r in runs)
    print(f"{strategy:10} {len(runs):>5} {tail_m:>13.4f} ± {tail_s:.4f} {best_m:>9.4f} ± {best_s:.4f}   {per_seed}")
with open(os.path.join(out, "comparison.json"), "w") as f:
    json.dump(summary, f, indent=2)
print(f"written: {os.path.join(out, 'comparison.json')}")
EOF
