#!/usr/bin/env python3
"""portcullis against a `skopeo inspect --config` loop over images in a local registry.

What a user would script today to gate many images is one `skopeo inspect --config` per image.
This script starts a real registry (Debian's `docker-registry`) on 127.0.0.1 with a temporary
directory, builds N distinct images daemonless (`umoci`), pushes them (`skopeo copy`), then
times, in interleaved rounds (so that load from other processes hits both sides alike):
  - `portcullis check --image-list FILE` over all of them (one process, concurrent fetches);
  - the same with `--jobs 1` (no concurrency), to show where the time goes;
  - portcullis on the first image alone (the fixed cost of one process);
  - a loop of `skopeo inspect --config` (one process per image, sequential),
and prints medians of wall time and CPU time (portcullis's, and the registry's while serving
it) and its garbage collections, peak memory (from a separate run under GNU time) and the
ratios, and what the registry spends its CPU on (a CPU profile from its Go pprof endpoint, taken
while it serves portcullis runs). Last, as a diagnosis and not the headline, the same comparison with the registry's Go
garbage collector relaxed (GOGC=400), to show how much of what is left is the registry's own
work. Every run fetches and
verifies every manifest and config: nothing is cached between runs. Installs what is missing
(apt). Traffic goes to loopback only.

Usage: bench/vs_skopeo.py [--images N] [--runs R] [--skopeo-runs S] [--portcullis BINARY]
"""

import argparse
import collections
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = {"docker-registry": "docker-registry", "skopeo": "skopeo", "umoci": "umoci"}
TICK = os.sysconf("SC_CLK_TCK")


