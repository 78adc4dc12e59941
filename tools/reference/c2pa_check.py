"""Validates reel's content credentials with the C2PA reference library (c2pa-python), as an
independent reader: every file given must be valid apart from its untrusted local root, and
every file after --tampered must be reported invalid.

    python -m venv .venv-c2pa && .venv-c2pa/bin/pip install c2pa-python
    .venv-c2pa/bin/python tools/reference/c2pa_check.py out.mp4 out.png --tampered bad.mp4
"""

import json
import sys

import c2pa


def state(path):
    with c2pa.Reader(path) as reader:
        report = json.loads(reader.json())
    codes = [s["code"] for s in report.get("validation_status") or []]
    return report.get("validation_state"), codes


def main(args):
    failures = 0
    expect_valid = True
    print(f"c2pa-python {c2pa.sdk_version()}")
    for arg in args:
        if arg == "--tampered":
            expect_valid = False
            continue
        try:
            validation, codes = state(arg)
        except Exception as e:  # a reader that refuses the file reports it so
            validation, codes = "unreadable", [str(e)]
        problems = [c for c in codes if c != "signingCredential.untrusted"]
        ok = (validation == "Valid" and not problems) if expect_valid else (validation == "Invalid" or problems)
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {arg}: {validation} {codes}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
