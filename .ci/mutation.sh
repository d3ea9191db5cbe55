#!/usr/bin/env bash
# Mutation testing (Stryker.NET, pinned in .config/dotnet-tools.json) of the core logic listed in stryker-config.json,
# against the unit tests. Fails when the overall score is below the break threshold (--break-at) or when any one of the
# mutated files scores below it: a well-tested file must not hide a badly tested one.
# Usage: bash .ci/mutation.sh [more Stryker options, e.g. --mutate '**/UcidValidator.cs']
set -uo pipefail
cd "$(dirname "$0")/.."

break_at=90
output="StrykerOutput/ci"
rm -rf "$output"

dotnet tool restore >/dev/null || exit 1
# Stryker runs from the test project's folder: from the root it would see the solution and mutate every project.
(cd tests/EntitlementGateway.UnitTests &&
  dotnet stryker --config-file ../../stryker-config.json --output "../../$output" --break-at "$break_at" \
    --skip-version-check "$@")
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
exit "$status"
