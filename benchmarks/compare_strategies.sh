#!/usr/bin/env bash
# Strategies compared at the same budget over several seeds (issue 11's acceptance measurement):
# for each strategy and seed, one `nos-search run` on the default child, then the mean reward over
# the last 20 % of batches, the best reward found, and mean ± std over the seeds; and what the
# user gets (issue 22): the search's best rule retrained over --final-seeds seeds beside Adam with
# `nos-search final DB --top 1 --seeds S --baselines adam --no-greedy`, its multi-seed mean and
# its paired difference with Adam (mean, 95 % CI, p). A table, and JSON (OUT/comparison.json).
# Reads the databases and final's JSON with python3.
#
#   benchmarks/compare_strategies.sh [--build DIR] [--out DIR] [--budget N] [--seeds "1 2 3"]
#                                    [--strategies "lstm random"] [--final-seeds S (3; 0: none)]
#                                    [--final-options "..."] [-- extra nos-search run options]
set -euo pipefail

build=build out=strategy-comparison budget=600 seeds="1 2 3" strategies="lstm random" final_seeds=3 final_options=""
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --strategies) strategies=$2; shift 2 ;;
    --final-seeds) final_seeds=$2; shift 2 ;;
    --final-options) final_options=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "compare_strategies.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$final_seeds" =~ ^[0-9]+$ && "$final_seeds" -le 1000 ]] ||
  { echo "compare_strategies.sh: --final-seeds: expected 0 .. 1000, not '$final_seeds'" >&2; exit 2; }
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
    # The best rule beside Adam over the same seeds; kept, so a rerun only reports.
    final_json="$out/$strategy-seed$seed.final.json"
    if [[ "$final_seeds" -gt 0 && ! -f "$final_json" ]]; then
      echo "== $strategy, seed $seed: final, the best rule and Adam over $final_seeds seeds"
      # shellcheck disable=SC2086  # --final-options is a list of words
      "$search" final "$db" --top 1 --seeds "$final_seeds" --baselines adam --no-greedy --json "$final_json.part" \
        $final_options >/dev/null
      mv "$final_json.part" "$final_json"
    fi
  done
done

python3 - "$out" "$final_seeds" $strategies <<'EOF'
import json, math, sqlite3, sys, glob, os
out, final_seeds, strategies = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def final_of(db):
    """The best rule against Adam from final's JSON beside the database, or None."""
    path = db[:-len(".db")] + ".final.json"
    if final_seeds == 0 or not os.path.exists(path):
        return None
    with open(path) as f:
        doc = json.load(f)
    rule = next((r for r in doc["results"] if r["kind"] == "rule"), None)
    adam = next((r for r in doc["results"] if r["optimizer"] == "adam"), None)
    pair = next((c for c in doc["comparisons"] if c["rule"] == "rank 1" and c["baseline"] == "adam"), None)
    return {"seeds": len(doc["task"]["seeds"]), "rule": rule["rule"] if rule else None,
            "rule_mean": rule["mean"] if rule else None, "rule_std": rule["std"] if rule else None,
            "adam_mean": adam["mean"] if adam else None,
            "difference": pair["mean_difference"] if pair else None, "ci95": pair["ci95"] if pair else None,
            "p": pair["p"] if pair else None, "verdict": pair["short"] if pair else None,
            "lr": doc["task"]["lr"].get("description"), "file": path}

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
                                              "best_reward": best, "sources": counts, "final": final_of(db)})
def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None
    m = sum(xs) / len(xs)
    return m, (math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0)
def pm(m, s, width):
    return f"{m:>{width}.4f} ± {s:.4f}" if m is not None else f"{'-':>{width + 9}}"
def seed_text(r):
    text = f"{r['seed']}: {r['last_20pct_mean_reward']:.4f}"
    f = r["final"]
    if f and f["difference"] is not None:
        ci = f"[{f['ci95'][0]:+.4f}, {f['ci95'][1]:+.4f}]" if f["ci95"] else "[-]"
        p = f"{f['p']:.2g}" if f["p"] is not None else "-"
        text += f"; {f['rule_mean']:.4f} - {f['adam_mean']:.4f} = {f['difference']:+.4f} {ci}, p {p} ({f['verdict']})"
    return text
summary = {}
print(f"{'strategy':10} {'seeds':>5} {'last 20% mean reward':>22} {'best reward':>16} {'best rule, final':>18} "
      f"{'rule - adam':>18}   per seed (last 20 %; final: rule - adam = difference [95 % CI], p)")
for strategy, runs in rows.items():
    tail_m, tail_s = stats([r["last_20pct_mean_reward"] for r in runs])
    best_m, best_s = stats([r["best_reward"] for r in runs])
    finals = [r["final"] for r in runs if r["final"]]
    rule_m, rule_s = stats([f["rule_mean"] for f in finals])
    diff_m, diff_s = stats([f["difference"] for f in finals])
    summary[strategy] = {"last_20pct_mean_reward": {"mean": tail_m, "std": tail_s}, "best_reward": {"mean": best_m, "std": best_s},
                         "best_rule_final_mean": {"mean": rule_m, "std": rule_s},
                         "best_rule_minus_adam": {"mean": diff_m, "std": diff_s}, "runs": runs}
    print(f"{strategy:10} {len(runs):>5} {pm(tail_m, tail_s, 13)} {pm(best_m, best_s, 7)} {pm(rule_m, rule_s, 9)} "
          f"{pm(diff_m, diff_s, 9)}   {', '.join(seed_text(r) for r in runs)}")
with open(os.path.join(out, "comparison.json"), "w") as f:
    json.dump(summary, f, indent=2)
print(f"written: {os.path.join(out, 'comparison.json')}")
EOF
