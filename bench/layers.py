#!/usr/bin/env python3
"""What reading image layers costs: `portcullis check` with a layer rule against decompressing
the same layers with `gzip -dc` / `zstd -dc`.

Builds (or, with `--work DIR`, reuses) one image of several layers, about 1 GB uncompressed
(`--size-mb`; `--small` is 96 MB): in each layer a mix of text files (log and source-like lines
drawn from a 64 MiB pool of random words, so compressors find no long repeats) and
incompressible random files, and a few planted secrets. Layers are written with Python's
`tarfile`, added with `umoci raw add-layer`, and pushed with `skopeo` to two local registries
(Debian's `docker-registry` on 127.0.0.1), one with gzip layers and one with zstd layers: one
registry per compression, because skopeo 1.9 reuses a blob the registry already has in another
compression. What each registry serves (the manifest's layer media types and the blobs' magic
bytes) is checked before anything is timed.

Then, for each compression, times
  - the decompressor over the registry's own blob files (`gzip -dc FILES > /dev/null`, one
    process), the floor for anything that reads every layer;
  - `portcullis check docker://… --policy P` with a policy that enables only the layer rule
    (`--rule`, default `secret-in-layer`; or your own `--policy`), which fetches, verifies and
    decompresses every layer and scans its files;
and prints wall and CPU time (wait4), MB/s (uncompressed layer bytes, 10^6, per second of wall
time and of CPU time), the ratio, and the peak RSS of each process (GNU time's %M). Medians of
`--runs` interleaved rounds. Traffic goes to loopback only.

The rule must be known to the binary: the script asks `portcullis rules` first and stops with
exit code 2 if it is not (`--baseline-only` times the decompressors alone).

Usage: bench/layers.py [--small | --size-mb N] [--layers N] [--runs R] [--work DIR]
                       [--rule NAME | --policy FILE] [--portcullis BINARY] [--baseline-only]
"""

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import vs_skopeo as vs  # noqa: E402

TOOLS = {"docker-registry": "docker-registry", "skopeo": "skopeo", "umoci": "umoci",
         "gzip": "gzip", "zstd": "zstd", "/usr/bin/time": "time"}
MB = 1_000_000
LAYER_TYPES = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
               "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}
MAGIC = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}
ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
# What the built images are; a reused work directory must match it.
IMAGE_VERSION = 1


