#!/usr/bin/env python3
"""Run the egressd end-to-end scenarios.

usage: python3 tests/e2e/run.py [FILTER...]

Discovers tests/e2e/t[0-9][0-9]_*.py and runs every test_* function in
each, in file order, one after another in this process.  Each test gets a
fresh temporary directory (t.tmp) and a cleanup stack (t.defer); each has a
hard deadline (E2E_TIMEOUT seconds, default 60).  A FILTER keeps the tests
whose "file::function" name contains it.

Environment: EGRESSD (binary, default src/egressd), E2E_CASES (cases.tsv),
E2E_KEEP=1 (keep temporary directories), E2E_TIMEOUT.
"""
import glob
import importlib.util
import inspect
import os
import shutil
import signal
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


class TestTimeout(BaseException):
    """Raised from SIGALRM; a BaseException so tests cannot swallow it."""


class T:
    """Per-test fixture: a temporary directory and LIFO cleanups."""

    def __init__(self, tmp):
        self.tmp = tmp
        self._cleanups = []

    def defer(self, fn, *args):
        self._cleanups.append((fn, args))

    def cleanup(self):
        """Run every cleanup; return the first error (or None)."""
        first = None
        while self._cleanups:
            fn, args = self._cleanups.pop()
            try:
                fn(*args)
            except Exception as e:  # keep cleaning, report the first
                if first is None:
                    first = e
        return first


def _alarm(signum, frame):
    raise TestTimeout()


def _raiser(exc):
    def test(t):
        raise exc
    return test


def discover(filters):
    tests = []
    for path in sorted(glob.glob(os.path.join(HERE, "t[0-9][0-9]_*.py"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(stem, path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception as e:  # a broken file is a failure, not a crash
            tests.append(("%s::<import>" % stem, _raiser(e)))
            continue
        fns = [f for n, f in vars(mod).items()
               if n.startswith("test_") and inspect.isfunction(f)
               and f.__module__ == stem]
        fns.sort(key=lambda f: f.__code__.co_firstlineno)
        for f in fns:
            name = "%s::%s" % (stem, f.__name__)
            if not filters or any(x in name for x in filters):
                tests.append((name, f))
    return tests


def reason_of(e):
    if isinstance(e, TestTimeout):
        return "timed out"
    text = str(e) or e.__class__.__name__
    if isinstance(e, AssertionError):
        tb = traceback.extract_tb(e.__traceback__)
        where = next((fr for fr in reversed(tb)
                      if os.path.basename(fr.filename).startswith("t")),
                     tb[-1] if tb else None)
        if where:
            text = "%s (%s:%d)" % (text, os.path.basename(where.filename),
                                   where.lineno)
        return text
    return "%s: %s" % (e.__class__.__name__, text)


def run_one(name, fn, root, limit):
    tmp = tempfile.mkdtemp(prefix=name.replace("::", "-") + "-", dir=root)
    t = T(tmp)
    verdict, why = "PASS", ""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    try:
        fn(t)
    except harness.Skip as e:
        verdict, why = "SKIP", str(e)
    except (Exception, TestTimeout) as e:
        verdict, why = "FAIL", reason_of(e)
        if os.environ.get("E2E_VERBOSE"):
            traceback.print_exc()
    finally:
        signal.alarm(limit)
        try:
            err = t.cleanup()
        except TestTimeout:
            err = TestTimeout()
        signal.alarm(0)
    if err is not None and verdict != "FAIL":
        verdict, why = "FAIL", "cleanup: " + reason_of(err)
    elif err is not None:       # e.g. egressd died: say so too
        why += "; cleanup: " + reason_of(err)
    return verdict, why


def main(argv):
    filters = argv[1:]
    limit = int(os.environ.get("E2E_TIMEOUT", "60"))
    root = tempfile.mkdtemp(prefix="egressd-e2e-")
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    try:
        for name, fn in discover(filters):
            verdict, why = run_one(name, fn, root, limit)
            counts[verdict] += 1
            line = "%s %s" % (verdict, name)
            if why:
                line += ": " + why.replace("\n", " | ")[:2000]
            print(line, flush=True)
    finally:
        if os.environ.get("E2E_KEEP"):
            print("# kept %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    summary = "e2e: %d passed, %d failed" % (counts["PASS"], counts["FAIL"])
    if counts["SKIP"]:
        summary += ", %d skipped" % counts["SKIP"]
    print(summary)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
