#!/usr/bin/env bash
# Rerun the baseline and the best variant of this report with papermill alone (no MLR Copilot needed):
#   bash reproduce.sh            # both
#   bash reproduce.sh baseline   # one of: {{NAMES}}
# Each notebook is the code as it ran (reproduce/NAME.ipynb), with the parameters of its recorded run
# (reproduce/NAME.json). The metric it writes (out/NAME/metrics.json) is compared with the recorded one
# (reproduce/expected.json). Environment variables: PYTHON (an interpreter with papermill; default python3),
# KERNEL (the Jupyter kernel; default the one that ran: {{KERNEL}}). environment/requirements.txt is the
# kernel's environment when the bundle was made.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
KERNEL="${KERNEL:-{{KERNEL}}}"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then names=({{NAMES}}); fi
status=0
for name in "${names[@]}"; do
  if [ ! -f "reproduce/$name.ipynb" ]; then echo "no experiment named $name (one of: {{NAMES}})" >&2; exit 2; fi
  mkdir -p "out/$name"
  echo "== $name: papermill reproduce/$name.ipynb" >&2
  "$PYTHON" -m papermill "reproduce/$name.ipynb" "out/$name/output.ipynb" -f "reproduce/$name.json" \
    -k "$KERNEL" --cwd "out/$name" --log-level WARNING
  "$PYTHON" - "$name" <<'PY' || status=1
import json, math, sys
name = sys.argv[1]
want = json.load(open("reproduce/expected.json"))[name]
got = json.load(open(f"out/{name}/metrics.json")).get(want["metric"])
same = isinstance(got, (int, float)) and math.isclose(got, want["value"], rel_tol=1e-9, abs_tol=1e-12)
print(f"{name}: {want['metric']} = {got} (recorded in run {want['run_id']}: {want['value']}) "
      f"{'same' if same else 'DIFFERENT'}")
sys.exit(0 if same else 1)
PY
done
exit $status
