#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#
#   bash tests/run.sh            # everything
#   bash tests/run.sh -k ingest  # extra arguments go to every pytest run
#
# It makes two virtual environments (Datasette 0.65.x and Datasette 1.0a), installs the
# package with its test extras into each (and pyspark, the [spark] extra, into the 0.65
# one, which runs the slow tests: the Spark engine tests need it and Java 17 or later),
# installs Debian's chromium for the browser tests when it is missing, then runs, side by
# side, the slow tests on 0.65, the other tests on 0.65 (then the slow packaging and
# benchmark tests) and the other tests on 1.0a (then the browser tests, in their own pytest
# invocation).
set -euo pipefail
cd "$(dirname "$0")/.."

# Compiled modules are kept (__pycache__, git-ignored): with a caller's PYTHONDONTWRITEBYTECODE
# every Python process the tests start (CLI runs, workers, each pytest's collection) would
# compile the package, and the wheel test's venv its dependencies, from source again.
unset PYTHONDONTWRITEBYTECODE

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

# Spark only in the venv that runs the slow tests (the Spark tests are all slow). The two
# installs go side by side (mostly downloads); the 0.65 one builds the native extension in
# place and the 1.0a one uses that build (two builds would write the same file at once).
make_venv stable "$DATASETTE_STABLE" test,spark &
stable_install=$!
PROVENANCE_USE_BUILT_NATIVE=1 make_venv alpha "$DATASETTE_ALPHA" test
wait "$stable_install"
ensure_chromium

# Every run goes ahead even when one fails (so one CI run reports every failure);
# the script exits non-zero if any did. CI has two cores and each pytest is mostly one
# process, so three runs of similar length go side by side: the slow tests (crash recovery,
# big corpora, Spark: they exercise the pipeline, not Datasette, so once is enough), the
# rest on 0.65, and the rest on 1.0a. Two runs would leave a core idle once the shorter
# ended. Each run's output is kept in a file and printed when it ends, so logs do not
# interleave. The slow tests that build or install the package (packaging, benchmarks)
# follow the other 0.65 tests, and the browser tests the 1.0a ones, so that the slow run,
# the longest, is not much longer than the other two.
failed=()
names=()
pids=()
logs=()
trap 'rm -f "${logs[@]}"' EXIT

start() {  # start NAME COMMAND ARGS...: a command in the background, its output kept
  local name=$1 log
  shift
  log=$(mktemp)
  "$@" >"$log" 2>&1 &
  names+=("$name")
  pids+=($!)
  logs+=("$log")
}

tests_on() {  # tests_on NAME VENV ARGS...
  local name=$1 venv=$2
  shift 2
  echo "== $name ($("$VENV_ROOT/$venv/bin/datasette" --version))"
  run_pytest "$venv" "$@"
}

stable_then_packaging() {  # the other 0.65 tests, then the slow packaging and benchmark tests
  local status=0
  tests_on "Datasette 0.65" stable tests --ignore=tests/browser -m "not slow" -q "$@" || status=1
  echo "== slow packaging and benchmark tests on Datasette 0.65"
  run_pytest stable "${PACKAGING_TESTS[@]}" -m slow -q "$@" || status=1
  return "$status"
}

alpha_then_browser() {  # the 1.0a tests, then the browser tests
  local status=0
  tests_on "Datasette 1.0a" alpha tests --ignore=tests/browser -m "not slow" -q "$@" || status=1
  echo "== browser tests (Playwright + Debian chromium)"
  run_pytest stable tests/browser -q "$@" || status=1
  return "$status"
}

PACKAGING_TESTS=(tests/test_packaging.py tests/test_benchmarks.py)
start "slow tests on Datasette 0.65" tests_on "slow tests on Datasette 0.65" stable tests \
  --ignore=tests/browser "${PACKAGING_TESTS[@]/#/--ignore=}" -m slow -q "$@"
start "Datasette 0.65 or slow packaging tests" stable_then_packaging "$@"
start "Datasette 1.0a or browser tests" alpha_then_browser "$@"
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
  cat "${logs[$i]}"
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
