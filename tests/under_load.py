"""Run the test suite while the machine is busy, to find the tests that only pass on an idle one.

    python tests/under_load.py                       # 5 runs, both cores kept busy
    python tests/under_load.py --runs 3 --suites 2   # two suites at once, three times
    python tests/under_load.py --netns -- -x tests/core   # each suite in its own network namespace

Burner processes (one per core unless told) spin for the whole time, so every thread of the suite
waits for a core as it would on a loaded CI machine. With `--suites 2` two whole suites run at once
in the same network namespace, which is what makes tests that use the same fixed port collide (the
pinned ports of tests/scenes.py are shared under a file lock for that reason). Each suite's output
goes to a log file; one line per suite says how it ended and names every failed test (pytest's -ra
summary). The exit status is 1 if any suite failed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BURN = "while True: pass"


@dataclass
class Outcome:
    run: int
    suite: int
    status: int
    seconds: float
    summary: str
    failures: list[str]
    log: Path

    @property
    def passed(self) -> bool:
        return self.status == 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="how many times to run (default 5)")
    parser.add_argument("--suites", type=int, default=1, help="whole suites at once in each run (default 1)")
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2, help="busy processes (default: one a core)")
    parser.add_argument("--netns", action="store_true", help="run each suite in a network namespace of its own (root)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds before a suite counts as hung")
    parser.add_argument("--logs", type=Path, default=None, help="folder for the suites' output (default: a temp dir)")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (put them after --)")
    return parser.parse_args(argv)


def suite_command(args: argparse.Namespace, basetemp: Path) -> list[str]:
    # Each suite gets a temp folder of its own: pytest's shared one is pruned by whichever run starts next.
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={basetemp}",
              *args.pytest_args]  # fmt: skip
    if not args.netns:
        return pytest
    return ["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {shlex.join(pytest)}"]


def read_outcome(run: int, suite: int, status: int, seconds: float, log: Path) -> Outcome:
    lines = log.read_text(errors="replace").splitlines()
    failures = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    results = [line.strip("= ") for line in lines if " in " in line and ("passed" in line or "failed" in line)]
    summary = results[-1] if results else (lines[-1] if lines else "no output")
    return Outcome(run, suite, status, seconds, summary, failures, log)


def run_once(run: int, args: argparse.Namespace, logs: Path) -> list[Outcome]:
    started = []
    for suite in range(1, args.suites + 1):
        log = logs / f"run{run}-suite{suite}.log"
        basetemp = logs / f"tmp-run{run}-suite{suite}"
        # Wide enough that the -ra summary keeps each failure's reason whole, not cut at 80 columns.
        env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "250")}
        with log.open("w") as out:
            process = subprocess.Popen(suite_command(args, basetemp), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                       env=env)  # fmt: skip
        started.append((suite, process, time.monotonic(), log))
    outcomes = []
    try:
        for suite, process, began, log in started:
            try:
                status = process.wait(timeout=max(1.0, args.timeout - (time.monotonic() - began)))
            except subprocess.TimeoutExpired:
                process.kill()
                status = process.wait()
                with log.open("a") as out:
                    out.write(f"\nHUNG: killed after {args.timeout:g} s\n")
            outcomes.append(read_outcome(run, suite, status, time.monotonic() - began, log))
    finally:  # on ctrl+c too: no suite of ours is left running
        for _, process, _, _ in started:
            if process.poll() is None:
                process.kill()
                process.wait()
    return outcomes


def report(outcome: Outcome) -> None:
    verdict = "passed" if outcome.passed else f"FAILED (exit {outcome.status})"
    print(f"run {outcome.run} suite {outcome.suite}: {verdict} in {outcome.seconds:.0f} s: {outcome.summary}")
    for line in outcome.failures:
        print(f"    {line}")
    if not outcome.passed:
        print(f"    log: {outcome.log}")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="sockviz-under-load-"))
    logs.mkdir(parents=True, exist_ok=True)
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(args.burners)]
    print(f"{args.runs} run(s) of {args.suites} suite(s) at once, {len(burners)} burner(s) busy; logs in {logs}")
    outcomes: list[Outcome] = []
    try:
        for run in range(1, args.runs + 1):
            for outcome in run_once(run, args, logs):
                report(outcome)
                outcomes.append(outcome)
    finally:
        for burner in burners:  # only the processes started here, each by its own handle
            burner.kill()
            burner.wait()
    failed = [o for o in outcomes if not o.passed]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} suites passed under load")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
