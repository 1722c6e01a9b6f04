#!/usr/bin/env python3
"""portcullis against a `skopeo inspect --config` loop over images in a local registry.

What a user would script today to gate many images is one `skopeo inspect --config` per image.
This script starts a real registry (Debian's `docker-registry`) on 127.0.0.1 with a temporary
directory, builds N distinct images daemonless (`umoci`), pushes them (`skopeo copy`), then
times:
  - `portcullis check --image-list FILE` over all of them (one process, concurrent fetches);
  - the same with `--jobs 1` (no concurrency), to show where the time goes;
  - a loop of `skopeo inspect --config` (one process per image, sequential),
and prints wall time, peak memory and the ratios. Installs what is missing (apt).
Traffic goes to loopback only.

Usage: bench/vs_skopeo.py [--images N]
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = {"docker-registry": "docker-registry", "skopeo": "skopeo", "umoci": "umoci"}


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


def start_registry(work):
    port = free_port()
    config = os.path.join(work, "registry.yml")
    with open(config, "w") as f:
        f.write(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {work}/storage\nhttp:\n  addr: 127.0.0.1:{port}\n"
        )
    proc = subprocess.Popen(["docker-registry", "serve", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("docker-registry did not start")


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


def timed(cmd, cwd=None):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        start = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd, cwd=cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wall = time.monotonic() - start
        lines = [l for l in open(t.name).read().splitlines() if l.strip().isdigit()]
    return proc, wall, (int(lines[-1]) if lines else 0) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100)
    args = parser.parse_args()

    ensure_tools()
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
        policy = os.path.join(work, "policy.yaml")
        with open(policy, "w") as f:
            f.write("version: 1\n")

        base = [portcullis, "check", "--format", "json", "--policy", policy,
                "--insecure-registry", address, "--image-list", image_list]
        p, p_wall, p_mem = timed(base)
        if p.returncode not in (0, 1):
            sys.exit(f"portcullis failed ({p.returncode}): {p.stderr.decode()}")
        _, p1_wall, p1_mem = timed(base + ["--jobs", "1"])

        s_wall = 0.0
        s_mem = 0.0
        for ref in refs:
            proc, wall, mem = timed(["skopeo", "inspect", "--config", "--tls-verify=false", f"docker://{ref}"])
            if proc.returncode != 0:
                sys.exit(f"skopeo inspect failed: {proc.stderr.decode()}")
            s_wall += wall
            s_mem = max(s_mem, mem)

        n = len(refs)
        print(f"\n{n} images (manifest + config each, every one a distinct digest)")
        print(f"  skopeo inspect --config loop  {s_wall:7.2f} s  ({s_wall / n * 1000:6.1f} ms/image)  peak {s_mem:6.1f} MiB per process")
        print(f"  portcullis --jobs 1           {p1_wall:7.2f} s  ({p1_wall / n * 1000:6.1f} ms/image)  peak {p1_mem:6.1f} MiB")
        print(f"  portcullis (default --jobs 8) {p_wall:7.2f} s  ({p_wall / n * 1000:6.1f} ms/image)  peak {p_mem:6.1f} MiB")
        print(f"  portcullis is {s_wall / p_wall:.1f}x faster than the skopeo loop "
              f"({s_wall / p1_wall:.1f}x without concurrency)")
        print("\nwhere the time goes: the skopeo loop pays a process start, a fresh connection and an")
        print("API version check per image; portcullis starts once, reuses one connection pool, checks")
        print("the registry once, and fetches manifests and configs concurrently (the --jobs 1 line")
        print("shows what concurrency adds on top of doing it in one process).")
    finally:
        registry.kill()
        registry.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
