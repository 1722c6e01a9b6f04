#!/usr/bin/env python3
"""What trust-required costs: N signed images in a local registry, checked in one run with and
without `trust-required`.

Starts Debian's `docker-registry` on 127.0.0.1 (as bench/vs_skopeo.py does, whose helpers this
reuses), pushes N distinct images (umoci, skopeo), signs each with a key in cosign's `.sig`
format using the independent test signer (tests/trust/signer.py, Python's `cryptography`),
pushes the signatures, then times, in interleaved rounds, `portcullis check --image-list` over
all of them under two policies that differ only in `trust-required`. Prints medians of wall
time and of portcullis's own CPU time, the registry's CPU time while serving it, and the
requests the registry answered per image (from its access log), with the difference per image:
the round trips and CPU the trust check adds. Traffic goes to loopback only.

Usage: bench/trust.py [--images N] [--runs R] [--portcullis BINARY]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import vs_skopeo as vs  # noqa: E402

SIGNER = os.path.join(ROOT, "tests", "trust", "signer.py")


def requests_served(registry):
    """Requests the registry has logged as answered so far."""
    with open(registry.log_path, errors="replace") as f:
        return sum(1 for line in f if "response completed" in line)


def sign_all(work, refs):
    subprocess.run([sys.executable, SIGNER, "keygen", "--kind", "ecdsa-p256", "--out", "key"],
                   cwd=work, check=True, stdout=subprocess.DEVNULL)
    for i, ref in enumerate(refs):
        manifest = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
                                  check=True, capture_output=True).stdout
        path = os.path.join(work, f"manifest-{i}.json")
        with open(path, "wb") as f:
            f.write(manifest)
        repository = ref.rsplit(":", 1)[0]
        out = f"sig-{i}"
        summary = json.loads(subprocess.run(
            [sys.executable, SIGNER, "sign-legacy", "--image-manifest", path, "--repository", repository,
             "--key", "key/key.pem", "--no-tlog", "--out", out],
            cwd=work, check=True, capture_output=True).stdout)
        digest = summary.get("imageDigest") or "sha256:" + __import__("hashlib").sha256(manifest).hexdigest()
        tag = digest.replace(":", "-") + ".sig"
        vs.run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false",
                f"oci:{os.path.join(work, out, 'layout')}:{tag}", f"docker://{repository}:{tag}"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--portcullis", default=os.path.join(ROOT, "target", "release", "portcullis"))
    args = parser.parse_args()
    vs.ensure_tools()
    if not os.path.exists(args.portcullis):
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)

    with tempfile.TemporaryDirectory() as work:
        registry, host = vs.start_registry(work)
        try:
            refs = vs.push_images(work, host, args.images)
            print(f"signing {len(refs)} images ...", file=sys.stderr)
            sign_all(work, refs)
            with open(os.path.join(work, "images.txt"), "w") as f:
                f.write("".join(f"docker://{r}\n" for r in refs))
            base = "version: 1\nextends: none\nrules:\n  too-many-layers: on\n"
            trust = (base + "  trust-required:\n    verify:\n"
                     f"      - images: [\"{host}/**\"]\n        cosign:\n          keys: [key/key.pub]\n")
            for name, text in (("plain.yaml", base), ("trust.yaml", trust)):
                with open(os.path.join(work, name), "w") as f:
                    f.write(text)

            def command(policy):
                return [args.portcullis, "check", "--policy", os.path.join(work, policy),
                        "--insecure-registry", host, "--image-list", os.path.join(work, "images.txt")]

            results = {"plain.yaml": [], "trust.yaml": []}
            for _ in range(args.runs):
                for policy in results:
                    before = requests_served(registry)
                    r = vs.Run(command(policy), registry)
                    if r.code != 0:
                        sys.exit(f"{policy}: exit {r.code}: {r.stderr}")
                    vs.time.sleep(0.1)  # the access log line follows the response
                    r.requests = requests_served(registry) - before
                    results[policy].append(r)
        finally:
            registry.kill()

    n = args.images
    m = {p: {k: statistics.median(getattr(r, k) for r in rs) for k in ("wall", "cpu", "registry_cpu", "requests")}
         for p, rs in results.items()}
    print(f"{n} signed images, {args.runs} interleaved runs each, medians:")
    for policy, label in (("plain.yaml", "without trust-required"), ("trust.yaml", "with trust-required")):
        x = m[policy]
        print(f"  {label:24} wall {x['wall']:.3f} s  portcullis CPU {x['cpu'] * 1000 / n:.3f} ms/image  "
              f"registry CPU {x['registry_cpu'] * 1000 / n:.2f} ms/image  requests {x['requests'] / n:.2f}/image")
    p, t = m["plain.yaml"], m["trust.yaml"]
    print(f"  trust adds: {(t['requests'] - p['requests']) / n:.2f} requests/image, "
          f"{(t['cpu'] - p['cpu']) * 1000 / n:.3f} ms portcullis CPU/image, "
          f"{(t['wall'] - p['wall']) * 1000 / n:.2f} ms wall/image ({t['wall'] / p['wall']:.2f}x the run)")
    print("  (a .sig signature is its manifest and its payload blob; the referrers API and the "
          "referrers tag, both absent here, are asked alongside)")


if __name__ == "__main__":
    main()