def ensure_tools():
    missing = [pkg for cmd, pkg in TOOLS.items() if not shutil.which(cmd)]
    if missing:
        print(f"installing {' '.join(missing)} (apt)", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def known_rule(portcullis, rule):
    """Whether `portcullis rules` lists `rule` (by name, code or alias)."""
    out = subprocess.run([portcullis, "rules", "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return any(rule in (r["id"], r["name"], *r.get("aliases", [])) for r in json.loads(out))


# --- building the image ----------------------------------------------------------------------

WORDS = ("request response handler config server client error warning info debug trace user "
         "session token cache layer image build deploy service module import return function "
         "value string int bool self this true false none null path file read write open close "
         "status ok failed retry timeout connect upstream downstream metrics latency bytes").split()


def text_pool(rng, size):
    """`size` bytes of log and source-like lines of random words and numbers."""
    out = io.BytesIO()
    n = 0
    while out.tell() < size:
        words = " ".join(rng.choices(WORDS, k=rng.randint(4, 14)))
        if n % 3:
            out.write(f"2024-05-01T12:{n // 60 % 60:02d}:{n % 60:02d}Z INFO {words} id={rng.getrandbits(32)}\n"
                      .encode())
        else:
            out.write(f"    def {rng.choice(WORDS)}_{n}(self, {rng.choice(WORDS)}): return {words!r}\n".encode())
        n += 1
    return out.getvalue()[:size]


def secret_files(rng, layer):
    """A few files with secrets (random, in their formats), different in each layer."""
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    key_id = "AKIA" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=16))
    secret = "".join(rng.choices(alnum + "+/", k=40))
    token = "ghp_" + "".join(rng.choices(alnum, k=36))
    return {
        f"app{layer}/.aws/credentials":
            f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n".encode(),
        f"app{layer}/.env": f"GITHUB_TOKEN={token}\n".encode(),
    }


def write_layer(path, rng, pool, size, layer, text_share):
    """A layer tar of about `size` bytes: text files (slices of `pool`), random files, and
    `secret_files`."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))

        for name, data in secret_files(rng, layer).items():
            add(name, data)
        written, i = 0, 0
        text_budget = size * text_share
        while written < size:
            if written < text_budget:
                n = min(rng.randint(16 << 10, 4 << 20), len(pool))
                start = rng.randrange(0, len(pool) - n + 1)
                add(f"usr/share/app{layer}/src/f{i}.txt", pool[start:start + n])
            else:
                n = rng.randint(1 << 20, 16 << 20)
                add(f"usr/lib/app{layer}/blob{i}.bin", os.urandom(n))
            written += n
            i += 1


def build(work, size_mb, layers, text_share):
    """The OCI layout `work/layout:bench`; returns the layers' uncompressed sizes."""
    rng = random.Random(20240501)
    pool = text_pool(rng, 64 << 20)
    layout = os.path.join(work, "layout")
    shutil.rmtree(layout, ignore_errors=True)
    run(["umoci", "init", "--layout", layout])
    run(["umoci", "new", "--image", f"{layout}:bench"])
    sizes = []
    for layer in range(layers):
        path = os.path.join(work, f"layer-{layer}.tar")
        write_layer(path, rng, pool, size_mb * MB // layers, layer, text_share)
        sizes.append(os.path.getsize(path))
        run(["umoci", "raw", "add-layer", "--image", f"{layout}:bench", path])
        os.remove(path)
    run(["umoci", "config", "--image", f"{layout}:bench", "--os", "linux", "--architecture", "amd64",
         "--config.user=1000"])
    return sizes


# --- registries ------------------------------------------------------------------------------

def start(work, compression):
    """The registry for `compression`, storing in `work/<compression>/storage`."""
    d = os.path.join(work, compression)
    os.makedirs(d, exist_ok=True)
    proc, address = vs.start_registry(d)
    proc.storage = os.path.join(d, "storage")
    return proc, address


def push(work, address, compression):
    run(["skopeo", "copy", "--insecure-policy", "--quiet", "--dest-tls-verify=false",
         "--dest-compress-format", compression, f"oci:{os.path.join(work, 'layout')}:bench",
         f"docker://{address}/bench/app:1"])


def served_layers(address, storage, compression):
    """The blob files of the layers the registry serves, after checking the served media types
    and each blob's magic bytes are `compression`'s."""
    request = urllib.request.Request(f"http://{address}/v2/bench/app/manifests/1", headers={"Accept": ACCEPT})
    manifest = json.load(urllib.request.urlopen(request, timeout=30))
    files = []
    for layer in manifest["layers"]:
        if layer["mediaType"] != LAYER_TYPES[compression]:
            sys.exit(f"the {compression} registry serves a {layer['mediaType']} layer")
        hex_ = layer["digest"].split(":", 1)[1]
        path = os.path.join(storage, "docker/registry/v2/blobs/sha256", hex_[:2], hex_, "data")
        with open(path, "rb") as f:
            if not f.read(4).startswith(MAGIC[compression]):
                sys.exit(f"the {compression} registry's blob {hex_[:12]} is not {compression}")
        files.append(path)
    return files


# --- timing ----------------------------------------------------------------------------------

class Run:
    """One process: wall time and CPU time (wait4), and peak RSS through GNU time: a process
    forked from this one would report this one's peak (what it was forked from, here the text
    pool) when that is higher (see bench/vs_skopeo.py's peak_mib)."""

    def __init__(self, cmd, ok=(0,), registry=None):
        served_before = vs.cpu_seconds(registry.pid) if registry else 0.0
        with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r", suffix=".time") as peak:
            start = time.monotonic()
            proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", peak.name, *cmd],
                                    stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            self.wall = time.monotonic() - start
            code = os.waitstatus_to_exitcode(status)
            err.seek(0)
            stderr = err.read().decode(errors="replace")
            kib = [line for line in peak.read().splitlines() if line.strip().isdigit()]
        if code not in ok:
            sys.exit(f"{' '.join(cmd[:3])} … failed ({code}): {stderr[-2000:]}")
        self.cpu = usage.ru_utime + usage.ru_stime
        # What the registry spent serving this process (0 when none is given).
        self.served = vs.cpu_seconds(registry.pid) - served_before if registry else 0.0
        self.peak_mib = int(kib[-1]) / 1024 if kib else float("nan")


def row(label, runs, total):
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    peak = max(r.peak_mib for r in runs)
    print(f"  {label:<26} {wall:7.2f} s {total / MB / wall:8.0f} MB/s   cpu {cpu:7.2f} s "
          f"{total / MB / cpu:6.0f} MB/cpu-s   peak {peak:7.1f} MiB")
    return wall


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="uncompressed layer bytes, in MB")
    parser.add_argument("--small", action="store_true", help="96 MB instead")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--text-share", type=float, default=0.6, help="share of text (the rest random)")
    parser.add_argument("--runs", type=int, default=1, help="rounds (medians)")
    parser.add_argument("--work", metavar="DIR", help="build here, or reuse what a previous run built here")
    parser.add_argument("--rule", default="secret-in-layer", help="the layer rule the policy enables")
    parser.add_argument("--policy", metavar="FILE", help="use this policy instead of one enabling --rule")
    parser.add_argument("--portcullis", metavar="BINARY", default=os.path.join(ROOT, "target", "release", "portcullis"))
    parser.add_argument("--baseline-only", action="store_true", help="time the decompressors only")
    args = parser.parse_args()
    size_mb = 96 if args.small else args.size_mb

    ensure_tools()
    if not args.baseline_only:
        if not os.access(args.portcullis, os.X_OK):
            sys.exit(f"no portcullis binary at {args.portcullis}: `cargo build --release` or --portcullis")
        if not args.policy and not known_rule(args.portcullis, args.rule):
            print(f"error: {args.portcullis} has no rule `{args.rule}` (`portcullis rules` does not list "
                  f"it): build a binary with the layer rule, or name one with --rule, or pass --policy",
                  file=sys.stderr)
            sys.exit(2)

    work = args.work or tempfile.mkdtemp(prefix="portcullis-bench-layers-")
    os.makedirs(work, exist_ok=True)
    stamp_path = os.path.join(work, "built.json")
    wanted = {"version": IMAGE_VERSION, "size_mb": size_mb, "layers": args.layers, "text_share": args.text_share}
    stamp = json.load(open(stamp_path)) if os.path.exists(stamp_path) else {}
    reuse = {k: stamp.get(k) for k in wanted} == wanted
    if not reuse:
        for d in ("gzip", "zstd"):
            shutil.rmtree(os.path.join(work, d), ignore_errors=True)
        t = time.monotonic()
        sizes = build(work, size_mb, args.layers, args.text_share)
        print(f"built {len(sizes)} layers, {sum(sizes) / MB:.0f} MB uncompressed, in {time.monotonic() - t:.0f} s")
    registries = {c: start(work, c) for c in ("gzip", "zstd")}
    try:
        if not reuse:
            t = time.monotonic()
            for compression, (_, address) in registries.items():
                push(work, address, compression)
            print(f"pushed gzip and zstd variants in {time.monotonic() - t:.0f} s")
            json.dump({**wanted, "sizes": sizes}, open(stamp_path, "w"))
        else:
            sizes = stamp["sizes"]
            print(f"reusing the images in {work}")
        total = sum(sizes)
        blobs = {c: served_layers(address, proc.storage, c) for c, (proc, address) in registries.items()}
        compressed = {c: sum(os.path.getsize(p) for p in files) for c, files in blobs.items()}
        print(f"{len(sizes)} layers, {total / MB:.0f} MB uncompressed ({args.text_share:.0%} text, the rest random); "
              f"gzip blobs {compressed['gzip'] / MB:.0f} MB, zstd blobs {compressed['zstd'] / MB:.0f} MB; "
              f"{len(os.sched_getaffinity(0))} cores, load {os.getloadavg()[0]:.1f}")

        policy = args.policy
        if not policy and not args.baseline_only:
            policy = os.path.join(work, "policy.yaml")
            with open(policy, "w") as f:
                f.write(f"version: 1\nextends: none\nrules:\n  {args.rule}: on\n")

        def check(compression):
            # 1: the rule found the planted secrets.
            proc, address = registries[compression]
            return Run([args.portcullis, "check", "--format", "json", "--policy", policy,
                        "--insecure-registry", address, f"docker://{address}/bench/app:1"], ok=(0, 1),
                       registry=proc)

        def fetch(compression):
            # The floor the server sets: the same blobs, only downloaded (curl, one process).
            proc, address = registries[compression]
            urls = []
            for path in blobs[compression]:
                digest = "sha256:" + os.path.basename(os.path.dirname(path))
                urls += ["-o", "/dev/null", f"http://{address}/v2/bench/app/blobs/{digest}"]
            return Run(["curl", "-sSf", *urls], registry=proc)

        if not args.baseline_only:
            # Once, untimed (and warming the page cache): what the rule found. Without findings
            # the rule did not read the layers, and its time says nothing about reading them.
            for compression, (_, address) in registries.items():
                out = subprocess.run([args.portcullis, "check", "--format", "json", "--policy", policy,
                                      "--insecure-registry", address, f"docker://{address}/bench/app:1"],
                                     capture_output=True, text=True)
                if out.returncode not in (0, 1):
                    sys.exit(f"portcullis failed ({out.returncode}): {out.stderr[-2000:]}")
                found = [f for f in json.loads(out.stdout)["findings"] if args.rule in (f["rule_id"], f["rule"])]
                print(f"{compression}: {len(found)} findings of {args.rule} "
                      f"({3 * args.layers} secrets planted, 3 in each layer)")
                if not found:
                    print(f"  warning: no finding of {args.rule}: it may not read layers", file=sys.stderr)

        def hashed(compression):
            # The floor for what the gate must do besides searching: decompress, and SHA-256 both
            # the blobs (their digests) and the tar (its diff_id), with coreutils' sha256sum.
            files = " ".join(blobs[compression])
            return Run(["sh", "-c", f"sha256sum {files} >/dev/null & {compression} -dc {files} | sha256sum >/dev/null; wait"])

        times = {c: {"decompress": [], "portcullis": [], "fetch": [], "hashed": []} for c in registries}
        for _ in range(args.runs):
            for compression in registries:
                times[compression]["decompress"].append(Run([compression, "-dc", *blobs[compression]]))
                times[compression]["fetch"].append(fetch(compression))
                times[compression]["hashed"].append(hashed(compression))
                if not args.baseline_only:
                    times[compression]["portcullis"].append(check(compression))

        for compression in registries:
            print(f"\n{compression} layers (medians of {args.runs}):")
            floor = row(f"{compression} -dc", times[compression]["decompress"], total)
            fetched = times[compression]["fetch"]
            served = statistics.median(r.served for r in fetched)
            row("curl (download only)", fetched, total)
            hash_floor = row(f"{compression} -dc + 2x sha256sum", times[compression]["hashed"], total)
            print(f"  {'':<26} the registry spends {served:.2f} s of CPU serving the blobs")
            if not args.baseline_only:
                runs = times[compression]["portcullis"]
                wall = row(f"portcullis ({args.rule if not args.policy else 'policy'})", runs, total)
                cpu = statistics.median(r.cpu for r in runs)
                decompress_cpu = statistics.median(r.cpu for r in times[compression]["decompress"])
                print(f"  portcullis takes {wall / floor:.2f}x the time of {compression} -dc alone "
                      f"(throughput {floor / wall:.2f}x); its own CPU is {cpu / decompress_cpu:.2f}x the "
                      f"decompressor's, on a machine whose 2 cores it shares with the registry "
                      f"({statistics.median(r.served for r in runs):.2f} s of registry CPU per run)")
                print(f"  against decompressing and hashing alone: {hash_floor / wall:.2f}x the throughput")
    finally:
        for proc, _ in registries.values():
            proc.kill()
            proc.wait()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
