#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#
#   bash tests/run.sh            # everything
#   bash tests/run.sh -k ingest  # extra arguments go to every pytest run
#
# It makes two virtual environments (Datasette 0.65.x and Datasette 1.0a), installs the
# package with its test extras into each (and pyspark, the [spark] extra, into the 0.65
# one, which runs the slow tests: the Spark engine tests need it and Java 17 or later),
# installs Debian's chromium for the browser tests when it is missing, then runs: the
# suite on 0.65, the suite on 1.0a, and the browser tests in their own pytest invocation.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV_ROOT=${VENV_ROOT:-.venvs}
DATASETTE_STABLE=${DATASETTE_STABLE:-"datasette>=0.65,<0.66"}
DATASETTE_ALPHA=${DATASETTE_ALPHA:-"datasette>=1.0a41,<1.1"}

make_venv() {  # make_venv NAME DATASETTE_REQUIREMENT EXTRAS
  local venv="$VENV_ROOT/$1"
  if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$3]" "$2"
}

ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then return; fi
  echo "installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
}

# pytest exits 5 when a selection (e.g. -k) collects no tests: that is not a failure.
run_pytest() {  # run_pytest VENV ARGS...
  local venv="$VENV_ROOT/$1"; shift
  local status=0
  "$venv/bin/python" -m pytest "$@" || status=$?
  if [ "$status" -eq 5 ]; then status=0; fi
  return "$status"
}

# Spark only in the venv that runs the slow tests (the Spark tests are all slow).
make_venv stable "$DATASETTE_STABLE" test,spark
make_venv alpha "$DATASETTE_ALPHA" test
ensure_chromium

# Every run goes ahead even when one fails (so one CI run reports every failure);
# the script exits non-zero if any did. The two Datasette versions run side by side:
# each pytest is mostly one process, and CI has two cores. The 1.0a run's output is
# kept in a file and printed when it ends, so the two logs do not interleave.
failed=()
alpha_log=$(mktemp)
trap 'rm -f "$alpha_log"' EXIT
# Slow tests (crash recovery, big corpora) exercise the pipeline, not Datasette: once is enough.
(
  echo "== tests on $("$VENV_ROOT/alpha/bin/datasette" --version) (without slow pipeline tests)"
  run_pytest alpha tests --ignore=tests/browser -m "not slow" -q "$@"
) >"$alpha_log" 2>&1 &
alpha_pid=$!
echo "== tests on $("$VENV_ROOT/stable/bin/datasette" --version)"
run_pytest stable tests --ignore=tests/browser -q "$@" || failed+=("Datasette 0.65")
wait "$alpha_pid" || failed+=("Datasette 1.0a")
cat "$alpha_log"
echo "== browser tests (Playwright + Debian chromium)"
run_pytest stable tests/browser -q "$@" || failed+=("browser")
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
