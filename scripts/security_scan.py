"""Security scan of the addon's Python: bandit, and pylint-odoo's security checks.

usage: security_scan.py [--self-test-only] [PATH ...]   (default: order_management)

Every finding fails the scan unless `.security-allowlist` (at the repository's
root) lists it with the reason it is safe. An allow-list entry that matches
nothing fails the scan too, so that the list only holds what is still there.
Inline `# nosec` comments are ignored, and a `# pylint: disable=` of a
security check is itself a finding (pylint-odoo says nothing of what such a
comment hides): the allow-list is the one place where a finding is accepted.

Before scanning, the scan checks that it can fail: a file holding
`eval(input())` must be reported by both tools as an unexplained finding.

Run with the Python that has the pinned bandit and pylint-odoo
(`.pre-commit-config.yaml`, hook `security-scan`).
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / ".security-allowlist"
DEFAULT_PATHS = ["order_management"]

# pylint-odoo and pylint checks that concern security: SQL built from strings,
# code run from text, outside requests that can hang, assets from a CDN.
PYLINT_CHECKS = [
    "sql-injection",
    "eval-used",
    "exec-used",
    "external-request-timeout",
    "manifest-external-assets",
]

# Their message ids, which an inline disable may name instead.
PYLINT_CHECK_IDS = {
    "E8103": "sql-injection",
    "W0123": "eval-used",
    "W0122": "exec-used",
    "E8106": "external-request-timeout",
    "W8162": "manifest-external-assets",
}
INLINE_DISABLE = re.compile(r"pylint:\s*disable(?:-next)?\s*=\s*([\w\s,-]+)")

# bandit tests left out everywhere: B404 only says that `subprocess` is
# imported; each call made with it is still checked (B602 to B607).
BANDIT_SKIPPED = ["B404"]

# In the tests, asserts are how tests check, and the passwords are those of
# throw-away test users.
BANDIT_SKIPPED_IN_TESTS = ["B101", "B105", "B106"]


class Finding:
    def __init__(self, tool, check, path, line, message):
        self.tool = tool
        self.check = check
        self.path = path
        self.line = line
        self.message = message
        self.code = _source_line(path, line)

    @property
    def key(self):
        return (f"{self.tool}:{self.check}", self.path, self.code)

    def __str__(self):
        return (
            f"{self.path}:{self.line}: {self.tool}:{self.check} {self.message}\n"
            f"    {self.code}\n"
            f"    allow-list form: {self.tool}:{self.check} {self.path} "
            f"| {self.code} | <why it is safe>"
        )


def _source_line(path, line):
    try:
        lines = Path(ROOT, path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _relative(path):
    absolute = Path(ROOT, path).resolve()
    try:
        return str(absolute.relative_to(ROOT))
    except ValueError:
        return str(absolute)


def read_allowlist(path=ALLOWLIST):
    """Return {(tool:check, path, code): reason}; refuse an entry without a
    reason or in another form, naming its line."""
    entries = {}
    if not path.exists():
        return entries
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        # The flagged line may hold " | " itself: the reason follows the last.
        head, _bar, rest = text.partition(" | ")
        parts = [head, *rest.rsplit(" | ", 1)]
        parts = [part.strip() for part in parts]
        head = parts[0].split(None, 1)
        if len(parts) != 3 or len(head) != 2 or not parts[1] or not parts[2]:
            raise SystemExit(
                f"{path.name}:{number}: expected "
                "'tool:check path | flagged line | why it is safe'"
            )
        entries[(head[0], head[1], parts[1])] = parts[2]
    return entries


def run_bandit(paths):
    runs = []
    for path in paths:
        target = Path(ROOT, path)
        tests = target / "tests"
        if tests.is_dir():
            runs.append((target, ["--exclude", str(tests)], BANDIT_SKIPPED))
            runs.append((tests, [], BANDIT_SKIPPED + BANDIT_SKIPPED_IN_TESTS))
        else:
            runs.append((target, [], BANDIT_SKIPPED))

    findings = []
    for target, options, skipped in runs:
        command = [
            sys.executable,
            "-m",
            "bandit",
            "--quiet",
            "--format=json",
            "--recursive",
            "--ignore-nosec",
            "--skip=" + ",".join(skipped),
            *options,
            str(target),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode not in (0, 1):
            raise SystemExit(f"bandit failed:\n{result.stderr}")
        report = json.loads(result.stdout)
        if report.get("errors"):
            raise SystemExit(f"bandit could not read: {report['errors']}")
        for issue in report["results"]:
            findings.append(
                Finding(
                    "bandit",
                    issue["test_id"],
                    _relative(issue["filename"]),
                    issue["line_number"],
                    issue["issue_text"],
                )
            )
    return findings


def run_pylint(paths):
    command = [
        sys.executable,
        "-m",
        "pylint",
        "--rcfile=/dev/null",
        "--load-plugins=pylint_odoo",
        "--valid-odoo-versions=18.0",
        "--disable=all",
        "--enable=" + ",".join(PYLINT_CHECKS),
        "--output-format=json",
        "--score=n",
        "--persistent=n",
        *[str(Path(ROOT, p)) for p in paths],
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    # pylint's exit status is a bit field; 1 (fatal) and 32 (usage) are errors.
    if result.returncode & 33:
        raise SystemExit(f"pylint failed:\n{result.stdout}{result.stderr}")
    return [
        Finding(
            "pylint",
            message["symbol"],
            _relative(message["path"]),
            message["line"],
            message["message"],
        )
        for message in json.loads(result.stdout or "[]")
    ]


def find_inline_disables(paths):
    """Return the `# pylint: disable=` comments that switch a security check
    off (pylint does not report the findings they hide)."""
    names = {name: name for name in PYLINT_CHECKS} | PYLINT_CHECK_IDS
    findings = []
    for path in paths:
        target = Path(ROOT, path)
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for file in files:
            lines = file.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, 1):
                for pragma in INLINE_DISABLE.finditer(line):
                    for name in re.split(r"[\s,]+", pragma[1].strip()):
                        if name in names:
                            findings.append(
                                Finding(
                                    "pylint",
                                    f"disabled-{names[name]}",
                                    _relative(file),
                                    number,
                                    "a security check switched off inline",
                                )
                            )
    return findings


def scan(paths, allowlist, report_stale=True):
    """Return the lines to print for what is neither clean nor explained."""
    findings = run_bandit(paths) + run_pylint(paths) + find_inline_disables(paths)
    problems = [str(f) for f in findings if f.key not in allowlist]
    if report_stale:  # only a scan of the whole addon sees every entry
        used = {f.key for f in findings}
        problems += [
            f"{ALLOWLIST.name}: matches nothing any more, remove it: "
            f"{check} {path} | {code}"
            for (check, path, code) in allowlist
            if (check, path, code) not in used
        ]
    allowed = sum(1 for f in findings if f.key in allowlist)
    return problems, len(findings), allowed


def self_test(allowlist):
    """Check that an unexplained `eval(input())` fails the scan, per tool."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp, "probe.py")
        probe.write_text("eval(input())\n", encoding="utf-8")
        problems, _found, _allowed = scan([str(probe)], allowlist, report_stale=False)
    expected = {"bandit:B307", "pylint:eval-used"}
    missed = {check for check in expected if not any(check in p for p in problems)}
    if missed:
        print(f"security scan: self-test failed, eval(input()) not caught by {missed}")
        return False
    print("security scan: self-test ok, an unexplained eval(input()) fails the scan")
    return True


def main(argv):
    only_self_test = "--self-test-only" in argv
    paths = [a for a in argv if not a.startswith("--")] or DEFAULT_PATHS
    allowlist = read_allowlist()
    if not self_test(allowlist):
        return 1
    if only_self_test:
        return 0

    problems, found, allowed = scan(
        paths, allowlist, report_stale=paths == DEFAULT_PATHS
    )
    for problem in problems:
        print(problem)
    print(
        f"security scan: {found} findings, {allowed} explained in "
        f"{ALLOWLIST.name}, {len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
