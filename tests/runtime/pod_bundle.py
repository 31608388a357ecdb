#!/usr/bin/env python3
"""Turns one container of a Deployment or StatefulSet that dmc printed into the
runc bundle of an image unpacked by umoci (a CronJob's too, and init
containers), the way a kubelet would run it:
the user and group of its securityContext (and fsGroup as a supplementary
group), a read-only root filesystem, no capabilities, no new privileges, its
command and args over the image's entrypoint and cmd, its env (secretKeyRef
values from --secret), an empty directory for each emptyDir it mounts, the file of
each ConfigMap key it mounts, and a host directory for each claim (--claim).

pod_bundle.py MANIFEST_DIR WORKLOAD CONTAINER LAYOUT REF BUNDLE NETNS
              [--secret NAME/KEY=VALUE] [--claim NAME=DIR] [--bind SRC:DST]
              [--host-network]
"""
import argparse
import glob
import json
import os
import sys

import yaml

p = argparse.ArgumentParser()
for a in ("manifests", "workload", "container", "layout", "ref", "bundle", "netns"):
    p.add_argument(a)
p.add_argument("--secret", action="append", default=[])
p.add_argument("--claim", action="append", default=[])
p.add_argument("--bind", action="append", default=[])
p.add_argument("--arg", action="append", default=None, help="args instead of the container's")
p.add_argument("--host-network", action="store_true",
               help="share the test machine's network (and its resolv.conf, as kubelet gives one)")
args = p.parse_args()

objects = []
for f in sorted(glob.glob(os.path.join(args.manifests, "**", "*.yaml"), recursive=True)):
    objects += [o for o in yaml.safe_load_all(open(f)) if o]
by_kind = {(o["kind"], o["metadata"]["name"]): o for o in objects}
workload = next(o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "CronJob")
                and o["metadata"]["name"] == args.workload)
template = workload["spec"]["jobTemplate"]["spec"]["template"] if workload["kind"] == "CronJob" \
    else workload["spec"]["template"]
pod = template["spec"]
container = next(c for c in pod.get("initContainers", []) + pod["containers"]
                 if c["name"] == args.container)
sc = dict(pod.get("securityContext", {}))
sc.update(container.get("securityContext", {}))
assert sc.get("runAsNonRoot") and sc.get("runAsUser", 0) != 0, "the pod may run as root"

# The image's entrypoint and cmd, from its OCI config in the layout.
def blob(digest):
    return json.load(open(os.path.join(args.layout, "blobs", *digest.split(":"))))
index = json.load(open(os.path.join(args.layout, "index.json")))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == args.ref)
config = blob(blob(desc["digest"])["config"]["digest"])["config"]
if args.arg is not None:
    container = dict(container, args=args.arg)
argv = container.get("command") or config.get("Entrypoint") or []
argv = argv + (container.get("args") if "args" in container or "command" in container
               else config.get("Cmd") or [])

secrets = dict(s.split("=", 1) for s in args.secret)
claims = dict(c.split("=", 1) for c in args.claim)
path = os.path.join(args.bundle, "config.json")
c = json.load(open(path))
proc = c["process"]
proc["terminal"] = False
proc["args"] = argv
proc["user"] = {"uid": sc["runAsUser"], "gid": sc.get("runAsGroup", sc["runAsUser"]),
                "additionalGids": [sc["fsGroup"]] if "fsGroup" in sc else []}
proc["noNewPrivileges"] = not sc.get("allowPrivilegeEscalation", True)
if "ALL" in sc.get("capabilities", {}).get("drop", []):
    proc["capabilities"] = {k: [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient")}
c["root"]["readonly"] = bool(sc.get("readOnlyRootFilesystem"))
env = [e for e in proc.get("env", []) if "=" in e]
for e in container.get("env", []):
    if "value" in e:
        value = e["value"]
    else:
        ref = e["valueFrom"]["secretKeyRef"]
        value = secrets[ref["name"] + "/" + ref["key"]]
    env = [x for x in env if not x.startswith(e["name"] + "=")] + [e["name"] + "=" + value]
proc["env"] = env
if container.get("workingDir"):
    proc["cwd"] = container["workingDir"]

c["mounts"] = [m for m in c["mounts"] if m.get("type") != "bind"]
volumes = {v["name"]: v for v in pod.get("volumes", [])}
for m in container.get("volumeMounts", []):
    v = volumes.get(m["name"])
    if v is not None and "emptyDir" in v:
        # What kubelet mounts: a fresh directory of mode 0777 (runc would give a tmpfs
        # the mode of the directory it covers).
        d = os.path.join(os.path.abspath(args.bundle), "emptydir-" + m["name"])
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o777)
        c["mounts"].append({"destination": m["mountPath"], "type": "bind", "source": d,
                            "options": ["rbind", "rw", "nosuid", "nodev"]})
    elif v is not None and "configMap" in v:
        cm = by_kind[("ConfigMap", v["configMap"]["name"])]
        src = os.path.join(os.path.abspath(args.bundle), "configmap-" + m["name"] + "-" + m["subPath"])
        with open(src, "w") as f:
            f.write(cm["data"][m["subPath"]])
        os.chmod(src, 0o644)
        c["mounts"].append({"destination": m["mountPath"], "type": "bind", "source": src,
                            "options": ["bind", "ro"]})
    elif v is not None and "secret" in v:
        src = os.path.join(os.path.abspath(args.bundle), "secret-" + m["name"] + "-" + m["subPath"])
        with open(src, "w") as f:
            f.write(secrets[v["secret"]["secretName"] + "/" + m["subPath"]])
        os.chmod(src, 0o644)
        c["mounts"].append({"destination": m["mountPath"], "type": "bind", "source": src,
                            "options": ["bind", "ro"]})
    elif m["name"] in claims:
        # A claim as kubelet hands it over with fsGroup: group-owned and group-writable.
        d = claims[m["name"]]
        os.makedirs(d, exist_ok=True)
        if "fsGroup" in sc:
            os.chown(d, 0, sc["fsGroup"])
            os.chmod(d, 0o2775)
        c["mounts"].append({"destination": m["mountPath"], "type": "bind", "source": d,
                            "options": ["rbind", "rw"]})
    else:
        sys.exit(f"the volume {m['name']} is neither an emptyDir, a ConfigMap nor a given claim")
for b in args.bind:
    src, dst = b.split(":", 1)
    c["mounts"].append({"destination": dst, "type": "bind", "source": src, "options": ["rbind", "ro"]})
if args.host_network:
    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
    c["mounts"].append({"destination": "/etc/resolv.conf", "type": "bind",
                        "source": "/etc/resolv.conf", "options": ["bind", "ro"]})
else:
    for n in c["linux"]["namespaces"]:
        if n["type"] == "network":
            n["path"] = "/var/run/netns/" + args.netns
json.dump(c, open(path, "w"))
print(" ".join(argv))
