#!/usr/bin/env bash
# Mutation testing of the pure rules: mutmut mutates domain/entry.py, timing.py, conditions.py,
# scoring.py and priority.py one change at a time ([tool.mutmut] in pyproject.toml) and runs
# tests/unit against each mutant; a mutant that no test fails on "survived". Prints each
# module's killed and survived counts, then every survivor with its diff. The survivors
# expected (equivalent mutants) are listed, each with its reason, in docs/mutation.md.
#
#   scripts/mutation.sh                    # every mutant of the five modules (a few minutes)
#   scripts/mutation.sh "domain.timing*"   # one module's mutants (kept results for the rest)
#
# Not part of the pytest suite: too slow for it. MUTMUT_CHILDREN sets the parallel workers.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then
  rm -rf mutants  # a full run starts clean: no verdict kept from older sources or tests
fi
uv run mutmut run --max-children "${MUTMUT_CHILDREN:-2}" "$@" > mutants-run.log 2>&1 || {
  tail -n 40 mutants-run.log
  exit 1
}
tail -c 200 mutants-run.log | tr '\r' '\n' | tail -n 2

uv run mutmut results --all true > mutants-results.txt
echo
echo "module                  killed  survived  other"
for module in entry timing conditions scoring priority; do
  lines=$(grep -F "domain.${module}." mutants-results.txt || true)
  killed=$(grep -c ": killed$" <<<"$lines" || true)
  survived=$(grep -c ": survived$" <<<"$lines" || true)
  other=$(grep -vc -e ": killed$" -e ": survived$" -e "^$" <<<"$lines" || true)
  printf "domain/%-16s %6s  %8s  %5s\n" "${module}.py" "$killed" "$survived" "$other"
done

echo
echo "survivors:"
for name in $(grep ": survived$" mutants-results.txt | sed 's/^ *//; s/: survived$//'); do
  echo "=== ${name}"
  uv run mutmut show "${name}" | grep -E '^[-+][^-+]' || true
done
rm -f mutants-run.log mutants-results.txt
