#!/usr/bin/env python3
"""Writes a small, valid OCI image layout for the registry tests, without dmc.

    mklayout.py DIR [--archs amd64,arm64] [--size BYTES] [--seed S] [--version V] [--ref latest]

One image per arch, each with one gzip layer holding BYTES of pseudo-random
(incompressible) data and a text file, under an image index named --ref in
index.json ("<ref>-<arch>" names each manifest). The same arguments give the
same digests; another --seed gives other blobs.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import random
import tarfile


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def put_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return "sha256:" + digest, len(data)


def layer(size, seed, arch):
    rng = random.Random(f"{seed}-{arch}")
    payload = rng.randbytes(size)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("etc/dmc-test", f"{seed} {arch}\n".encode()), ("data/blob", payload)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=1) as g:
        g.write(tar_bytes)
    return gz.getvalue(), "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--archs", default="amd64,arm64")
    p.add_argument("--size", type=int, default=64 * 1024)
    p.add_argument("--seed", default="dmc")
    p.add_argument("--version", default="1.2.3+ds-1~test")
    p.add_argument("--ref", default="latest")
    a = p.parse_args()
    os.makedirs(os.path.join(a.dir, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(a.dir, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    manifests, refs = [], []
    for arch in a.archs.split(","):
        gz, diff_id = layer(a.size, a.seed, arch)
        layer_digest, layer_size = put_blob(a.dir, gz)
        config = {
            "architecture": arch, "os": "linux", "created": "2023-11-14T22:13:20Z",
            "config": {"Entrypoint": ["/bin/true"],
                       "Labels": {"org.opencontainers.image.version": a.version,
                                  "org.opencontainers.image.title": "dmc-test-" + a.seed}},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "mklayout"}],
        }
        if arch == "arm64":
            config["variant"] = "v8"
        config_digest, config_size = put_blob(a.dir, canonical(config))
        manifest = {
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": layer_digest, "size": layer_size}],
        }
        digest, size = put_blob(a.dir, canonical(manifest))
        platform = {"architecture": arch, "os": "linux"}
        if arch == "arm64":
            platform["variant"] = "v8"
        manifests.append({"mediaType": manifest["mediaType"], "digest": digest, "size": size,
                          "platform": platform})
        refs.append({"mediaType": manifest["mediaType"], "digest": digest, "size": size,
                     "annotations": {"org.opencontainers.image.ref.name": f"{a.ref}-{arch}"}})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": manifests}
    digest, size = put_blob(a.dir, canonical(index))
    top = {"mediaType": index["mediaType"], "digest": digest, "size": size,
           "annotations": {"org.opencontainers.image.ref.name": a.ref}}
    with open(os.path.join(a.dir, "index.json"), "wb") as f:
        f.write(canonical({"schemaVersion": 2, "mediaType": index["mediaType"],
                           "manifests": [top] + refs}))
    print(digest)


if __name__ == "__main__":
    main()
