#!/usr/bin/env bash
# Mutation testing (Stryker.NET, pinned in .config/dotnet-tools.json) of the core logic listed in stryker-config.json,
# against the unit tests. Fails when the overall score is below the break threshold (--break-at) or when any one of the
# mutated files scores below it: a well-tested file must not hide a badly tested one.
# Usage: bash .ci/mutation.sh [more Stryker options, e.g. --mutate '**/UcidValidator.cs']
set -uo pipefail
cd "$(dirname "$0")/.."

break_at=90
output="StrykerOutput/ci"
log="StrykerOutput/ci-stryker.log"
rm -rf "$output"

dotnet tool restore >/dev/null || exit 1
# Stryker runs from the test project's folder: from the root it would see the solution and mutate every project.
mkdir -p StrykerOutput
(cd tests/EntitlementGateway.UnitTests &&
  dotnet stryker --config-file ../../stryker-config.json --output "../../$output" --break-at "$break_at" \
    --skip-version-check "$@") | tee "$log"
status=$?

report="$output/reports/mutation-report.json"
if [ ! -f "$report" ]; then
  echo "mutation: no report at $report" >&2
  exit 1
fi

# Score per file as Stryker counts it: (killed + timeout) / (killed + timeout + survived + no coverage).
below=$(jq -r --argjson at "$break_at" '
  .files | to_entries[]
  | (.value.mutants | map(.status)) as $s
  | ($s | map(select(. == "Killed" or . == "Timeout")) | length) as $detected
  | ($s | map(select(. == "Killed" or . == "Timeout" or . == "Survived" or . == "NoCoverage")) | length) as $valid
  | select($valid > 0)
  | (100 * $detected / $valid) as $score
  | "\(if $score < $at then "BELOW" else "ok" end) \($score * 100 | floor / 100)% (\($detected)/\($valid)) \(.key | sub("^.*/src/"; "src/"))"
' "$report")
echo "mutation score per file (break at ${break_at}%):"
echo "$below" | sed 's/^/  /'
if echo "$below" | grep -q '^BELOW'; then
  echo "mutation: a file scores below ${break_at}%" >&2
  status=1
fi

# A method with a mutant Stryker cannot compile, and cannot tell which one it was, is dropped whole ("Safe Mode"): its
# mutants are counted as compile errors, outside the score, so a file can score 100 % with a method no mutant reached.
# None may be in a file this run mutates (the --mutate patterns given, else stryker-config.json's).
patterns=()
args=("$@")
for ((i = 0; i + 1 < ${#args[@]}; i++)); do
  [ "${args[i]}" = "--mutate" ] && patterns+=("${args[i + 1]}")
done
[ ${#patterns[@]} -eq 0 ] && mapfile -t patterns < <(jq -r '."stryker-config".mutate[]' stryker-config.json)
while read -r dropped; do
  [ -n "$dropped" ] || continue
  for pattern in "${patterns[@]}"; do
    # shellcheck disable=SC2053 # the pattern is a glob on purpose; in [[ ]] its * also matches '/'
    if [[ "$dropped" == $pattern ]]; then
      echo "mutation: Stryker dropped a method of ${dropped##*/src/} whole (Safe Mode): its mutants were not tested" >&2
      status=1
    fi
  done
done < <(sed -n 's/.*unidentified mutation in \(.*\.cs\) resulted in a compile error.*/\1/p' "$log" | sort -u)
exit "$status"