def ensure_tools():
    missing = [pkg for cmd, pkg in TOOLS.items() if not shutil.which(cmd)]
    if missing:
        print(f"installing {' '.join(missing)} (apt)", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(work, port=None, env=None):
    """The registry as Debian packages it (/etc/docker/registry/config.yml: in-memory blob
    descriptor cache, default logging, the nosniff header) without its htpasswd auth, storing in
    `work` and listening on loopback. GODEBUG=gctrace=1 makes it log each garbage collection to
    stderr (one line per collection, no other effect), which `gc_count` reads. Its debug
    listener (Go's pprof, idle unless asked) serves `profile_registry`."""
    port = port or free_port()
    debug_port = free_port()
    config = os.path.join(work, "registry.yml")
    with open(config, "w") as f:
        f.write(
            "version: 0.1\nlog:\n  fields:\n    service: registry\nstorage:\n  cache:\n"
            "    blobdescriptor: inmemory\n  filesystem:\n"
            f"    rootdirectory: {work}/storage\nhttp:\n  addr: 127.0.0.1:{port}\n"
            f"  debug:\n    addr: 127.0.0.1:{debug_port}\n"
            "  headers:\n    X-Content-Type-Options: [nosniff]\n"
        )
    log = open(os.path.join(work, "registry.log"), "w")
    proc = subprocess.Popen(["docker-registry", "serve", config], stdout=subprocess.DEVNULL, stderr=log,
                            env={**os.environ, "GODEBUG": "gctrace=1", **(env or {})})
    proc.log_path = log.name
    proc.debug_address = f"127.0.0.1:{debug_port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("docker-registry did not start")


def gc_count(registry):
    """Garbage collections the registry has logged so far (GODEBUG=gctrace=1)."""
    with open(registry.log_path, errors="replace") as f:
        return sum(1 for line in f if line.startswith("gc "))


# Where the registry's CPU goes, from a Go CPU profile: each sample goes to the first cause
# found on its stack, in this order.
CAUSES = [
    ("garbage collection", ("runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.bgsweep",
                            "runtime.bgscavenge", "runtime.gcStart")),
    ("building its URL router again for every request (v2.NewURLBuilderFromRequest)",
     ("api/v2.NewURLBuilderFromRequest", "api/v2.NewURLBuilder")),
    ("allocating and clearing a 4 MiB read buffer for every blob (storage.fileReader)",
     ("storage.(*fileReader).reader",)),
]


def profile_registry(registry, seconds, workload):
    """Runs `workload` repeatedly for `seconds` while the registry's pprof endpoint takes a CPU
    profile; returns [(cause, share)] over the samples, the rest as "everything else"."""
    import gzip
    import threading
    import urllib.request
    result = {}

    def fetch():
        url = f"http://{registry.debug_address}/debug/pprof/profile?seconds={seconds}"
        result["data"] = urllib.request.urlopen(url, timeout=seconds + 30).read()

    thread = threading.Thread(target=fetch)
    thread.start()
    time.sleep(0.2)
    deadline = time.monotonic() + seconds - 0.4
    while time.monotonic() < deadline:
        workload()
    thread.join()
    stacks = pprof_stacks(gzip.decompress(result["data"]))
    totals = collections.Counter()
    for names, value in stacks:
        cause = next((label for label, frames in CAUSES
                      if any(any(name.endswith(f) for f in frames) for name in names)),
                     "everything else (HTTP, routing, logging, storage)")
        totals[cause] += value
    total = sum(totals.values()) or 1
    order = [label for label, _ in CAUSES] + ["everything else (HTTP, routing, logging, storage)"]
    return [(label, totals[label] / total) for label in order]


def pprof_stacks(data):
    """(function names leaf first, CPU nanoseconds) per sample of a pprof `Profile` message
    (protobuf: sample = 2, location = 4, function = 5, string_table = 6)."""
    def varint(b, i):
        shift = result = 0
        while True:
            byte = b[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result, i

    def fields(b):
        i = 0
        while i < len(b):
            key, i = varint(b, i)
            kind = key & 7
            if kind == 0:
                value, i = varint(b, i)
            elif kind == 2:
                length, i = varint(b, i)
                value, i = b[i:i + length], i + length
            elif kind == 1:
                value, i = b[i:i + 8], i + 8
            elif kind == 5:
                value, i = b[i:i + 4], i + 4
            else:
                raise ValueError(f"pprof: wire type {kind}")
            yield key >> 3, kind, value

    def ints(kind, value):
        if kind == 0:
            return [value]
        out, i = [], 0
        while i < len(value):
            n, i = varint(value, i)
            out.append(n)
        return out

    samples, locations, functions, strings = [], {}, {}, []
    for number, kind, value in fields(data):
        if number == 2:
            ids, values = [], []
            for n, k, v in fields(value):
                if n == 1:
                    ids += ints(k, v)
                elif n == 2:
                    values += ints(k, v)
            samples.append((ids, values[-1] if values else 0))
        elif number == 4:
            location, lines = None, []
            for n, k, v in fields(value):
                if n == 1:
                    location = v
                elif n == 4:
                    lines += [fv for fn, _, fv in fields(v) if fn == 1]
            locations[location] = lines
        elif number == 5:
            function = name = None
            for n, k, v in fields(value):
                if n == 1:
                    function = v
                elif n == 2:
                    name = v
            functions[function] = name
        elif number == 6:
            strings.append(value.decode(errors="replace"))
    return [([strings[functions[f]] for loc in ids for f in locations.get(loc, [])], value)
            for ids, value in samples]


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def push_images(work, registry, count):
    layout = os.path.join(work, "layout")
    run(["umoci", "init", "--layout", layout])
    run(["umoci", "new", "--image", f"{layout}:base"])
    refs = []
    for i in range(count):
        tag = f"img{i}"
        # Distinct configs, so that every image is its own digest (no cache hits).
        run(["umoci", "config", "--image", f"{layout}:base", "--tag", tag,
             f"--config.user={1000 + i}", f"--config.label=bench.index={i}",
             "--config.exposedports=8080/tcp"])
        ref = f"{registry}/bench/app{i % 10}:v{i}"
        run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", f"oci:{layout}:{tag}", f"docker://{ref}"])
        refs.append(ref)
    return refs


def cpu_seconds(pid):
    """User + system CPU time a process has used so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_mib(cmd):
    """Peak RSS of a command, through GNU time: a process spawned from Python directly would
    report Python's own peak (the memory it was forked from) when that is higher."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        lines = [line for line in open(t.name).read().splitlines() if line.strip().isdigit()]
    return int(lines[-1]) / 1024 if lines else 0.0


class Run:
    """One process: wall time and its own CPU time (from wait4, no wrapper process), and the
    registry's CPU time meanwhile (and, with `gcs`, its garbage collections)."""

    def __init__(self, cmd, registry, gcs=False):
        registry_pid = registry.pid
        gcs_before = gc_count(registry) if gcs else 0
        with tempfile.TemporaryFile() as err:
            registry_before = cpu_seconds(registry_pid)
            start = time.monotonic()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            self.wall = time.monotonic() - start
            self.registry_cpu = cpu_seconds(registry_pid) - registry_before
            proc.returncode = self.code = os.waitstatus_to_exitcode(status)
            err.seek(0)
            self.stderr = err.read().decode(errors="replace")
        self.cpu = usage.ru_utime + usage.ru_stime
        if gcs:
            time.sleep(0.05)  # a collection running as the process ended logs when it finishes
            self.gcs = gc_count(registry) - gcs_before


class Loop:
    """A sequential loop of `skopeo inspect --config`, one process per image."""

    def __init__(self, refs, registry):
        gcs_before = gc_count(registry)
        runs = []
        for ref in refs:
            r = Run(skopeo_inspect(ref), registry)
            if r.code != 0:
                sys.exit(f"skopeo inspect failed: {r.stderr}")
            runs.append(r)
        self.wall = sum(r.wall for r in runs)
        self.cpu = sum(r.cpu for r in runs)
        self.registry_cpu = sum(r.registry_cpu for r in runs)
        self.gcs = gc_count(registry) - gcs_before


def skopeo_inspect(ref):
    return ["skopeo", "inspect", "--config", "--tls-verify=false", f"docker://{ref}"]


def median(runs, attr):
    return statistics.median(getattr(r, attr) for r in runs)


def spread(runs):
    walls = sorted(r.wall for r in runs)
    return f"{walls[0]:.2f}-{walls[-1]:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="portcullis runs per variant (median)")
    parser.add_argument("--skopeo-runs", type=int, default=3, help="whole skopeo loops (median)")
    parser.add_argument("--portcullis", metavar="BINARY", help="time this binary instead of building one")
    args = parser.parse_args()

    ensure_tools()
    portcullis = args.portcullis
    if not portcullis:
        subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
        portcullis = os.path.join(ROOT, "target", "release", "portcullis")
    work = tempfile.mkdtemp(prefix="portcullis-bench-images-")
    registry, address = start_registry(work)
    try:
        t = time.monotonic()
        refs = push_images(work, address, args.images)
        print(f"pushed {len(refs)} images to {address} in {time.monotonic() - t:.1f} s")
        image_list = os.path.join(work, "images.txt")
        with open(image_list, "w") as f:
            f.writelines(f"docker://{r}\n" for r in refs)
        first_image = os.path.join(work, "first.txt")
        with open(first_image, "w") as f:
            f.write(f"docker://{refs[0]}\n")
        policy = os.path.join(work, "policy.yaml")
        with open(policy, "w") as f:
            f.write("version: 1\n")

        base = [portcullis, "check", "--format", "json", "--policy", policy, "--insecure-registry", address]

        def check(extra, image_file=image_list):
            r = Run(base + ["--image-list", image_file] + extra, registry, gcs=True)
            if r.code not in (0, 1):
                sys.exit(f"portcullis failed ({r.code}): {r.stderr}")
            return r

        # Warm-up (binaries and registry files into the page cache), not timed: peak memory.
        check([])
        peaks = {
            "skopeo": peak_mib(skopeo_inspect(refs[0])),
            "jobs1": peak_mib(base + ["--image-list", image_list, "--jobs", "1"]),
            "default": peak_mib(base + ["--image-list", image_list]),
        }

        load_before = os.getloadavg()[0]
        default, jobs1, single, loops = [], [], [], []
        for round_ in range(max(args.runs, args.skopeo_runs)):
            if round_ < args.runs:
                default.append(check([]))
                jobs1.append(check(["--jobs", "1"]))
                single.append(check([], first_image))
            if round_ < args.skopeo_runs:
                loops.append(Loop(refs, registry))

        n = len(refs)
        cores = len(os.sched_getaffinity(0))
        s_wall, p_wall, p1_wall = median(loops, "wall"), median(default, "wall"), median(jobs1, "wall")
        print(f"\n{n} images (manifest + config each, every one a distinct digest); medians of "
              f"{args.runs} portcullis runs and {args.skopeo_runs} skopeo loops, interleaved; {cores} cores")
        print(f"  skopeo inspect --config loop  {s_wall:7.2f} s  ({s_wall / n * 1000:6.1f} ms/image)  "
              f"peak {peaks['skopeo']:6.1f} MiB per process   [{spread(loops)} s]")
        print(f"  portcullis --jobs 1           {p1_wall:7.2f} s  ({p1_wall / n * 1000:6.1f} ms/image)  "
              f"peak {peaks['jobs1']:6.1f} MiB   [{spread(jobs1)} s]")
        print(f"  portcullis (default --jobs 8) {p_wall:7.2f} s  ({p_wall / n * 1000:6.1f} ms/image)  "
              f"peak {peaks['default']:6.1f} MiB   [{spread(default)} s]")
        print(f"  portcullis is {s_wall / p_wall:.1f}x faster than the skopeo loop "
              f"({s_wall / p1_wall:.1f}x without concurrency)")

        registry_cpu = median(default, "registry_cpu")
        p_cpu = median(default, "cpu")
        floor = (registry_cpu + p_cpu) / cores
        print(f"\nwhere the time goes (measured in these runs; load average {load_before:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after):")
        print(f"  the registry spends {registry_cpu * 1000:.0f} ms of CPU serving one portcullis run "
              f"({registry_cpu / n * 1000:.1f} ms per image), portcullis {p_cpu * 1000:.0f} ms; on {cores} cores")
        print(f"    that is at least {floor * 1000:.0f} ms of wall time even with nothing else running, "
              f"so {s_wall / floor:.1f}x the skopeo loop at most")
        print(f"  one image alone takes portcullis {median(single, 'wall') * 1000:.1f} ms "
              f"(process start, policy, registry check, 2 requests)")
        print(f"  each skopeo process takes {s_wall / n * 1000:.1f} ms: {median(loops, 'cpu') / n * 1000:.1f} ms "
              f"of its own CPU (start-up, a fresh connection, an API check) and "
              f"{median(loops, 'registry_cpu') / n * 1000:.1f} ms of the registry's")
        print("  so portcullis starts once, reuses one connection pool, checks the registry once, and")
        print("  keeps the registry busy with concurrent requests: what is left is the registry's work")
        print(f"  much of that work is garbage: the registry collected {median(default, 'gcs'):.0f} times in one "
              f"portcullis run and {median(loops, 'gcs'):.0f} times in one skopeo loop,")
        print("    because its blob reader (distribution's fileReader) allocates and clears a 4 MiB buffer for")
        print("    every blob it serves, here a config of about 300 bytes; its heap is a few MiB, so every")
        print("    config served nearly fills the next collection's budget (portcullis's concurrent fetches")
        print("    hold several buffers at once, which raises that budget and halves the collections)")

        # A CPU profile of the registry while it serves portcullis runs: what its work is.
        causes = profile_registry(registry, 6, lambda: check([]))
        print("  the registry's CPU while serving portcullis runs, from its own CPU profile (Go pprof):")
        for label, share in causes:
            print(f"    {share:6.1%}  {label}")
        print("    all of it per request or per blob served: a client that needs each image's manifest and")
        print("    config (2 requests) can only spread it over the cores, which the floor above assumes")

        # The same images, the registry restarted with its Go garbage collector relaxed: the 4 MiB
        # buffer per blob served makes it collect about once per config at GOGC=100; a registry
        # under real traffic, with a larger heap, collects far less often per request.
        registry.kill()
        registry.wait()
        registry, _ = start_registry(work, int(address.rsplit(":", 1)[1]), {"GOGC": "400"})
        check([])
        relaxed, relaxed_loops = [], []
        for round_ in range(max(args.runs, args.skopeo_runs)):
            if round_ < args.runs:
                relaxed.append(check([]))
            if round_ < args.skopeo_runs:
                relaxed_loops.append(Loop(refs, registry))
        r_wall, rs_wall = median(relaxed, "wall"), median(relaxed_loops, "wall")
        print(f"\nthe same, the registry restarted with GOGC=400 (its garbage collector relaxed; not the "
              f"headline figure):")
        print(f"  skopeo loop {rs_wall:.2f} s, portcullis {r_wall:.2f} s: {rs_wall / r_wall:.1f}x; the registry "
              f"spends {median(relaxed, 'registry_cpu') / n * 1000:.1f} ms of CPU per image (was "
              f"{registry_cpu / n * 1000:.1f}) and collects {median(relaxed, 'gcs'):.0f} times per portcullis run")
    finally:
        registry.kill()
        registry.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
