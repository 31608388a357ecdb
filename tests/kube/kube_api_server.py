#!/usr/bin/env python3
"""A test double of the Kubernetes API server (v1.32) for dmc's tests.

Why it exists: dmc talks to Kubernetes over HTTPS with libcurl (server-side
apply, delete, rollout wait) and no real apiserver can run on the test
machines.  This server speaks the real wire protocol for the calls dmc and
kubectl make.  Status bodies (message, reason, details) are copied from the
real source (k8s.io/apiserver and k8s.io/apimachinery v0.32.3,
sigs.k8s.io/structured-merge-diff v4.4.2), so a client that handles this
server handles a real cluster; tests/kube/kubectl_fidelity.sh checks it
against the real kubectl.

    kube_api_server.py --cert server.pem --key server.key --client-ca ca.pem \\
        --port 0 --port-file F --state-dir DIR --auth auth.json \\
        [--namespaces a,b] [--rollout ready|never] [--foreground-gets 2] \\
        [--foreground-seconds 0] [--no-aggregated-discovery] [--bare] [--verbose]

auth.json (re-read on every request):
    {"tokens": {"TOKEN": "user" | {"user": "u", "groups": ["g"]}},
     "basic": {"user": "password"}, "client_cert": true,
     "deny": [{"user": "u", "verb": "delete", "resource": "secrets",
               "namespace": "optional", "name": "optional"}]}

Every API request is appended to DIR/requests.jsonl (method, path, query,
content_type, accept, user_agent, user, groups, auth, body, status; never the
Authorization header).  Control endpoints (no auth, not recorded):
    GET  /_test/health                  {"ok": true, "rollout": ..., ...}
    GET  /_test/objects[?resource=R&namespace=N]   every stored object
    GET  /_test/requests                the recorded requests, as a list
    GET|POST|DELETE /_test/faults       POST a list (replaces the list):
         [{"method": "PATCH", "path": "regex", "status": 503, "count": 2,
           "retry_after": 1, "message": "...", "body": "status"|"text",
           "delay": 0.5, "close": false}]
         count -1 = every match; "close" drops the connection unanswered;
         429 answers in plain text like priority-and-fairness unless "body": "status"
    POST /_test/reset[?objects=1]       clear faults and requests (and objects)
    POST /_test/rollout {"mode": "ready"|"never"}
    POST /_test/config {"rollout": "never", "foreground_gets": 3, "foreground_seconds": 0}

The controllers (kube-controller-manager, kubelet, garbage collector) are
simulated inside the server and advance on reads, so tests are deterministic:
  - after a write that changes a Deployment's or StatefulSet's spec, the next
    read shows the rollout in progress (observedGeneration one behind, or
    nothing available yet), the read after it the settled state: all ready
    (--rollout ready) or pods stuck in ImagePullBackOff with their events
    (--rollout never; progressDeadlineSeconds is honoured in wall time);
  - a Foreground or Orphan deletion, and a namespace deletion, stays visible
    (deletionTimestamp, finalizer) for --foreground-gets reads (or, with
    --foreground-seconds S, at most S seconds), then goes with its dependents.
    A read is a GET, each object of a LIST, and each 0.5 s an open watch sees
    the object.
Not supported: protobuf/CBOR bodies (kubectl create/replace send protobuf:
they get 415), YAML that is not JSON, schema validation (unknown fields
are accepted even with fieldValidation=Strict).
"""

import argparse
import base64
import copy
import datetime
import hashlib
import http.server
import json
import os
import random
import re
import select
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

# --------------------------------------------------------------- catalogue

FULL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
NO_COLLECTION = ["create", "delete", "get", "list", "patch", "update", "watch"]


class Res:
    """One served resource, with what discovery says about it and the
    registry behaviours that differ between resources."""

    def __init__(self, group, plural, kind, namespaced=True, short=(), categories=(),
                 status=False, generation=False, returns_deleted=False, verbs=FULL_VERBS,
                 names="subdomain"):
        self.group, self.version, self.plural, self.kind = group, "v1", plural, kind
        self.namespaced, self.short, self.categories = namespaced, list(short), list(categories)
        self.status = status                    # has a status subresource (status is reset on main writes)
        self.generation = generation            # metadata.generation counts .spec changes
        self.returns_deleted = returns_deleted  # registry's ReturnDeletedObject
        self.verbs, self.names = verbs, names
        self.singular = kind.lower()
        self.gv = f"{group}/v1" if group else "v1"
        self.prefix = f"/apis/{group}/v1" if group else "/api/v1"
        self.qualified = f"{plural}.{group}" if group else plural   # GroupResource.String()
        self.qualified_kind = f"{kind}.{group}" if group else kind  # GroupKind.String()


RESOURCES = [
    Res("", "namespaces", "Namespace", namespaced=False, short=["ns"], status=True,
        returns_deleted=True, verbs=NO_COLLECTION, names="label"),
    Res("", "configmaps", "ConfigMap", short=["cm"]),
    Res("", "events", "Event", short=["ev"]),
    Res("", "persistentvolumeclaims", "PersistentVolumeClaim", short=["pvc"], status=True,
        returns_deleted=True),
    Res("", "pods", "Pod", short=["po"], categories=["all"], status=True, returns_deleted=True),
    Res("", "secrets", "Secret"),
    Res("", "serviceaccounts", "ServiceAccount", short=["sa"]),
    Res("", "services", "Service", short=["svc"], categories=["all"], status=True,
        returns_deleted=True, verbs=NO_COLLECTION, names="dns1035"),
    Res("apps", "deployments", "Deployment", short=["deploy"], categories=["all"], status=True,
        generation=True),
    Res("apps", "replicasets", "ReplicaSet", short=["rs"], categories=["all"], status=True,
        generation=True),
    Res("apps", "statefulsets", "StatefulSet", short=["sts"], categories=["all"], status=True,
        generation=True),
    Res("batch", "cronjobs", "CronJob", short=["cj"], categories=["all"], status=True,
        generation=True),
    Res("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", names="path"),
    Res("rbac.authorization.k8s.io", "roles", "Role", names="path"),
]
BY_GVR = {(r.group, r.version, r.plural): r for r in RESOURCES}
SCALABLE = ("deployments", "replicasets", "statefulsets")      # have the autoscaling/v1 scale subresource
BY_PLURAL = {r.plural: r for r in RESOURCES}
GROUPS = ["apps", "batch", "rbac.authorization.k8s.io"]    # the order of /apis in a real server
VERSION_INFO = {"major": "1", "minor": "32", "gitVersion": "v1.32.3",
                "gitCommit": "32cc146f75aad04beaaa245a7157eb35063a9f99", "gitTreeState": "clean",
                "buildDate": "2025-03-11T19:52:21Z", "goVersion": "go1.23.6", "compiler": "gc",
                "platform": "linux/amd64"}

# ----------------------------------------------------------------- helpers


def jdump(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def same(a, b):          # strict equality: in Python True == 1 == 1.0
    return jdump(a) == jdump(b)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def goq(s):              # Go's %q for the strings we meet
    return json.dumps(s, ensure_ascii=False)


def gofmt(v):            # how field.Error prints a bad value (%v / %q / %#v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return goq(v)
    if isinstance(v, dict) and all(isinstance(x, str) for x in v.values()):
        return "map[string]string{" + ", ".join(f"{goq(k)}:{goq(x)}" for k, x in sorted(v.items())) + "}"
    return json.dumps(v)


def get_path(obj, dotted, default=None):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


SAFE_CHARS = "bcdfghjklmnpqrstvwxz2456789"    # rand.SafeEncodeString's alphabet


def safe_hash(value, n=10):
    h = int(hashlib.sha256(jdump(value).encode()).hexdigest(), 16)
    return "".join(SAFE_CHARS[(h >> (5 * i)) % len(SAFE_CHARS)] for i in range(n))


def rand_suffix(n=5):
    return "".join(random.choice(SAFE_CHARS) for _ in range(n))


def age(ts):             # duration.HumanDuration, as in kubectl's AGE column
    if not ts:
        return "<unknown>"
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    s = int((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    return f"{h}h" if h < 48 else f"{h // 24}d"


# ------------------------------------------------------------ Status errors


def details(name=None, group=None, kind=None, uid=None, causes=None, retry=None):
    d = {}
    for k, v in (("name", name), ("group", group), ("kind", kind), ("uid", uid),
                 ("causes", causes), ("retryAfterSeconds", retry)):
        if v:
            d[k] = v
    return d


def status_body(code, reason, message, det=None):
    d = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
    if message:
        d["message"] = message
    if reason:
        d["reason"] = reason
    if det is not None:
        d["details"] = det
    d["code"] = code
    return d


class ApiError(Exception):
    """An error answer: a Status body (or, for text=..., a plain-text body)."""

    def __init__(self, code, reason, message, det=None, headers=None, text=None):
        super().__init__(message)
        self.code, self.headers, self.text = code, headers or {}, text
        self.body = status_body(code, reason, message, det)


def not_found(res, name):
    return ApiError(404, "NotFound", f"{res.qualified} {goq(name)} not found",
                    details(name, res.group, res.plural))


def generic_not_found():   # go-restful's answer for an unknown route inside a group version
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(res, name):
    return ApiError(409, "AlreadyExists", f"{res.qualified} {goq(name)} already exists",
                    details(name, res.group, res.plural))


def modified_conflict(res, name, why="the object has been modified; please apply your changes "
                                      "to the latest version and try again"):
    return ApiError(409, "Conflict", f"Operation cannot be fulfilled on {res.qualified} {goq(name)}: {why}",
                    details(name, res.group, res.plural))


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def forbidden(res, name, msg):
    head = f"{res.qualified} {goq(name)}" if name else res.qualified
    return ApiError(403, "Forbidden", f"{head} is forbidden: {msg}", details(name, res.group, res.plural))


def invalid(qualified_kind, group, kind, name, errs):
    """errors.NewInvalid: errs are (cause type, field, error body)."""
    causes = [{"reason": t, "message": body, "field": f} for t, f, body in errs]
    strs = [f"{f}: {body}" for _, f, body in errs]
    agg = strs[0] if len(strs) == 1 else "[" + ", ".join(strs) + "]"
    return ApiError(422, "Invalid", f"{qualified_kind} {goq(name)} is invalid: {agg}",
                    details(name, group, kind, causes=causes))


def f_invalid(field, value, detail):
    return ("FieldValueInvalid", field, f"Invalid value: {gofmt(value)}: {detail}")


def f_required(field, detail=""):
    return ("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def f_forbidden(field, detail):
    return ("FieldValueForbidden", field, f"Forbidden: {detail}")


def f_unsupported(field, value, supported):
    return ("FieldValueNotSupported", field, f"Unsupported value: {goq(value)}: supported values: "
            + ", ".join(goq(s) for s in supported))


# ---------------------------------------------------------- name validation

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + r")*"
DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"


def regex_error(msg, fmt, *examples):     # validation.RegexError
    if examples:
        msg += " (e.g. " + " or ".join(f"'{e}', " for e in examples)
        return msg + "regex used for validation is '" + fmt + "')"
    return msg + " (regex used for validation is '" + fmt + "')"


def name_errors(rule, name):
    errs = []
    if rule == "subdomain":
        if len(name) > 253:
            errs.append("must be no more than 253 characters")
        if not re.fullmatch(DNS1123_SUBDOMAIN, name):
            errs.append(regex_error("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                                    "characters, '-' or '.', and must start and end with an alphanumeric "
                                    "character", DNS1123_SUBDOMAIN, "example.com"))
    elif rule == "label":
        if len(name) > 63:
            errs.append("must be no more than 63 characters")
        if not re.fullmatch(DNS1123_LABEL, name):
            errs.append("must not contain dots" if re.fullmatch(DNS1123_SUBDOMAIN, name) else regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
                "must start and end with an alphanumeric character", DNS1123_LABEL, "my-name", "123-abc"))
    elif rule == "dns1035":
        if len(name) > 63:
            errs.append("must be no more than 63 characters")
        if not re.fullmatch(DNS1035_LABEL, name):
            errs.append(regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or "
                                    "'-', start with an alphabetic character, and end with an alphanumeric "
                                    "character", DNS1035_LABEL, "my-name", "abc-123"))
    elif rule == "path":
        if name in (".", ".."):
            errs.append(f"may not be '{name}'")
        errs += [f"may not contain '{c}'" for c in "/%" if c in name]
    return errs


def label_errors(labels, field):
    errs = []
    for v in (labels or {}).values():
        if not isinstance(v, str):
            continue
        if len(v) > 63:
            errs.append(f_invalid(field, v, "must be no more than 63 characters"))
        if not re.fullmatch(LABEL_VALUE, v):
            errs.append(f_invalid(field, v, regex_error(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                "'.', and must start and end with an alphanumeric character", LABEL_VALUE,
                "MyValue", "my_value", "12345")))
    return errs


# ------------------------------------------------- field sets (managedFields)
# A field path is a tuple of fieldsV1 keys: "f:spec", 'k:{"name":"app"}' (item of
# an associative list), 'v:"x"' (item of a set).  Maps are granular, lists are
# atomic except the associative ones below (the keys Kubernetes' OpenAPI
# declares), and LabelSelectors are atomic (+structType=atomic).

ATOMIC_MAPS = {"selector", "labelSelector", "namespaceSelector", "podSelector", "roleRef"}
KEYED_LISTS = {"containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",),
               "env": ("name",), "volumes": ("name",), "volumeMounts": ("mountPath",),
               "volumeDevices": ("devicePath",), "imagePullSecrets": ("name",), "hostAliases": ("ip",),
               "ownerReferences": ("uid",), "conditions": ("type",), "resourceClaims": ("name",),
               "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable")}
SET_LISTS = {("metadata", "finalizers")}
KEY_DEFAULTS = {"protocol": "TCP"}
STRIPPED_META = ("name", "namespace", "creationTimestamp", "selfLink", "uid", "generation",
                 "managedFields", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds")
# Go struct fields that always exist: an Update manager owns their children, not them (no ".").
STRUCT_NODES = {("metadata",), ("spec",), ("status",), ("spec", "template"), ("spec", "template", "metadata"), ("spec", "template", "spec"),
                ("spec", "strategy"), ("spec", "updateStrategy"), ("spec", "jobTemplate"),
                ("spec", "jobTemplate", "spec"), ("spec", "jobTemplate", "spec", "template"),
                ("spec", "jobTemplate", "spec", "template", "spec"),
                ("spec", "jobTemplate", "spec", "template", "metadata"), ("status", "loadBalancer")}


def list_keys(fields):
    name = fields[-1] if fields else ""
    if name == "ports":
        if len(fields) >= 2 and fields[-2] in ("containers", "initContainers", "ephemeralContainers"):
            return ("containerPort", "protocol")
        return ("port", "protocol") if fields == ("spec", "ports") else None
    return "set" if fields in SET_LISTS else KEYED_LISTS.get(name)


def item_elem(item, keys):
    kv = {}
    for k in keys:
        v = item.get(k, KEY_DEFAULTS.get(k))
        if v is None:
            return None
        kv[k] = v
    return "k:" + json.dumps(dict(sorted(kv.items())), separators=(",", ":"))


def children(val, fields):
    """[(path element, child, child's field names)] of a granular node; None for a leaf."""
    if isinstance(val, dict):
        if not val or (fields and fields[-1] in ATOMIC_MAPS):
            return None
        return [("f:" + k, v, fields + (k,)) for k, v in val.items()]
    if isinstance(val, list) and val and fields:
        keys = list_keys(fields)
        if keys == "set" and all(isinstance(x, (str, int, float, bool)) for x in val):
            return [("v:" + json.dumps(x), x, fields + ("*",)) for x in val]
        if isinstance(keys, tuple) and all(isinstance(x, dict) for x in val):
            elems = [item_elem(x, keys) for x in val]
            if None not in elems and len(set(elems)) == len(elems):
                return [(e, x, fields) for e, x in zip(elems, val)]
    return None


def nodes(val, path=(), fields=()):
    """{path: (value, is_leaf)} for every node below val."""
    out = {}
    for elem, child, cfields in children(val, fields) or []:
        p = path + (elem,)
        sub = children(child, cfields)
        out[p] = (child, sub is None)
        if sub is not None:
            out.update(nodes(child, p, cfields))
    return out


def apply_members(cfg):
    """SMD's ToFieldSet for an applied configuration: leaves and list items."""
    return {p for p, (_, leaf) in nodes(cfg).items() if leaf or p[-1][0] in "kv"}


def compare(old, new):
    o, n = nodes(old), nodes(new)
    added, removed = set(n) - set(o), set(o) - set(n)
    modified = {p for p in set(n) & set(o) if (n[p][1] or o[p][1]) and not same(n[p][0], o[p][0])}
    return added, removed, modified


def tracked_view(obj, res, sub=None):
    """The part of an object field managers track (apiVersion/kind, system
    metadata and the reset part - status, or all but status - left out)."""
    if sub == "scale":
        return {"spec": {"replicas": get_path(obj, "spec.replicas")}}
    o = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    o["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in STRIPPED_META}
    if not o["metadata"]:
        del o["metadata"]
    if res.status:
        if sub == "status":
            return {"status": o.get("status", {})}
        o.pop("status", None)
    return o


def merge(live, cfg, fields=()):
    """SMD merge of an applied configuration into the live object."""
    if isinstance(live, dict) and isinstance(cfg, dict) and not (fields and fields[-1] in ATOMIC_MAPS):
        out = dict(live)
        for k, v in cfg.items():
            out[k] = merge(live[k], v, fields + (k,)) if k in live else copy.deepcopy(v)
        return out
    if isinstance(live, list) and isinstance(cfg, list) and fields:
        keys = list_keys(fields)
        if keys == "set":
            return copy.deepcopy(live) + [copy.deepcopy(x) for x in cfg if x not in live]
        lk, ck = children(live, fields), children(cfg, fields)
        if isinstance(keys, tuple) and lk is not None and ck is not None:
            # live-only items keep their place, applied items come in the applied order
            cmap = {e: x for e, x, _ in ck}
            corder = [e for e, _, _ in ck]
            lmap = {e: x for e, x, _ in lk}
            out, ci = [], 0
            for e, x, _ in lk:
                if e not in cmap:
                    out.append(copy.deepcopy(x))
                elif corder.index(e) >= ci:
                    for ce in corder[ci:corder.index(e) + 1]:
                        out.append(merge(lmap[ce], cmap[ce], fields) if ce in lmap else copy.deepcopy(cmap[ce]))
                    ci = corder.index(e) + 1
            for ce in corder[ci:]:
                out.append(merge(lmap[ce], cmap[ce], fields) if ce in lmap else copy.deepcopy(cmap[ce]))
            return out
    return copy.deepcopy(cfg)


def locate(root, path):
    chain, cur, fields = [], root, ()
    for elem in path:
        if elem.startswith("f:"):
            if not isinstance(cur, dict) or elem[2:] not in cur:
                return None
            chain.append((cur, elem[2:]))
            cur, fields = cur[elem[2:]], fields + (elem[2:],)
        else:
            kids = children(cur, fields) or []
            idx = next((i for i, (e, _, _) in enumerate(kids) if e == elem), None)
            if idx is None:
                return None
            chain.append((cur, idx))
            cur = cur[idx]
    return chain


def remove_path(root, path):
    chain = locate(root, path)
    if not chain:
        return
    container, key = chain[-1]
    del container[key]
    for i in range(len(chain) - 1, 0, -1):    # drop maps/lists the removal emptied (omitempty)
        if len(chain[i][0]) == 0:
            parent, pkey = chain[i - 1]
            del parent[pkey]
        else:
            break


def elem_sort_key(e):
    return (0, "") if e == "." else ({"f": 1, "k": 2, "v": 3}.get(e[0], 4), e)


def to_fields_v1(paths):
    tree = {}
    for p in paths:
        node = tree
        for e in p:
            node = node.setdefault(e, {})
    for p in paths:                # a member that also has children is marked "."
        node = tree
        for e in p:
            node = node[e]
        if node:
            node["."] = {}

    def order(n):
        return {k: order(n[k]) for k in sorted(n, key=elem_sort_key)}
    return order(tree)


def from_fields_v1(tree, prefix=()):
    out = set()
    for k, v in (tree or {}).items():
        if k == ".":
            out.add(prefix)
        elif v:
            out |= from_fields_v1(v, prefix + (k,))
        else:
            out.add(prefix + (k,))
    return out


def path_str(p):          # fieldpath.Path.String()
    def val(v):
        return goq(v) if isinstance(v, str) else gofmt(v)
    out = ""
    for e in p:
        if e.startswith("f:"):
            out += "." + e[2:]
        elif e.startswith("k:"):
            out += "[" + ",".join(f"{k}={val(v)}" for k, v in json.loads(e[2:]).items()) + "]"
        elif e.startswith("v:"):
            out += f"[={val(json.loads(e[2:]))}]"
    return out


def manager_label(m):     # managedfields' printManager (the identifier has no time)
    s = goq(m["manager"])
    if m.get("subresource"):
        s += f" with subresource {goq(m['subresource'])}"
    return s + (f" using {m['apiVersion']}" if m["operation"] == "Update" else "")


def render_managed(managers):
    out = []
    for m in sorted(managers, key=lambda m: (m["operation"], m["time"], m["manager"], m["apiVersion"],
                                             m.get("subresource") or "")):
        e = {"manager": m["manager"], "operation": m["operation"], "apiVersion": m["apiVersion"],
             "time": m["time"], "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(m["set"])}
        if m.get("subresource"):
            e["subresource"] = m["subresource"]
        out.append(e)
    return out


def find_manager(managers, name, op, sub=None):
    return next((m for m in managers if m["manager"] == name and m["operation"] == op
                 and (m.get("subresource") or None) == sub), None)


def track_update(old, new, managers, manager, res, sub=None):
    """An Update operation (create, PUT, non-apply PATCH, controller write):
    the writer takes every field it changed, from everybody."""
    added, removed, modified = compare(tracked_view(old, res, sub), tracked_view(new, res, sub))
    changed = added | modified
    mine = find_manager(managers, manager, "Update", sub)
    for m in managers:
        if m is not mine:
            m["set"] = m["set"] - changed - removed
    if changed or removed:
        if mine is None:
            mine = {"manager": manager, "operation": "Update", "apiVersion": res.gv, "time": now(),
                    "subresource": sub, "set": set()}
            managers.append(mine)
        fields_only = lambda p: tuple(e[2:] for e in p) if all(e.startswith("f:") for e in p) else None
        take = {p for p in changed if fields_only(p) not in STRUCT_NODES}
        mine["set"] = (mine["set"] - removed) | take
        if changed:
            mine["time"] = now()
    managers[:] = [m for m in managers if m["set"]]


def server_side_apply(live, cfg, managers, manager, force, res, sub=None):
    """sigs.k8s.io/structured-merge-diff Updater.Apply, for the fields sent."""
    merged = merge(live, cfg)
    new_set = apply_members(tracked_view(cfg, res, sub))
    mine = find_manager(managers, manager, "Apply", sub)
    others = [m for m in managers if m is not mine]
    keep = set(new_set)
    for m in others:
        keep |= m["set"]
    # prune: what this manager applied last time, no longer applies, and nobody else owns
    for p in sorted((mine["set"] if mine else set()) - keep, key=len):
        if not any(q[:len(p)] == p for q in keep):
            remove_path(merged, p)
    added, removed, modified = compare(tracked_view(live, res, sub), tracked_view(merged, res, sub))
    changed = added | modified
    conflicts = [(m, m["set"] & changed) for m in others if m["set"] & changed]
    if conflicts and not force:
        items = sorted(((manager_label(m), p) for m, ps in conflicts for p in ps),
                       key=lambda t: (t[0], [elem_sort_key(e) for e in t[1]]))
        causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {lab}", "field": path_str(p)}
                  for lab, p in items]
        if len(items) == 1:
            msg = f"Apply failed with 1 conflict: conflict with {items[0][0]}: {path_str(items[0][1])}"
        else:
            lines = []
            for lab in sorted({lab for lab, _ in items}):
                lines.append(f"conflicts with {lab}:")
                lines += [f"- {path_str(p)}" for l2, p in items if l2 == lab]
            msg = f"Apply failed with {len(items)} conflicts: " + "\n".join(lines)
        raise ApiError(409, "Conflict", msg, {"causes": causes})
    for m, c in conflicts:
        m["set"] = m["set"] - c
    for m in others:
        m["set"] = m["set"] - removed
    if mine is None:
        mine = {"manager": manager, "operation": "Apply", "apiVersion": res.gv, "time": now(),
                "subresource": sub, "set": set()}
        managers.append(mine)
    elif not same(tracked_view(live, res, sub), tracked_view(merged, res, sub)):
        mine["time"] = now()
    mine["set"] = new_set
    managers[:] = [m for m in managers if m["set"]]
    return merged


# ------------------------------------------------------------ patch formats


def merge_patch(target, patch):                      # RFC 7386
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strategic_merge_patch(target, patch, fields=()):
    """Strategic merge patch, for the lists Kubernetes merges by key."""
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return {k: v for k, v in patch.items() if k != "$patch"} if isinstance(patch, dict) else copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    out = dict(target)
    for k, v in patch.items():
        if k.startswith("$deleteFromPrimitiveList/"):
            name = k.split("/", 1)[1]
            out[name] = [x for x in out.get(name, []) if x not in v]
            continue
        if k.startswith("$"):
            continue
        f = fields + (k,)
        cur = out.get(k)
        keys = list_keys(f)
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(cur, dict) and k not in ATOMIC_MAPS:
            out[k] = strategic_merge_patch(cur, v, f)
        elif isinstance(v, list) and isinstance(cur, list) and keys == "set":
            out[k] = cur + [x for x in v if x not in cur]
        elif isinstance(v, list) and isinstance(cur, list) and isinstance(keys, tuple):
            res_list = copy.deepcopy(cur)
            for item in v:
                if not isinstance(item, dict):
                    continue
                key0 = keys[0]
                idx = next((i for i, x in enumerate(res_list) if x.get(key0) == item.get(key0)), None)
                if item.get("$patch") == "delete":
                    if idx is not None:
                        res_list.pop(idx)
                elif idx is None:
                    res_list.append({a: b for a, b in item.items() if a != "$patch"})
                else:
                    res_list[idx] = strategic_merge_patch(res_list[idx], item, f)
            out[k] = res_list
        else:
            out[k] = strategic_merge_patch({}, v, f) if isinstance(v, dict) else copy.deepcopy(v)
    return out


def json_patch(doc, ops):                             # RFC 6902
    doc = copy.deepcopy(doc)

    def walk(pointer):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        return parent, parts[-1]
    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        try:
            if kind in ("add", "replace", "test", "remove"):
                parent, last = walk(path)
                if kind == "test":
                    cur = parent[int(last)] if isinstance(parent, list) else parent.get(last)
                    if not same(cur, op.get("value")):
                        raise bad_request("the server rejected our request due to an error in our request")
                elif kind == "remove":
                    del parent[int(last) if isinstance(parent, list) else last]
                elif isinstance(parent, list):
                    if kind == "add":
                        parent.insert(len(parent) if last == "-" else int(last), op["value"])
                    else:
                        parent[int(last)] = op["value"]
                else:
                    if kind == "replace" and last not in parent:
                        raise KeyError(last)
                    parent[last] = op["value"]
            elif kind in ("move", "copy"):
                sparent, slast = walk(op["from"])
                val = sparent[int(slast)] if isinstance(sparent, list) else sparent[slast]
                if kind == "move":
                    del sparent[int(slast) if isinstance(sparent, list) else slast]
                json_patch_doc = json_patch(doc, [{"op": "add", "path": path, "value": copy.deepcopy(val)}])
                doc.clear()
                doc.update(json_patch_doc)
            else:
                raise bad_request(f"Unexpected kind: {kind}")
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request",
                           {}) from e
    return doc


# ------------------------------------------------------------ label/field selectors


def parse_label_selector(s):
    reqs = []
    for part in re.split(r",(?![^(]*\))", s or ""):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)", part)
        if m:
            reqs.append(("!=" if m[2] == "!=" else "=", m[1], [m[3]]))
            continue
        m = re.fullmatch(r"([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)", part)
        if m:
            reqs.append((m[2], m[1], [v.strip() for v in m[3].split(",") if v.strip()]))
            continue
        m = re.fullmatch(r"(!?)\s*([A-Za-z0-9_./-]+)", part)
        if m:
            reqs.append(("!" if m[1] else "exists", m[2], []))
            continue
        raise bad_request(f"unable to parse requirement: found '{part}', expected: ',' or 'end of string'")
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for op, key, vals in reqs:
        v = labels.get(key)
        ok = {"=": lambda: v == vals[0], "!=": lambda: v != vals[0], "in": lambda: v in vals,
              "notin": lambda: v not in vals, "exists": lambda: key in labels, "!": lambda: key not in labels}[op]
        if not ok():
            return False
    return True


FIELD_LABELS = {  # the extra field selectors each resource supports (core ones say "field label not supported")
    "events": ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
               "reason", "reportingComponent", "source", "type"],
    "pods": ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
    "secrets": ["type"], "namespaces": ["status.phase"], "replicasets": ["status.replicas"],
}


def parse_field_selector(res, s):
    reqs = []
    for term in (s or "").split(","):
        term = term.strip()
        if not term:
            continue
        m = re.fullmatch(r"([^=!]+?)\s*(==|=|!=)\s*(.*)", term)
        if not m:
            raise bad_request(f"invalid selector: '{s}'; can't understand '{term}'")
        key = m[1]
        if key not in ("metadata.name", "metadata.namespace") and key not in FIELD_LABELS.get(res.plural, []):
            if res.plural in FIELD_LABELS:
                raise bad_request(f"field label not supported: {key}")
            raise bad_request(f'{goq(key)} is not a known field selector: only "metadata.name", "metadata.namespace"')
        reqs.append((key, m[2] != "!=", m[3]))
    return reqs


def fields_match(reqs, obj):
    for key, eq, want in reqs:
        v = get_path(obj, "source.component" if key == "source" else key, "")
        v = ("true" if v else "false") if isinstance(v, bool) or key == "spec.hostNetwork" else str(v)
        if (v == want) != eq:
            return False
    return True


# -------------------------------------------------------------- defaulting


def image_pull_policy(image):
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    return "Always" if ":" not in last or last.endswith(":latest") else "IfNotPresent"


def full_image(image):
    name = image if ":" in image.rsplit("/", 1)[-1] or "@" in image else image + ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return "docker.io/library/" + name
    return name if ("." in first or ":" in first or first == "localhost") else "docker.io/" + name


def default_pod_spec(spec, pod=False, restart=True):
    if restart:
        spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    if pod:
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    if pod:
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        if not isinstance(c, dict):
            continue
        c.setdefault("resources", {})
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("imagePullPolicy", image_pull_policy(c.get("image", "")))
        for p in c.get("ports", []) or []:
            p.setdefault("protocol", "TCP")


def apply_defaults(res, obj, mode):
    """What the apiserver's defaulting funcs and admission plugins add."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
    k = res.plural
    if k in ("deployments", "statefulsets", "replicasets") and spec is not None:
        spec.setdefault("replicas", 1)
        if isinstance(get_path(spec, "template.spec"), dict):
            default_pod_spec(spec["template"]["spec"])
        if k == "deployments":
            st = spec.setdefault("strategy", {})
            st.setdefault("type", "RollingUpdate")
            if st["type"] == "RollingUpdate":
                ru = st.setdefault("rollingUpdate", {})
                ru.setdefault("maxUnavailable", "25%")
                ru.setdefault("maxSurge", "25%")
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
        if k == "statefulsets":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            us = spec.setdefault("updateStrategy", {})
            us.setdefault("type", "RollingUpdate")
            if us["type"] == "RollingUpdate":
                us.setdefault("rollingUpdate", {}).setdefault("partition", 0)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    elif k == "cronjobs" and spec is not None:
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        if isinstance(get_path(spec, "jobTemplate.spec.template.spec"), dict):
            default_pod_spec(spec["jobTemplate"]["spec"]["template"]["spec"], restart=False)
    elif k == "pods" and spec is not None:
        default_pod_spec(spec, pod=True)
    elif k == "services" and spec is not None:
        spec.setdefault("type", "ClusterIP")
        for p in spec.get("ports", []) or []:
            p.setdefault("protocol", "TCP")
            p.setdefault("targetPort", p.get("port"))
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
    elif k == "secrets":
        obj.setdefault("type", "Opaque")
        for key, v in (obj.pop("stringData", None) or {}).items():   # stringData is write-only
            obj.setdefault("data", {})[key] = base64.b64encode(str(v).encode()).decode()
    elif k == "persistentvolumeclaims" and spec is not None:
        spec.setdefault("storageClassName", "standard")   # DefaultStorageClass admission
        spec.setdefault("volumeMode", "Filesystem")
    elif k == "namespaces":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


META_ORDER = ["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
              "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
              "ownerReferences", "finalizers", "managedFields"]
TOP_ORDER = ["kind", "apiVersion", "metadata", "immutable", "data", "binaryData", "stringData", "type",
             "secrets", "imagePullSecrets", "automountServiceAccountToken", "involvedObject", "reason",
             "message", "source", "firstTimestamp", "lastTimestamp", "count", "eventTime", "reportingComponent",
             "reportingInstance", "rules", "subjects", "roleRef", "spec", "status"]


def canonical(obj):       # the field order of the Go structs, for readable dumps
    meta = obj.get("metadata", {})
    obj["metadata"] = {k: meta[k] for k in sorted(meta, key=lambda k: (META_ORDER + [k]).index(k))}
    return {k: obj[k] for k in sorted(obj, key=lambda k: (TOP_ORDER + [k]).index(k))}


def selector_string(sel):
    parts = [f"{k}={v}" for k, v in ((sel or {}).get("matchLabels") or {}).items()]
    for e in (sel or {}).get("matchExpressions") or []:
        op = e.get("operator", "").lower()
        parts.append(f"{e.get('key')} {op} ({','.join(e.get('values') or [])})" if op in ("in", "notin")
                     else (e.get("key") if op == "exists" else f"!{e.get('key')}"))
    return ",".join(parts) or "<none>"


def go_label_selector(sel):     # %#v of a *metav1.LabelSelector, as immutability errors print it
    ml = (sel or {}).get("matchLabels")
    mls = gofmt(ml) if ml else "map[string]string(nil)"
    return f"v1.LabelSelector{{MatchLabels:{mls}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}"


# ------------------------------------------------------ server-side printing

def _ctrs(o, at="spec.template.spec"):
    return get_path(o, at + ".containers", []) or []


def _pod_reason(o):
    st = o.get("status", {})
    for cs in st.get("containerStatuses", []) or []:
        w = (cs.get("state") or {}).get("waiting")
        if w and w.get("reason"):
            return w["reason"]
    return "Terminating" if o["metadata"].get("deletionTimestamp") else st.get("phase", "Pending")


def _ports(o):
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in get_path(o, "spec.ports", []) or []) or "<none>"


def _join(xs):
    return ",".join(xs) or "<none>"


NAME = ("Name", "string", 0, lambda o: o["metadata"]["name"])
AGE = ("Age", "string", 0, lambda o: age(o["metadata"].get("creationTimestamp")))
WORKLOAD = [("Containers", "string", 1, lambda o: _join(c.get("name", "") for c in _ctrs(o))),
            ("Images", "string", 1, lambda o: _join(c.get("image", "") for c in _ctrs(o)))]
TABLES = {
    "pods": [NAME, ("Ready", "string", 0, lambda o: "%d/%d" % (
        sum(1 for c in o.get("status", {}).get("containerStatuses", []) or [] if c.get("ready")),
        len(_ctrs(o, "spec")))), ("Status", "string", 0, _pod_reason),
        ("Restarts", "string", 0, lambda o: str(sum(c.get("restartCount", 0) for c in
                                                    o.get("status", {}).get("containerStatuses", []) or []))),
        AGE, ("IP", "string", 1, lambda o: get_path(o, "status.podIP") or "<none>"),
        ("Node", "string", 1, lambda o: get_path(o, "spec.nodeName") or "<none>"),
        ("Nominated Node", "string", 1, lambda o: "<none>"), ("Readiness Gates", "string", 1, lambda o: "<none>")],
    "services": [NAME, ("Type", "string", 0, lambda o: get_path(o, "spec.type", "")),
                 ("Cluster-IP", "string", 0, lambda o: get_path(o, "spec.clusterIP") or "<none>"),
                 ("External-IP", "string", 0, lambda o: "<none>"), ("Port(s)", "string", 0, _ports), AGE,
                 ("Selector", "string", 1, lambda o: _join(f"{k}={v}" for k, v in
                                                           (get_path(o, "spec.selector") or {}).items()))],
    "deployments": [NAME, ("Ready", "string", 0, lambda o: "%d/%d" % (
        get_path(o, "status.readyReplicas", 0), get_path(o, "spec.replicas", 0))),
        ("Up-to-date", "integer", 0, lambda o: get_path(o, "status.updatedReplicas", 0)),
        ("Available", "integer", 0, lambda o: get_path(o, "status.availableReplicas", 0)), AGE] + WORKLOAD +
        [("Selector", "string", 1, lambda o: selector_string(get_path(o, "spec.selector")))],
    "replicasets": [NAME, ("Desired", "integer", 0, lambda o: get_path(o, "spec.replicas", 0)),
                    ("Current", "integer", 0, lambda o: get_path(o, "status.replicas", 0)),
                    ("Ready", "integer", 0, lambda o: get_path(o, "status.readyReplicas", 0)), AGE] + WORKLOAD +
                   [("Selector", "string", 1, lambda o: selector_string(get_path(o, "spec.selector")))],
    "statefulsets": [NAME, ("Ready", "string", 0, lambda o: "%d/%d" % (
        get_path(o, "status.readyReplicas", 0), get_path(o, "spec.replicas", 0))), AGE] + WORKLOAD,
    "cronjobs": [NAME, ("Schedule", "string", 0, lambda o: get_path(o, "spec.schedule", "")),
                 ("Timezone", "string", 0, lambda o: get_path(o, "spec.timeZone") or "<none>"),
                 ("Suspend", "boolean", 0, lambda o: bool(get_path(o, "spec.suspend", False))),
                 ("Active", "integer", 0, lambda o: len(get_path(o, "status.active", []) or [])),
                 ("Last Schedule", "string", 0, lambda o: age(get_path(o, "status.lastScheduleTime"))
                  if get_path(o, "status.lastScheduleTime") else "<none>"), AGE] +
                [("Containers", "string", 1, lambda o: _join(c.get("name", "") for c in _ctrs(o, "spec.jobTemplate.spec.template.spec"))),
                 ("Images", "string", 1, lambda o: _join(c.get("image", "") for c in _ctrs(o, "spec.jobTemplate.spec.template.spec"))),
                 ("Selector", "string", 1, lambda o: "<none>")],
    "configmaps": [NAME, ("Data", "integer", 0, lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})), AGE],
    "secrets": [NAME, ("Type", "string", 0, lambda o: o.get("type", "")),
                ("Data", "integer", 0, lambda o: len(o.get("data") or {})), AGE],
    "serviceaccounts": [NAME, ("Secrets", "integer", 0, lambda o: len(o.get("secrets") or [])), AGE],
    "namespaces": [NAME, ("Status", "string", 0, lambda o: get_path(o, "status.phase", "")), AGE],
    "persistentvolumeclaims": [NAME, ("Status", "string", 0, lambda o: get_path(o, "status.phase", "")),
                               ("Volume", "string", 0, lambda o: get_path(o, "spec.volumeName", "")),
                               ("Capacity", "string", 0, lambda o: get_path(o, "status.capacity.storage", "")),
                               ("Access Modes", "string", 0, lambda o: ",".join(
                                   {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
                                    "ReadWriteOncePod": "RWOP"}.get(m, m) for m in get_path(o, "status.accessModes", []) or [])),
                               ("StorageClass", "string", 0, lambda o: get_path(o, "spec.storageClassName", "")),
                               ("VolumeAttributesClass", "string", 0, lambda o: "<unset>"), AGE,
                               ("VolumeMode", "string", 1, lambda o: get_path(o, "spec.volumeMode", ""))],
    "events": [("Last Seen", "string", 0, lambda o: age(o.get("lastTimestamp"))),
               ("Type", "string", 0, lambda o: o.get("type", "")), ("Reason", "string", 0, lambda o: o.get("reason", "")),
               ("Object", "string", 0, lambda o: f"{get_path(o, 'involvedObject.kind', '').lower()}/{get_path(o, 'involvedObject.name', '')}"),
               ("Subobject", "string", 1, lambda o: get_path(o, "involvedObject.fieldPath", "")),
               ("Source", "string", 1, lambda o: ", ".join(x for x in (get_path(o, "source.component", ""), get_path(o, "source.host", "")) if x)),
               ("Message", "string", 0, lambda o: o.get("message", "")),
               ("First Seen", "string", 1, lambda o: age(o.get("firstTimestamp"))),
               ("Count", "integer", 1, lambda o: o.get("count", 1)), ("Name", "string", 1, lambda o: o["metadata"]["name"])],
    "roles": [NAME, ("Created At", "date", 0, lambda o: o["metadata"].get("creationTimestamp"))],
    "rolebindings": [NAME, ("Role", "string", 0, lambda o: f"{get_path(o, 'roleRef.kind', '')}/{get_path(o, 'roleRef.name', '')}"), AGE,
                     ("Users", "string", 1, lambda o: ", ".join(s.get("name", "") for s in o.get("subjects") or [] if s.get("kind") == "User")),
                     ("Groups", "string", 1, lambda o: ", ".join(s.get("name", "") for s in o.get("subjects") or [] if s.get("kind") == "Group")),
                     ("ServiceAccounts", "string", 1, lambda o: ", ".join(f"{s.get('namespace', '')}/{s.get('name', '')}" for s in o.get("subjects") or [] if s.get("kind") == "ServiceAccount"))],
}
NAME_DESC = ("Name must be unique within a namespace. Is required when creating resources, although some "
             "resources may allow a client to request the generation of an appropriate name automatically. "
             "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
             "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")


def to_table(res, objs, rv, include="Metadata", cont=None):
    cols = TABLES[res.plural]
    table = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv}}
    if cont:
        table["metadata"]["continue"] = cont
    table["columnDefinitions"] = [{"name": n, "type": t, "format": "name" if n == "Name" else "",
                                   "description": NAME_DESC if n == "Name" else "", "priority": p}
                                  for n, t, p, _ in cols]
    rows = []
    for o in objs:
        row = {"cells": [fn(o) for _, _, _, fn in cols]}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": o["metadata"]}
        rows.append(row)
    table["rows"] = rows
    return table


# ------------------------------------------------------------- discovery


def api_resource_list(group):
    out = []
    for r in RESOURCES:
        if r.group != group:
            continue
        e = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
             "verbs": r.verbs}
        if r.short:
            e["shortNames"] = r.short
        if r.categories:
            e["categories"] = r.categories
        out.append(e)
        if r.status:
            out.append({"name": f"{r.plural}/status", "singularName": "", "namespaced": r.namespaced,
                        "kind": r.kind, "verbs": ["get", "patch", "update"]})
        if r.plural in SCALABLE:
            out.append({"name": f"{r.plural}/scale", "singularName": "", "namespaced": True, "group": "autoscaling",
                        "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
    return out


def aggregated(group, api_version):
    resources = []
    for r in RESOURCES:
        if r.group != group:
            continue
        e = {"resource": r.plural, "responseKind": {"group": group, "version": "v1", "kind": r.kind},
             "scope": "Namespaced" if r.namespaced else "Cluster", "singularResource": r.singular,
             "verbs": r.verbs}
        if r.short:
            e["shortNames"] = r.short
        if r.categories:
            e["categories"] = r.categories
        if r.status:
            e["subresources"] = [{"subresource": "status", "responseKind": {"group": group, "version": "v1",
                                                                             "kind": r.kind},
                                  "verbs": ["get", "patch", "update"]}]
        if r.plural in SCALABLE:
            e["subresources"].append({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1",
                                                                               "kind": "Scale"},
                                      "verbs": ["get", "patch", "update"]})
        resources.append(e)
    meta = {"name": group, "creationTimestamp": None} if group else {"creationTimestamp": None}
    return {"metadata": meta, "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}]}


def openapi_v3_doc(group):
    """A small but honest OpenAPI v3 document: the paths and operations (with
    their query parameters and x-kubernetes-group-version-kind) but no schemas.
    kubectl reads the PATCH operation's parameters to learn that the server
    does field validation (fieldValidation), so it can skip client-side
    validation."""
    camel = "".join(p.capitalize() for p in group.split(".")[0:2]) if group else "Core"
    camel = {"rbac.authorization.k8s.io": "RbacAuthorization"}.get(group, camel)
    paths = {}

    def q(name, typ="string"):
        return {"name": name, "in": "query", "description": name, "schema": {"type": typ, "uniqueItems": True}}
    write_params = [q("dryRun"), q("fieldManager"), q("fieldValidation")]
    list_params = [q("allowWatchBookmarks", "boolean"), q("continue"), q("fieldSelector"), q("labelSelector"),
                   q("limit", "integer"), q("resourceVersion"), q("resourceVersionMatch"),
                   q("sendInitialEvents", "boolean"), q("timeoutSeconds", "integer"), q("watch", "boolean")]
    for r in RESOURCES:
        if r.group != group:
            continue
        gvk = {"group": group, "kind": r.kind, "version": "v1"}
        scope = "Namespaced" if r.namespaced else ""
        base = r.prefix + ("/namespaces/{namespace}/" if r.namespaced else "/") + r.plural

        def op(verb, action, params, body=False):
            o = {"tags": [f"{camel[0].lower()}{camel[1:]}_v1"], "description": f"{action} {r.kind}",
                 "operationId": f"{verb}{camel}V1{scope}{r.kind}", "parameters": params,
                 "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
                 "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk}
            if body:
                types = (["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                          "application/strategic-merge-patch+json"] if action == "patch" else ["*/*"])
                o["requestBody"] = {"content": {t: {"schema": {"type": "object"}} for t in types}, "required": True}
            return o
        common = [{"name": "pretty", "in": "query", "schema": {"type": "string", "uniqueItems": True}}]
        if r.namespaced:
            common.insert(0, {"name": "namespace", "in": "path", "required": True,
                              "schema": {"type": "string", "uniqueItems": True}})
        paths[base] = {"get": op("list", "list", list_params), "post": op("create", "post", write_params, True),
                       "parameters": common}
        if "deletecollection" in r.verbs:
            paths[base]["delete"] = op("deleteCollection", "deletecollection", list_params + [q("propagationPolicy")])
        one = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "uniqueItems": True}}]
        paths[base + "/{name}"] = {
            "get": op("read", "get", []), "put": op("replace", "put", write_params, True),
            "delete": op("delete", "delete", [q("dryRun"), q("gracePeriodSeconds", "integer"),
                                              q("propagationPolicy")]),
            "patch": op("patch", "patch", write_params + [q("force", "boolean")], True),
            "parameters": one + common}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION_INFO["gitVersion"]},
            "paths": paths, "components": {"schemas": {}}}


# ------------------------------------------------------------------- store


class Record:
    """A stored object plus what the real apiserver keeps beside it."""

    def __init__(self, res, obj, managers):
        self.res, self.obj, self.managers = res, obj, managers
        self.pending = 0          # reads left before a simulated rollout settles
        self.reads_left = None    # reads left before the simulated GC removes a deleting object
        self.events_done = False  # ImagePullBackOff events emitted for this pod
        self.progress_start = time.time()   # when the current rollout began (progressDeadlineSeconds)
        self.deleting_since = 0.0

    def clone(self):
        r = Record(self.res, copy.deepcopy(self.obj), copy.deepcopy(self.managers))
        r.pending, r.reads_left, r.events_done = self.pending, self.reads_left, self.events_done
        r.progress_start, r.deleting_since = self.progress_start, self.deleting_since
        return r


class Api:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1000
        self.objects = {}         # (group, plural, namespace, name) -> Record
        self.events = []          # watch log: (rv, type, group, plural, namespace, object)
        self.faults = []
        self.requests = []
        self.deferred = []        # controller/GC work done after the current answer is taken
        self.mode = args.rollout
        self.foreground_gets = args.foreground_gets
        self.foreground_seconds = args.foreground_seconds
        self.next_ip = 10
        with self.lock:
            self.seed()

    # ---- state

    def seed(self):
        self.objects, self.events = {}, []
        names = ["default"] + ([] if self.args.bare else ["kube-node-lease", "kube-public", "kube-system"])
        names += [n for n in (self.args.namespaces or "").split(",") if n and n not in names]
        for n in names:
            self.create_object(BY_PLURAL["namespaces"], None, {"apiVersion": "v1", "kind": "Namespace",
                                                               "metadata": {"name": n}}, "kube-apiserver")
        if self.args.bare:
            return
        for n in names:
            self.namespace_defaults(n)
        self.create_object(BY_PLURAL["services"], "default", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}},
            "kube-apiserver")

    def namespace_defaults(self, n):
        """What kube-controller-manager puts in every namespace."""
        if self.args.bare:
            return
        self.create_object(BY_PLURAL["serviceaccounts"], n, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                             "metadata": {"name": "default"}}, "kube-controller-manager")
        self.create_object(BY_PLURAL["configmaps"], n, {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "kube-root-ca.crt", "annotations": {
                    "kubernetes.io/description": "Contains a CA bundle that can be used to verify the "
                                                 "kube-apiserver when using internal endpoints such as the "
                                                 "internal service IP or kubernetes.default.svc. No other "
                                                 "usage is guaranteed across distributions of Kubernetes "
                                                 "clusters."}},
                "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n(test)\n-----END CERTIFICATE-----\n"}},
                "kube-controller-manager")

    @staticmethod
    def key(res, ns, name):
        return (res.group, res.plural, ns or "", name)

    def get(self, res, ns, name):
        return self.objects.get(self.key(res, ns, name))

    def records(self, res, ns=None):
        return sorted((r for (g, p, n, _), r in self.objects.items()
                       if g == res.group and p == res.plural and (ns is None or n == ns)),
                      key=lambda r: (r.obj["metadata"].get("namespace", ""), r.obj["metadata"]["name"]))

    def namespace_ok(self, ns, res, name):
        """NamespaceLifecycle admission, for creates."""
        rec = self.get(BY_PLURAL["namespaces"], None, ns)
        if rec is None:
            raise ApiError(404, "NotFound", f"namespaces {goq(ns)} not found", details(ns, kind="namespaces"))
        if rec.obj["metadata"].get("deletionTimestamp"):
            raise forbidden(res, name, f"unable to create new content in namespace {ns} because it is being terminated")

    def commit(self, rec, etype):
        """Store a new version: resourceVersion, managedFields, watch event."""
        self.rv += 1
        meta = rec.obj["metadata"]
        meta["resourceVersion"] = str(self.rv)
        meta["managedFields"] = render_managed(rec.managers)
        if not meta["managedFields"]:
            del meta["managedFields"]
        rec.obj = canonical(rec.obj)
        self.objects[self.key(rec.res, meta.get("namespace"), meta["name"])] = rec
        self.events.append((self.rv, etype, rec.res.group, rec.res.plural, meta.get("namespace", ""),
                            copy.deepcopy(rec.obj)))
        self.cond.notify_all()

    def drop(self, rec):
        k = self.key(rec.res, rec.obj["metadata"].get("namespace"), rec.obj["metadata"]["name"])
        if self.objects.get(k) is not rec:
            return False
        del self.objects[k]
        self.rv += 1
        gone = copy.deepcopy(rec.obj)
        gone["metadata"]["resourceVersion"] = str(self.rv)
        self.events.append((self.rv, "DELETED", rec.res.group, rec.res.plural, k[2], gone))
        self.cond.notify_all()
        return True

    def prepare(self, res, obj, ns, old):
        """Server-side fields of a write: system metadata, status reset, defaults, generation."""
        meta = obj.setdefault("metadata", {})
        obj["apiVersion"], obj["kind"] = res.gv, res.kind
        for k in STRIPPED_META:
            if k != "name":
                meta.pop(k, None)
        if res.namespaced:
            meta["namespace"] = ns
        if old is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now()
            if res.status:
                obj["status"] = {"Namespace": {"phase": "Active"}, "PersistentVolumeClaim": {"phase": "Pending"},
                                 "Service": {"loadBalancer": {}}, "Pod": {"phase": "Pending", "qosClass": "BestEffort"}
                                 }.get(res.kind, {})
        else:
            om = old["metadata"]
            for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if k in om:
                    meta[k] = om[k]
            if res.status:
                obj["status"] = copy.deepcopy(old.get("status", {}))
        apply_defaults(res, obj, self.mode)
        if res.plural == "services" and isinstance(obj.get("spec"), dict) and obj["spec"].get("type") != "ExternalName":
            spec = obj["spec"]
            if old is not None and get_path(old, "spec.clusterIP"):
                spec.setdefault("clusterIP", old["spec"]["clusterIP"])
            if "clusterIP" not in spec:
                spec["clusterIP"] = f"10.96.{self.next_ip // 250}.{self.next_ip % 250 + 2}"
                self.next_ip += 1
            spec["clusterIPs"] = [spec["clusterIP"]]
        if res.generation:
            if old is None:
                meta["generation"] = 1
            else:
                meta["generation"] = old["metadata"].get("generation", 1) + (
                    0 if same(obj.get("spec"), old.get("spec")) else 1)
        return obj

    def validate(self, res, obj, old):
        meta = obj["metadata"]
        errs = [f_invalid("metadata.name", meta["name"], m) for m in name_errors(res.names, meta["name"])]
        if not meta["name"]:
            errs = [f_required("metadata.name", "name or generateName is required")]
        errs += label_errors(meta.get("labels"), "metadata.labels")
        if res.plural in ("deployments", "statefulsets", "replicasets"):
            sel = get_path(obj, "spec.selector")
            tl = get_path(obj, "spec.template.metadata.labels") or {}
            errs += label_errors(tl, "spec.template.metadata.labels")
            if not sel:
                errs.append(f_required("spec.selector"))
            elif not labels_match([("=", k, [v]) for k, v in (sel.get("matchLabels") or {}).items()], tl):
                errs.append(f_invalid("spec.template.metadata.labels", tl, "`selector` does not match template `labels`"))
            if old is not None and sel and not same(sel, get_path(old, "spec.selector")):
                errs.append(("FieldValueInvalid", "spec.selector",
                             f"Invalid value: {go_label_selector(sel)}: field is immutable"))
            if not get_path(obj, "spec.template.spec.containers"):
                errs.append(f_required("spec.template.spec.containers"))
        if res.plural in ("configmaps", "secrets") and old is not None and old.get("immutable"):
            if not obj.get("immutable"):
                errs.append(f_forbidden("immutable", "field is immutable when `immutable` is set"))
            for f in ("data", "binaryData"):
                if not same(obj.get(f), old.get(f)):
                    errs.append(f_forbidden(f, "field is immutable when `immutable` is set"))
        if errs:
            raise invalid(res.qualified_kind, res.group, res.kind, meta["name"], errs)

    def check_secret_data(self, res, obj):
        """Secret data is []byte: a bad base64 string fails decoding (400, not 422)."""
        if res.plural != "secrets":
            return
        for v in (obj.get("data") or {}).values():
            try:
                base64.b64decode(str(v), validate=True)
            except ValueError:
                pos = next((i for i, c in enumerate(str(v)) if not re.match(r"[A-Za-z0-9+/=]", c)), len(str(v)))
                raise bad_request(f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data '
                                  f'at input byte {pos}')

    def create_object(self, res, ns, obj, manager, sub=None):
        """A write that creates an object (controllers and seeding come here too)."""
        existing = self.get(res, ns, obj["metadata"]["name"])
        if existing is not None:
            return existing
        obj = self.prepare(res, copy.deepcopy(obj), ns, None)
        managers = []
        track_update({"metadata": {}}, obj, managers, manager, res)
        rec = Record(res, obj, managers)
        self.commit(rec, "ADDED")
        return rec

    def controller_write(self, rec, new, manager, sub=None):
        """A controller's Update of an existing object (status via sub='status')."""
        if same(new, rec.obj):
            return
        track_update(rec.obj, new, rec.managers, manager, rec.res, sub)
        rec.obj = new
        self.commit(rec, "MODIFIED")

    # ---- reads advance the simulation

    def observe(self, rec):
        """A client has seen this object: count the read for a pending rollout
        or a pending (foreground/orphan) deletion."""
        if rec.reads_left is not None:
            rec.reads_left -= 1
            if rec.reads_left <= 0:
                rec.reads_left = None
                self.deferred.append(lambda: self.finalize(rec))
        elif rec.pending:
            rec.pending -= 1
            if rec.pending == 0:
                self.deferred.append(lambda: self.reconcile(rec))
        elif self.deadline_due(rec):
            self.deferred.append(lambda: self.reconcile(rec))

    def deadline_due(self, rec):
        """A stuck Deployment whose progressDeadlineSeconds has just passed."""
        if rec.res.plural != "deployments" or self.mode == "ready" or rec.pending:
            return False
        prog = next((c for c in get_path(rec.obj, "status.conditions", []) or [] if c.get("type") == "Progressing"), {})
        return prog.get("reason") != "ProgressDeadlineExceeded" and \
            time.time() - rec.progress_start >= get_path(rec.obj, "spec.progressDeadlineSeconds", 600)

    def sweep(self):
        """With --foreground-seconds, the GC also finishes deletions nobody reads."""
        if self.foreground_seconds > 0:
            for rec in list(self.objects.values()):
                if rec.reads_left is not None and time.time() - rec.deleting_since >= self.foreground_seconds:
                    rec.reads_left = None
                    self.finalize(rec)

    def run_deferred(self):
        while self.deferred:
            self.deferred.pop(0)()

    # ---- deletion and garbage collection

    def dependents(self, owner):
        uid = owner.obj["metadata"]["uid"]
        return [r for r in list(self.objects.values())
                if any(o.get("uid") == uid for o in r.obj["metadata"].get("ownerReferences", []) or [])]

    def finalize(self, rec):
        """The garbage collector finishes a deletion: dependents first."""
        if self.objects.get(self.key(rec.res, rec.obj["metadata"].get("namespace"), rec.obj["metadata"]["name"])) is not rec:
            return
        fin = rec.obj["metadata"].get("finalizers", [])
        orphan = "orphan" in fin
        for dep in self.dependents(rec):
            if orphan:
                new = copy.deepcopy(dep.obj)
                new["metadata"]["ownerReferences"] = [o for o in new["metadata"]["ownerReferences"]
                                                      if o.get("uid") != rec.obj["metadata"]["uid"]]
                if not new["metadata"]["ownerReferences"]:
                    del new["metadata"]["ownerReferences"]
                self.controller_write(dep, new, "kube-controller-manager")
            else:
                self.finalize(dep)
        if rec.res.plural == "namespaces":
            ns = rec.obj["metadata"]["name"]
            for r in [r for k, r in self.objects.items() if k[2] == ns and r.res.namespaced]:
                self.drop(r)
        left = [f for f in fin if f not in ("orphan", "foregroundDeletion")]
        if left and rec.res.plural != "namespaces":   # somebody else's finalizer: wait for it
            new = copy.deepcopy(rec.obj)
            new["metadata"]["finalizers"] = left
            self.controller_write(rec, new, "kube-controller-manager")
            return
        self.drop(rec)

    def delete_object(self, rec, policy):
        """Returns the object to answer with, or None when it is gone at once."""
        res, meta = rec.res, rec.obj["metadata"]
        if meta.get("deletionTimestamp"):
            return copy.deepcopy(rec.obj)
        if res.plural == "namespaces":
            policy = "namespace"
        user_finalizers = [f for f in meta.get("finalizers", []) or [] if f not in ("orphan", "foregroundDeletion")]
        if policy in ("Foreground", "Orphan", "namespace") or user_finalizers:
            new = copy.deepcopy(rec.obj)
            m = new["metadata"]
            if res.generation:
                m["generation"] = m.get("generation", 1) + 1     # markAsDeleting bumps generation
            m["deletionTimestamp"] = now()
            m["deletionGracePeriodSeconds"] = 0
            if policy == "Foreground":
                m["finalizers"] = (m.get("finalizers") or []) + ["foregroundDeletion"]
            elif policy == "Orphan":
                m["finalizers"] = (m.get("finalizers") or []) + ["orphan"]
            elif policy == "namespace":
                new["status"] = {"phase": "Terminating"}
            rec.obj = new
            self.commit(rec, "MODIFIED")
            if policy in ("Foreground", "Orphan", "namespace"):
                rec.reads_left = self.foreground_gets
                rec.deleting_since = time.time()
                if rec.reads_left <= 0:
                    rec.reads_left = None
                    self.deferred.append(lambda: self.finalize(rec))
            return copy.deepcopy(rec.obj)
        for dep in self.dependents(rec):       # background: the GC deletes dependents right after
            self.deferred.append(lambda dep=dep: self.delete_object(dep, "Background"))
        self.drop(rec)
        return None

    # ---- the simulated kube-controller-manager and kubelet

    def after_write(self, rec, old):
        """Called after a client wrote an object."""
        res = rec.res
        if rec.obj["metadata"].get("deletionTimestamp"):
            if not rec.obj["metadata"].get("finalizers") and rec.reads_left is None:
                self.drop(rec)       # last finalizer removed
            return
        if res.plural in ("deployments", "statefulsets"):
            gen_changed = old is None or old["metadata"].get("generation") != rec.obj["metadata"].get("generation")
            if gen_changed:
                rec.pending = 1      # the next read still shows the rollout in progress
                rec.progress_start = time.time()
                self.write_status(rec, self.rolling_status(rec, old))
            self.sync_workload(rec)
        elif res.plural == "replicasets":
            self.sync_replicaset(rec)
        elif res.plural in ("pods", "persistentvolumeclaims") and old is None:
            self.reconcile(rec)
        elif res.plural == "namespaces" and old is None:
            self.namespace_defaults(rec.obj["metadata"]["name"])

    def reconcile(self, rec):
        """Settle an object into the state the current --rollout mode implies."""
        if self.objects.get(self.key(rec.res, rec.obj["metadata"].get("namespace"), rec.obj["metadata"]["name"])) is not rec:
            return
        if rec.obj["metadata"].get("deletionTimestamp"):
            return
        p = rec.res.plural
        if p in ("deployments", "statefulsets"):
            self.sync_workload(rec)
        elif p == "replicasets":
            self.sync_replicaset(rec)
        elif p == "pods":
            self.kubelet(rec)
        elif p == "persistentvolumeclaims":
            new = copy.deepcopy(rec.obj)
            if self.mode == "ready":
                new.setdefault("spec", {}).setdefault("volumeName", "pvc-" + rec.obj["metadata"]["uid"])
                self.controller_write(rec, new, "kube-controller-manager")
                self.write_status(rec, {"phase": "Bound", "accessModes": get_path(new, "spec.accessModes", []),
                                        "capacity": {"storage": get_path(new, "spec.resources.requests.storage", "1Gi")}})
            else:
                self.write_status(rec, {"phase": "Pending"})

    def set_mode(self, mode):
        self.mode = mode
        for kind in ("statefulsets", "replicasets", "deployments", "pods", "persistentvolumeclaims"):
            for rec in self.records(BY_PLURAL[kind]):
                if not rec.pending:
                    self.reconcile(rec)

    def write_status(self, rec, status):
        new = copy.deepcopy(rec.obj)
        new["status"] = status
        self.controller_write(rec, new, "kube-controller-manager", "status")

    def event(self, involved, reason, message, etype="Normal", component="kubelet", field_path=None):
        m = involved.obj["metadata"]
        io = {"kind": involved.res.kind, "namespace": m["namespace"], "name": m["name"], "uid": m["uid"],
              "apiVersion": involved.res.gv, "resourceVersion": m["resourceVersion"]}
        if field_path:
            io["fieldPath"] = field_path
        t = now()
        src = {"component": component}
        if component == "kubelet":
            src["host"] = "kind-worker"
        self.create_object(BY_PLURAL["events"], m["namespace"], {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{m['name']}.{self.event_clock():x}"}, "involvedObject": io,
            "reason": reason, "message": message, "source": src, "firstTimestamp": t, "lastTimestamp": t,
            "count": 1, "type": etype, "eventTime": None, "reportingComponent": component,
            "reportingInstance": "kind-worker" if component == "kubelet" else ""}, component)

    def event_clock(self):
        """Event names are NAME.<UnixNano in hex>: increasing, so a list is in time order."""
        self.last_nano = max(time.time_ns(), getattr(self, "last_nano", 0) + 1)
        return self.last_nano

    @staticmethod
    def condition(ctype, status, reason, message, old_status):
        t = now()
        prev = next((c for c in (old_status or {}).get("conditions", []) or [] if c.get("type") == ctype), None)
        c = {"type": ctype, "status": status}
        if ctype in ("Available", "Progressing"):
            c["lastUpdateTime"] = t
        c["lastTransitionTime"] = prev["lastTransitionTime"] if prev and prev.get("status") == status else t
        if reason:
            c["reason"] = reason
        if message:
            c["message"] = message
        return c

    def rolling_status(self, rec, old):
        """What the status shows right after the spec changed: not yet rolled out."""
        o = rec.obj
        if old is not None and o.get("status", {}).get("observedGeneration"):
            st = copy.deepcopy(o["status"])
            st["observedGeneration"] = o["metadata"]["generation"] - 1
            return st
        n = get_path(o, "spec.replicas", 1)
        if rec.res.plural == "statefulsets" or n == 0:
            return {"replicas": 0, "availableReplicas": 0} if rec.res.plural == "statefulsets" else {}
        h = safe_hash(get_path(o, "spec.template"))
        return self.deploy_status(o, n, f"{o['metadata']['name']}-{h}", ready=False)

    def deploy_status(self, o, n, rs_name, ready, progress_start=None):
        old = o.get("status", {})
        progress_start = time.time() if progress_start is None else progress_start
        st = {"observedGeneration": o["metadata"]["generation"]}
        if n:
            st["replicas"] = n
            st["updatedReplicas"] = n
        if ready and n:
            st["readyReplicas"] = n
            st["availableReplicas"] = n
        elif n:
            st["unavailableReplicas"] = n
        if ready or not n:
            st["conditions"] = [
                self.condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", old),
                self.condition("Progressing", "True", "NewReplicaSetAvailable",
                          f'ReplicaSet "{rs_name}" has successfully progressed.', old)]
        else:
            timed_out = time.time() - progress_start >= get_path(o, "spec.progressDeadlineSeconds", 600)
            st["conditions"] = [
                self.condition("Available", "False", "MinimumReplicasUnavailable",
                               "Deployment does not have minimum availability.", old),
                self.condition("Progressing", "False", "ProgressDeadlineExceeded",
                               f'ReplicaSet "{rs_name}" has timed out progressing.', old) if timed_out else
                self.condition("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.', old)]
        return st

    def sync_workload(self, rec):
        o = rec.obj
        m = o["metadata"]
        tmpl = get_path(o, "spec.template") or {}
        n = get_path(o, "spec.replicas", 1)
        h = safe_hash(tmpl)
        if rec.res.plural == "deployments":
            rs_res = BY_PLURAL["replicasets"]
            owned = [r for r in self.dependents(rec) if r.res is rs_res]
            rs_name = f"{m['name']}-{h}"
            cur = next((r for r in owned if r.obj["metadata"]["name"] == rs_name), None)
            orphan = self.get(rs_res, m["namespace"], rs_name)
            if cur is None and orphan is not None and not self.controller_of(orphan):
                cur = self.adopt(orphan, rec)      # e.g. left behind by an Orphan deletion
                owned.append(cur)
            revisions = [int(get_path(r.obj, "metadata.annotations", {}).get("deployment.kubernetes.io/revision", "0"))
                         for r in owned]
            if cur is None:
                rev = str(max(revisions + [0]) + 1)
                labels = dict(get_path(tmpl, "metadata.labels") or {}, **{"pod-template-hash": h})
                t2 = copy.deepcopy(tmpl)
                t2.setdefault("metadata", {})["labels"] = labels
                sel = copy.deepcopy(get_path(o, "spec.selector") or {})
                sel.setdefault("matchLabels", {})["pod-template-hash"] = h
                cur = self.create_object(rs_res, m["namespace"], {
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": rs_name, "labels": labels, "annotations": {
                        "deployment.kubernetes.io/desired-replicas": str(n),
                        "deployment.kubernetes.io/max-replicas": str(n + max(1, (n + 3) // 4)),
                        "deployment.kubernetes.io/revision": rev},
                        "ownerReferences": [self.owner_ref(rec)]},
                    "spec": {"replicas": n, "selector": sel, "template": t2}}, "kube-controller-manager")
                self.event(rec, "ScalingReplicaSet", f"Scaled up replica set {rs_name} from 0 to {n}",
                           component="deployment-controller")
            elif get_path(cur.obj, "spec.replicas") != n:
                new = copy.deepcopy(cur.obj)
                new["spec"]["replicas"] = n
                new["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(n)
                self.controller_write(cur, new, "kube-controller-manager")
            for r in owned:
                if r is not cur and get_path(r.obj, "spec.replicas", 0) != 0:
                    was = get_path(r.obj, "spec.replicas", 0)
                    new = copy.deepcopy(r.obj)
                    new["spec"]["replicas"] = 0
                    self.controller_write(r, new, "kube-controller-manager")
                    self.event(rec, "ScalingReplicaSet", f"Scaled down replica set {r.obj['metadata']['name']} "
                                                         f"from {was} to 0", component="deployment-controller")
            rev = cur.obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            if get_path(o, "metadata.annotations", {}).get("deployment.kubernetes.io/revision") != rev:
                new = copy.deepcopy(rec.obj)
                new["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = rev
                self.controller_write(rec, new, "kube-controller-manager")
            for r in owned + ([cur] if cur not in owned else []):
                self.sync_replicaset(r)
            if not rec.pending:
                self.write_status(rec, self.deploy_status(rec.obj, n, rs_name, self.mode == "ready", rec.progress_start))
            return
        # StatefulSet: pods NAME-0..N-1, created in order; an unready pod 0 blocks the others
        rev = f"{m['name']}-{h}"
        want = n if self.mode == "ready" else min(n, 1)
        pods = {r.obj["metadata"]["name"]: r for r in self.dependents(rec) if r.res.plural == "pods"}
        for name, p in pods.items():
            idx = int(name.rsplit("-", 1)[1])
            if idx >= want or p.obj["metadata"]["labels"].get("controller-revision-hash") != rev:
                self.drop(p)     # a template change replaces the pod
        for i in range(want):
            name = f"{m['name']}-{i}"
            existing = self.get(BY_PLURAL["pods"], m["namespace"], name)
            if existing is not None and not self.controller_of(existing):
                self.adopt(existing, rec)
            if existing is None:
                labels = dict(get_path(tmpl, "metadata.labels") or {}, **{
                    "apps.kubernetes.io/pod-index": str(i), "controller-revision-hash": rev,
                    "statefulset.kubernetes.io/pod-name": name})
                for vct in get_path(o, "spec.volumeClaimTemplates", []) or []:   # PVC per pod, kept on delete
                    claim = f"{get_path(vct, 'metadata.name', '')}-{name}"
                    if self.get(BY_PLURAL["persistentvolumeclaims"], m["namespace"], claim) is None:
                        pvc = self.create_object(BY_PLURAL["persistentvolumeclaims"], m["namespace"], {
                            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                            "metadata": {"name": claim, "labels": dict(get_path(tmpl, "metadata.labels") or {})},
                            "spec": copy.deepcopy(vct.get("spec") or {})}, "kube-controller-manager")
                        self.reconcile(pvc)
                self.make_pod(rec, name, tmpl, labels)
                self.event(rec, "SuccessfulCreate", f"create Pod {name} in StatefulSet {m['name']} successful",
                           component="statefulset-controller")
            else:
                self.kubelet(self.get(BY_PLURAL["pods"], m["namespace"], name))
        if not rec.pending:
            st = {"observedGeneration": m["generation"], "replicas": want}
            if self.mode == "ready" and want:
                st["readyReplicas"] = want
            st.update({"currentReplicas": want, "updatedReplicas": want, "currentRevision": rev,
                       "updateRevision": rev, "collisionCount": 0,
                       "availableReplicas": want if self.mode == "ready" else 0})
            self.write_status(rec, st)

    @staticmethod
    def controller_of(rec):
        return next((o for o in rec.obj["metadata"].get("ownerReferences", []) or [] if o.get("controller")), None)

    def adopt(self, rec, owner):
        new = copy.deepcopy(rec.obj)
        new["metadata"]["ownerReferences"] = (new["metadata"].get("ownerReferences") or []) + [self.owner_ref(owner)]
        self.controller_write(rec, new, "kube-controller-manager")
        return rec

    @staticmethod
    def owner_ref(rec):
        return {"apiVersion": rec.res.gv, "kind": rec.res.kind, "name": rec.obj["metadata"]["name"],
                "uid": rec.obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}

    def sync_replicaset(self, rec):
        o = rec.obj
        if o["metadata"].get("deletionTimestamp"):
            return
        n = get_path(o, "spec.replicas", 1)
        sel = [("=", k, [v]) for k, v in (get_path(o, "spec.selector.matchLabels") or {}).items()]
        for p in self.records(BY_PLURAL["pods"], o["metadata"]["namespace"]):
            if sel and not self.controller_of(p) and labels_match(sel, p.obj["metadata"].get("labels")):
                self.adopt(p, rec)
        pods = [r for r in self.dependents(rec) if r.res.plural == "pods"]
        for p in pods[n:]:
            self.drop(p)
        for _ in range(n - len(pods)):
            name = f"{o['metadata']['name']}-{rand_suffix()}"
            self.make_pod(rec, name, get_path(o, "spec.template") or {}, get_path(o, "spec.template.metadata.labels") or {})
            self.event(rec, "SuccessfulCreate", f"Created pod: {name}", component="replicaset-controller")
        for p in pods[:n]:
            self.kubelet(p)
        ready = self.mode == "ready"
        st = {"replicas": n}
        if n:
            st["fullyLabeledReplicas"] = n
        if ready and n:
            st["readyReplicas"] = n
            st["availableReplicas"] = n
        st["observedGeneration"] = o["metadata"]["generation"]
        self.write_status(rec, st)

    def make_pod(self, owner, name, tmpl, labels):
        spec = copy.deepcopy(tmpl.get("spec") or {})
        spec["nodeName"] = "kind-worker"
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "labels": dict(labels), "ownerReferences": [self.owner_ref(owner)]},
               "spec": spec}
        if (tmpl.get("metadata") or {}).get("annotations"):
            pod["metadata"]["annotations"] = copy.deepcopy(tmpl["metadata"]["annotations"])
        rec = self.create_object(BY_PLURAL["pods"], owner.obj["metadata"]["namespace"], pod, "kube-controller-manager")
        self.kubelet(rec)
        return rec

    def kubelet(self, rec):
        """Pod status as the kubelet would report it in the current mode."""
        o = rec.obj
        ctrs = get_path(o, "spec.containers", []) or []
        t = now()
        old = o.get("status", {})
        started = old.get("startTime", t)
        ready = self.mode == "ready"
        names = " ".join(c.get("name", "") for c in ctrs)
        if ready:
            conds = [self.condition("PodReadyToStartContainers", "True", None, None, old),
                     self.condition("Initialized", "True", None, None, old), self.condition("Ready", "True", None, None, old),
                     self.condition("ContainersReady", "True", None, None, old),
                     self.condition("PodScheduled", "True", None, None, old)]
            statuses = [{"containerID": "containerd://" + hashlib.sha256((o["metadata"]["uid"] + c.get("name", "")).encode()).hexdigest(),
                         "image": full_image(c.get("image", "")),
                         "imageID": full_image(c.get("image", "")).rsplit(":", 1)[0] + "@sha256:" + hashlib.sha256(c.get("image", "").encode()).hexdigest(),
                         "lastState": {}, "name": c.get("name", ""), "ready": True, "restartCount": 0, "started": True,
                         "state": {"running": {"startedAt": started}}} for c in ctrs]
        else:
            conds = [self.condition("PodReadyToStartContainers", "True", None, None, old),
                     self.condition("Initialized", "True", None, None, old),
                     self.condition("Ready", "False", "ContainersNotReady", f"containers with unready status: [{names}]", old),
                     self.condition("ContainersReady", "False", "ContainersNotReady", f"containers with unready status: [{names}]", old),
                     self.condition("PodScheduled", "True", None, None, old)]
            statuses = [{"image": c.get("image", ""), "imageID": "", "lastState": {}, "name": c.get("name", ""),
                         "ready": False, "restartCount": 0, "started": False,
                         "state": {"waiting": {"message": f'Back-off pulling image "{c.get("image", "")}"',
                                               "reason": "ImagePullBackOff"}}} for c in ctrs]
        ip = "10.244.0." + str(int(hashlib.sha256(o["metadata"]["uid"].encode()).hexdigest(), 16) % 250 + 2)
        st = {"phase": "Running" if ready else "Pending", "conditions": conds, "hostIP": "172.18.0.2",
              "hostIPs": [{"ip": "172.18.0.2"}], "podIP": ip, "podIPs": [{"ip": ip}], "startTime": started,
              "containerStatuses": statuses, "qosClass": "BestEffort"}
        if same({k: v for k, v in st.items() if k != "conditions"},
                {k: v for k, v in old.items() if k != "conditions"}) and \
                [(c["type"], c["status"]) for c in conds] == [(c["type"], c["status"]) for c in old.get("conditions", [])]:
            return
        new = copy.deepcopy(o)
        new["status"] = st
        self.controller_write(rec, new, "kubelet", "status")
        if not ready and not rec.events_done:
            rec.events_done = True
            m = o["metadata"]
            self.event(rec, "Scheduled", f"Successfully assigned {m['namespace']}/{m['name']} to kind-worker",
                       component="default-scheduler")
            for c in ctrs:
                img, fp = c.get("image", ""), f"spec.containers{{{c.get('name', '')}}}"
                ref = full_image(img)
                self.event(rec, "Pulling", f'Pulling image "{img}"', field_path=fp)
                self.event(rec, "Failed", f'Failed to pull image "{img}": rpc error: code = NotFound desc = failed '
                                          f'to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
                                          f'{ref}: not found', "Warning", field_path=fp)
                self.event(rec, "Failed", "Error: ErrImagePull", "Warning", field_path=fp)
                self.event(rec, "BackOff", f'Back-off pulling image "{img}"', field_path=fp)
                self.event(rec, "Failed", "Error: ImagePullBackOff", "Warning", field_path=fp)


# ------------------------------------------------------------------ HTTP

def media_types(accept):
    out = []
    for part in (accept or "").split(","):
        bits = [b.strip() for b in part.split(";")]
        if bits[0]:
            out.append((bits[0].lower(), dict(b.split("=", 1) for b in bits[1:] if "=" in b)))
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api = None            # set in main()

    def setup(self):
        self.request.settimeout(30)
        try:
            self.request.do_handshake()   # in this thread, not in the accept loop
        except (ssl.SSLError, OSError):
            self.handshake_failed = True
        else:
            self.handshake_failed = False
        self.request.settimeout(600)
        super().setup()

    def handle(self):
        if not self.handshake_failed:
            try:
                super().handle()
            except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
                pass

    def log_message(self, fmt, *args):
        if self.api.args.verbose:
            sys.stderr.write("kube-api: " + (fmt % args) + "\n")

    def do_GET(self):
        self.dispatch()
    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # ---- plumbing

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, code, body, ctype="application/json", headers=None):
        data = body if isinstance(body, bytes) else (json.dumps(body, separators=(",", ":")) + "\n").encode()
        self.send_response_only(code)
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.log_request(code)

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def dispatch(self):
        api = self.api
        u = urllib.parse.urlsplit(self.path)
        self.rpath, self.query = u.path, urllib.parse.parse_qs(u.query, keep_blank_values=True)
        body = self.read_body()
        if self.rpath.startswith("/_test/"):
            return self.control(body)
        self.body_raw = body
        self.user, self.groups, self.auth = None, [], "none"
        self.recorded = False
        code = 500
        try:
            self.authenticate()
            with api.lock:
                fault = self.match_fault()
            if fault:
                code = self.serve_fault(fault)
            else:
                code = self.route()
        except ApiError as e:
            code = e.code
            if e.text is not None:
                self.send(e.code, e.text.encode(), "text/plain; charset=utf-8",
                          dict(e.headers, **{"X-Content-Type-Options": "nosniff"}))
            else:
                self.send(e.code, e.body, headers=e.headers)
        except (BrokenPipeError, ConnectionResetError):
            code = 499
        except Exception as e:       # a bug here: answer like the apiserver's panic handler
            traceback.print_exc()
            code = 500
            err = ApiError(500, "InternalError", f"Internal error occurred: {e}", details(causes=[{"message": str(e)}]))
            self.send(500, err.body)
        if not self.recorded:
            self.record(code)

    def record(self, code):
        ctype = self.headers.get("Content-Type")
        parsed = None
        if self.body_raw:
            text = self.body_raw.decode("utf-8", "replace")
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
        entry = {"time": now(), "method": self.command, "path": self.rpath, "query": self.query,
                 "content_type": ctype, "accept": self.headers.get("Accept"),
                 "user_agent": self.headers.get("User-Agent"), "user": self.user, "groups": self.groups,
                 "auth": self.auth, "body": parsed, "status": code}
        with self.api.lock:
            self.api.requests.append(entry)
            with open(os.path.join(self.api.args.state_dir, "requests.jsonl"), "a") as f:
                f.write(json.dumps(entry) + "\n")

    # ---- authentication and authorization

    def authenticate(self):
        try:
            with open(self.api.args.auth) as f:
                cfg = json.load(f)
        except (OSError, ValueError) as e:
            sys.stderr.write(f"kube-api: cannot read --auth file: {e}\n")
            cfg = {}
        cert = self.request.getpeercert() if cfg.get("client_cert") else None
        if cert:    # the x509 authenticator runs first, as in kube-apiserver
            subject = [dict(rdn) for rdn in cert.get("subject", ())]
            cn = next((d["commonName"] for d in subject if "commonName" in d), None)
            if cn:
                self.user, self.auth = cn, "cert"
                self.groups = [d["organizationName"] for d in subject if "organizationName" in d]
        authz = self.headers.get("Authorization") or ""
        scheme, _, cred = authz.partition(" ")
        if self.user is None and scheme.lower() == "bearer":
            self.auth = "bearer"
            who = (cfg.get("tokens") or {}).get(cred.strip())
            if isinstance(who, dict):
                self.user, self.groups = who.get("user"), list(who.get("groups", []))
            elif who:
                self.user = who
        elif self.user is None and scheme.lower() == "basic":
            self.auth = "basic"
            try:
                name, _, pw = base64.b64decode(cred.strip()).decode().partition(":")
            except ValueError:
                name, pw = None, None
            if name is not None and (cfg.get("basic") or {}).get(name) == pw and pw is not None:
                self.user = name
        elif self.user is None and authz:
            self.auth = scheme.lower() or "none"
        if self.user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        self.groups = self.groups + ["system:authenticated"]
        self.deny_rules = cfg.get("deny") or []

    def authorize(self, res, verb, ns, name, sub):
        for rule in self.deny_rules:
            def ok(key, value):
                want = rule.get(key, "*")
                return want == "*" or value == want or (isinstance(want, list) and value in want)
            if ok("user", self.user) and ok("verb", verb) and ok("resource", res.plural) and \
                    ok("namespace", ns or "") and ok("name", name or "") and ok("group", res.group):
                resource = res.plural + (f"/{sub}" if sub else "")
                where = f"in the namespace {goq(ns)}" if ns else "at the cluster scope"
                raise forbidden(res, name, f"User {goq(self.user)} cannot {verb} resource {goq(resource)} "
                                           f"in API group {goq(res.group)} {where}")

    # ---- faults

    def match_fault(self):
        for f in self.api.faults:
            if f.get("count", 1) == 0:
                continue
            if f.get("method", "*") not in ("*", self.command):
                continue
            if f.get("path") and not re.search(f["path"], self.rpath):
                continue
            if f.get("count", 1) > 0:
                f["count"] = f.get("count", 1) - 1
            return f
        return None

    def serve_fault(self, f):
        if f.get("delay"):
            time.sleep(float(f["delay"]))
        if f.get("close"):
            self.close_connection = True
            self.request.shutdown(socket.SHUT_RDWR)
            return 0
        code = int(f.get("status", 500))
        msg = f.get("message")
        headers = {"Retry-After": f["retry_after"]} if f.get("retry_after") is not None else {}
        parsed = self.parse_resource(quiet=True)
        res, ns, name = (parsed[0], parsed[1], parsed[2]) if parsed else (None, None, None)
        if code == 429:
            headers.setdefault("Retry-After", 1)
            if f.get("body", "text") == "text":   # what priority-and-fairness answers
                raise ApiError(429, None, None, headers=headers, text=msg or "Too many requests, please try again later.\n")
            raise ApiError(429, "TooManyRequests", msg or "Too many requests, please try again later.",
                           details(retry=int(headers["Retry-After"])), headers)
        if code == 401:
            raise ApiError(401, "Unauthorized", msg or "Unauthorized", headers=headers)
        if code == 403 and res:
            verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update", "PATCH": "patch",
                    "DELETE": "delete" if name else "deletecollection"}.get(self.command, "get")
            where = f"in the namespace {goq(ns)}" if ns else "at the cluster scope"
            e = forbidden(res, name, msg or f"User {goq(self.user)} cannot {verb} resource {goq(res.plural)} in API "
                                            f"group {goq(res.group)} {where}")
        elif code == 404 and res and name:
            e = not_found(res, name)
        elif code == 409 and res and name:
            e = modified_conflict(res, name)
        elif code == 422 and res:
            e = invalid(res.qualified_kind, res.group, res.kind, name or "",
                        [("FieldValueInvalid", "metadata.name", msg or f"Invalid value: {goq(name or '')}: injected fault")])
        elif code == 500:
            e = ApiError(500, "InternalError", f"Internal error occurred: {msg or 'injected fault'}",
                         details(causes=[{"message": msg or "injected fault"}]))
        elif code == 504:
            e = ApiError(504, "Timeout", msg or "Timeout: request did not complete within requested timeout - "
                                                "context deadline exceeded", {})
        else:
            reason, default = {400: ("BadRequest", "the server rejected our request for an unknown reason"),
                               403: ("Forbidden", "forbidden"), 404: ("NotFound", "the server could not find the requested resource"),
                               405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
                               409: ("Conflict", "the server reported a conflict"),
                               410: ("Expired", "too old resource version"),
                               503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
                               }.get(code, ("InternalError", "an error on the server has prevented the request from succeeding"))
            e = ApiError(code, reason, msg or default)
        e.headers.update(headers)
        raise e

    # ---- routing

    def route(self):
        p = self.rpath.rstrip("/") or "/"
        if p == "/version":
            return self.send(200, VERSION_INFO) or 200
        if p in ("/healthz", "/livez", "/readyz"):
            return self.send(200, b"ok", "text/plain; charset=utf-8") or 200
        if p.startswith("/openapi/"):
            return self.openapi(p)
        if p in ("/api", "/apis") or p.count("/") == 2 or \
                (p.count("/") == 3 and p.startswith("/apis/")):
            return self.discovery(p)
        parsed = self.parse_resource()
        if parsed is None:
            raise ApiError(404, None, None, text="404 page not found\n")
        return self.resource_request(*parsed)

    def discovery(self, p):
        api = self.api
        kinds = [params for mt, params in media_types(self.headers.get("Accept"))
                 if mt == "application/json" and params.get("as") == "APIGroupDiscoveryList"
                 and params.get("g") == "apidiscovery.k8s.io"]
        if p in ("/api", "/apis") and kinds and not api.args.no_aggregated_discovery:
            version = kinds[0].get("v", "v2")
            groups = [""] if p == "/api" else GROUPS
            body = {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}",
                    "metadata": {}, "items": [aggregated(g, version) for g in groups]}
            ctype = f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
            return self.send(200, body, ctype, {"Vary": "Accept"}) or 200
        if p == "/api":
            body = {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "172.18.0.2:6443"}]}
        elif p == "/apis":
            body = {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": f"{g}/v1", "version": "v1"}} for g in GROUPS]}
        elif p == "/api/v1":
            body = {"kind": "APIResourceList", "groupVersion": "v1", "resources": api_resource_list("")}
        elif p.startswith("/apis/") and p.count("/") == 2 and p.split("/")[2] in GROUPS:
            g = p.split("/")[2]
            gv = {"groupVersion": f"{g}/v1", "version": "v1"}
            body = {"kind": "APIGroup", "apiVersion": "v1", "name": g, "versions": [gv], "preferredVersion": gv}
        elif p.startswith("/apis/") and p.split("/")[2] in GROUPS and p.split("/")[3] == "v1":
            g = p.split("/")[2]
            body = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{g}/v1",
                    "resources": api_resource_list(g)}
        elif p.startswith("/apis/") and p.split("/")[2] in GROUPS:
            raise generic_not_found()
        else:
            raise ApiError(404, None, None, text="404 page not found\n")
        return self.send(200, body) or 200

    def openapi(self, p):
        docs = {"api/v1": ""} | {f"apis/{g}/v1": g for g in GROUPS}
        if p == "/openapi/v3":
            body = {"paths": {k: {"serverRelativeURL": f"/openapi/v3/{k}?hash=" + hashlib.sha512(
                jdump(openapi_v3_doc(g)).encode()).hexdigest().upper()} for k, g in docs.items()}}
            return self.send(200, body) or 200
        key = p[len("/openapi/v3/"):]
        if p.startswith("/openapi/v3/") and key in docs:
            headers = {"Cache-Control": "public, immutable", "Expires": "Fri, 01 Jan 2100 00:00:00 GMT"} \
                if self.q("hash") else {}
            return self.send(200, openapi_v3_doc(docs[key]), headers=headers) or 200
        raise ApiError(404, None, None, text="404 page not found\n")

    def parse_resource(self, quiet=False):
        parts = [urllib.parse.unquote(x) for x in self.rpath.split("/") if x]
        if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
            group, rest = "", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis" and parts[1] in GROUPS and parts[2] == "v1":
            group, rest = parts[1], parts[3:]
        else:
            return None
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces" and ("" if not group else group, "v1", rest[2]) in BY_GVR \
                and BY_GVR[(group, "v1", rest[2])].namespaced:
            ns, rest = rest[1], rest[2:]
        res = BY_GVR.get((group, "v1", rest[0])) if rest else None
        if res is None or len(rest) > 3 or (res.namespaced and ns is None and len(rest) > 1):
            if quiet:
                return None
            raise generic_not_found()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        return res, ns, name, sub

    def output_kind(self, allow_table):
        """Content negotiation: 'table', 'json', or 406."""
        types = media_types(self.headers.get("Accept"))
        if not types:
            return "json"
        for mt, params in types:
            if mt == "application/json" and params.get("as") == "Table" and allow_table:
                return "table"
            if mt in ("application/json", "*/*", "application/*") and "as" not in params:
                return "json"
        raise ApiError(406, "NotAcceptable", "only the following media types are accepted: application/json")

    def resource_request(self, res, ns, name, sub):
        api, m = self.api, self.command
        watch = self.q("watch") in ("true", "1", "True")
        if m in ("GET", "HEAD"):
            verb = "get" if name else ("watch" if watch else "list")
        else:
            verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(m)
            if m == "DELETE" and not name:
                verb = "deletecollection"
        if verb is None or (name is None and verb in ("update", "patch")) or (name and verb == "create") \
                or (verb not in res.verbs and not sub):
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
        if sub and (verb not in ("get", "update", "patch") or not (
                (sub == "status" and res.status) or (sub == "scale" and res.plural in SCALABLE))):
            raise generic_not_found()
        auth_ns = ns if res.namespaced else (name if res.plural == "namespaces" else None)
        self.authorize(res, verb, auth_ns, name, sub)
        if verb == "watch":
            return self.serve_watch(res, ns)
        out = self.output_kind(allow_table=verb in ("get", "list"))   # negotiated before acting
        dry = self.dry_run(verb)
        with api.lock:
            api.deferred = []
            api.sweep()
            if dry:      # run the write on the real store, then put everything back
                saved = ({k: r.clone() for k, r in api.objects.items()}, api.rv, len(api.events), api.next_ip)
                try:
                    code, body, kind = getattr(self, "op_" + verb)(res, ns, name, sub)
                finally:
                    api.objects, api.rv, api.next_ip = saved[0], saved[1], saved[3]
                    del api.events[saved[2]:]
                    api.deferred = []
                if kind == "object" and isinstance(body.get("metadata"), dict):
                    old = api.get(res, ns, body["metadata"].get("name"))
                    if old is None:
                        body["metadata"].pop("resourceVersion", None)     # a dry-run create is not stored
                    else:
                        body["metadata"]["resourceVersion"] = old.obj["metadata"]["resourceVersion"]
            else:
                code, body, kind = getattr(self, "op_" + verb)(res, ns, name, sub)
            if kind not in ("object", "list"):
                out = "json"
            if kind in ("object", "list"):
                if out == "table":
                    include = self.q("includeObject", "Metadata")
                    if kind == "list":
                        body = to_table(res, body["items"], body["metadata"]["resourceVersion"], include,
                                        body["metadata"].get("continue"))
                    else:
                        body = to_table(res, [body], body["metadata"]["resourceVersion"], include)
            data = (json.dumps(body, separators=(",", ":")) + "\n").encode()
            api.run_deferred()
        ctype = "application/json;as=Table;v=v1;g=meta.k8s.io" if out == "table" else "application/json"
        self.send(code, data, ctype)
        return code

    def dry_run(self, verb):
        values = list(self.query.get("dryRun") or [])
        if verb == "delete" and self.body_raw:
            try:
                values += json.loads(self.body_raw).get("dryRun") or []
            except (ValueError, AttributeError):
                pass
        if values and (verb in ("create", "update", "patch", "delete", "deletecollection")):
            if any(v != "All" for v in values):
                kind = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}.get(verb, "DeleteOptions")
                raise invalid(f"{kind}.meta.k8s.io", "meta.k8s.io", kind, "", [(
                    "FieldValueNotSupported", "dryRun",
                    "Unsupported value: []string{" + ", ".join(goq(v) for v in values) + '}: supported values: "All"')])
            return True
        return False

    # ---- verbs (called with the lock held; return (code, body, kind))

    def op_get(self, res, ns, name, sub):
        rec = self.api.get(res, ns, name)
        if rec is None:
            raise not_found(res, name)
        self.api.observe(rec)
        if sub == "scale":
            return 200, self.scale_of(rec), "status"
        return 200, copy.deepcopy(rec.obj), "object"

    @staticmethod
    def scale_of(rec):
        m = rec.obj["metadata"]
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {
            k: m[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in m},
            "spec": {"replicas": get_path(rec.obj, "spec.replicas", 1)},
            "status": {"replicas": get_path(rec.obj, "status.replicas", 0),
                       "selector": selector_string(get_path(rec.obj, "spec.selector")).replace("<none>", "")}}

    def write_scale(self, res, ns, name, rec, scale):
        """PUT/PATCH of the scale subresource: only spec.replicas reaches the object."""
        replicas = get_path(scale, "spec.replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise invalid("Scale.autoscaling", "autoscaling", "Scale", name,
                          [f_invalid("spec.replicas", replicas, "must be greater than or equal to 0")])
        rv = get_path(scale, "metadata.resourceVersion")
        if rv and rv != rec.obj["metadata"]["resourceVersion"]:
            raise modified_conflict(res, name)
        new = copy.deepcopy(rec.obj)
        new["spec"]["replicas"] = replicas
        new["metadata"]["generation"] = rec.obj["metadata"].get("generation", 1) + (
            0 if replicas == get_path(rec.obj, "spec.replicas") else 1)
        managers = copy.deepcopy(rec.managers)
        track_update(rec.obj, new, managers, self.manager_name(), res, "scale")
        if not self.unchanged(new, managers, rec):
            old = rec.obj
            rec.obj, rec.managers = new, managers
            self.api.commit(rec, "MODIFIED")
            self.api.deferred.append(lambda: self.api.after_write(rec, old))
        return 200, self.scale_of(rec), "status"

    def list_records(self, res, ns):
        lsel = parse_label_selector(self.q("labelSelector"))
        fsel = parse_field_selector(res, self.q("fieldSelector"))
        return [r for r in self.api.records(res, ns if res.namespaced else None)
                if labels_match(lsel, r.obj["metadata"].get("labels")) and fields_match(fsel, r.obj)]

    def op_list(self, res, ns, name, sub):
        api = self.api
        rv = str(api.rv)
        recs = self.list_records(res, ns)
        start = None
        if self.q("continue"):
            try:
                tok = json.loads(base64.b64decode(self.q("continue")))
                start, rv = tok["start"], str(tok["rv"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            recs = [r for r in recs if f"{r.obj['metadata'].get('namespace', '')}/{r.obj['metadata']['name']}" >= start]
        limit = int(self.q("limit") or 0)
        meta = {"resourceVersion": rv}
        if limit and len(recs) > limit:
            nxt = recs[limit].obj["metadata"]
            meta["continue"] = base64.b64encode(jdump(
                {"v": "meta.k8s.io/v1", "rv": int(rv), "start": f"{nxt.get('namespace', '')}/{nxt['name']}"}).encode()).decode()
            meta["remainingItemCount"] = len(recs) - limit
            recs = recs[:limit]
        items = []
        for r in recs:
            api.observe(r)
            o = copy.deepcopy(r.obj)
            o.pop("kind", None)       # typed lists carry no TypeMeta on their items
            o.pop("apiVersion", None)
            items.append(o)
        return 200, {"kind": f"{res.kind}List", "apiVersion": res.gv, "metadata": meta, "items": items}, "list"

    def parse_body(self, res, kind_gv=None):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if ctype not in ("application/json", "application/yaml", "*/*"):
            # kubectl's typed clients (create, replace) send protobuf, which this double cannot decode
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                           "accepted media types include: application/json, application/yaml")
        try:
            obj = json.loads(self.body_raw or b"null")
        except ValueError as e:
            raise bad_request(f"the object provided is unrecognized (must be of type {res.kind}): couldn't get "
                              f"version/kind; json parse error: {e}")
        if not isinstance(obj, dict):
            raise bad_request(f"the object provided is unrecognized (must be of type {res.kind}): couldn't get "
                              f"version/kind; json parse error: expected an object")
        av, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        want_kind, want_gv = kind_gv or (res.kind, res.gv)
        if kind and kind != want_kind:
            raise bad_request(f'{kind} in version {goq(av.rpartition("/")[2])} cannot be handled as a {want_kind}: '
                              f'no kind "{kind}" is registered for the endpoint of {want_kind}')
        if av and av != want_gv:
            raise bad_request(f"the API version in the data ({av}) does not match the expected API version ({want_gv})")
        obj.setdefault("metadata", {})
        if not isinstance(obj["metadata"], dict):
            raise bad_request(f"{res.kind} in version \"v1\" cannot be handled as a {res.kind}: metadata must be an object")
        return obj

    def manager_name(self):
        mgr = self.q("fieldManager")
        return mgr if mgr else (self.headers.get("User-Agent") or "").split("/")[0][:128]

    def check_name(self, obj, name, ns, res):
        on = obj["metadata"].get("name") or ""
        if on != name:
            raise bad_request(f"the name of the object ({on}) does not match the name on the URL ({name})")
        ons = obj["metadata"].get("namespace")
        if res.namespaced and ons and ons != ns:
            raise bad_request(f"the namespace of the object ({ons}) does not match the namespace on the URL ({ns})")

    def op_create(self, res, ns, name, sub):
        api = self.api
        obj = self.parse_body(res)
        meta = obj["metadata"]
        if res.namespaced and meta.get("namespace") and meta["namespace"] != ns:
            raise bad_request(f"the namespace of the object ({meta['namespace']}) does not match the namespace on "
                              f"the URL ({ns})")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + rand_suffix()
        name = meta.get("name") or ""
        if res.namespaced:
            api.namespace_ok(ns, res, name)
        api.check_secret_data(res, obj)
        client_mf = meta.pop("managedFields", None)
        new = api.prepare(res, obj, ns, None)
        api.validate(res, new, None)
        if api.get(res, ns, name) is not None:
            raise already_exists(res, name)
        managers = [] if not client_mf else self.adopt_managed(client_mf)
        track_update({"metadata": {}}, new, managers, self.manager_name(), res)
        rec = Record(res, new, managers)
        api.commit(rec, "ADDED")
        out = copy.deepcopy(rec.obj)
        api.deferred.append(lambda: api.after_write(rec, None))
        return 201, out, "object"

    @staticmethod
    def adopt_managed(entries):
        out = []
        for e in entries or []:
            if not isinstance(e, dict) or not e.get("manager"):
                continue
            out.append({"manager": e["manager"], "operation": e.get("operation", "Update"),
                        "apiVersion": e.get("apiVersion", ""), "time": e.get("time") or now(),
                        "subresource": e.get("subresource"), "set": from_fields_v1(e.get("fieldsV1"))})
        return out

    def write_update(self, res, ns, name, sub, rec, new, manager):
        """Common tail of PUT and non-apply PATCH."""
        api = self.api
        client_mf = new["metadata"].pop("managedFields", None)
        managers = copy.deepcopy(rec.managers)
        if client_mf is not None and not same(client_mf, rec.obj["metadata"].get("managedFields")):
            managers = self.adopt_managed(client_mf)     # a client may reset or rewrite managedFields
        if sub == "status":
            full = copy.deepcopy(rec.obj)
            full["status"] = new.get("status", {})
            new = full
        else:
            api.check_secret_data(res, new)
            new = api.prepare(res, new, ns, rec.obj)
        api.validate(res, new, rec.obj)
        track_update(rec.obj, new, managers, manager, res, sub)
        if self.unchanged(new, managers, rec):
            return 200, copy.deepcopy(rec.obj), "object"     # a no-op write keeps its resourceVersion
        old = rec.obj
        rec.obj, rec.managers = new, managers
        api.commit(rec, "MODIFIED")
        out = copy.deepcopy(rec.obj)
        api.deferred.append(lambda: api.after_write(rec, old))
        return 200, out, "object"

    @staticmethod
    def unchanged(new, managers, rec):
        new["metadata"]["resourceVersion"] = rec.obj["metadata"]["resourceVersion"]
        new["metadata"]["managedFields"] = render_managed(managers)
        if not new["metadata"]["managedFields"]:
            del new["metadata"]["managedFields"]
        return same(new, rec.obj)

    def op_update(self, res, ns, name, sub):
        api = self.api
        obj = self.parse_body(res, ("Scale", "autoscaling/v1") if sub == "scale" else None)
        self.check_name(obj, name, ns, res)
        rec = api.get(res, ns, name)
        if rec is None:
            raise not_found(res, name)
        if sub == "scale":
            return self.write_scale(res, ns, name, rec, obj)
        rv = obj["metadata"].get("resourceVersion")
        if rv and rv != rec.obj["metadata"]["resourceVersion"]:
            raise modified_conflict(res, name)
        return self.write_update(res, ns, name, sub, rec, obj, self.manager_name())

    def op_patch(self, res, ns, name, sub):
        api = self.api
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        kinds = {"application/apply-patch+yaml": "apply", "application/merge-patch+json": "merge",
                 "application/strategic-merge-patch+json": "strategic", "application/json-patch+json": "json"}
        if ctype not in kinds:
            raise ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {})   # go-restful's Consumes
        kind = kinds[ctype]
        errs = []
        if kind == "apply" and not self.q("fieldManager"):
            errs.append(f_required("fieldManager", "is required for apply patch"))
        if kind != "apply" and self.q("force") is not None:
            errs.append(f_forbidden("force", "may not be specified for non-apply patch"))
        if len(self.q("fieldManager") or "") > 128:
            errs.append(("FieldValueTooLong", "fieldManager", "Too long: may not be longer than 128"))
        if errs:
            raise invalid("PatchOptions.meta.k8s.io", "meta.k8s.io", "PatchOptions", "", errs)
        if kind == "apply":
            return self.apply(res, ns, name, sub)
        rec = api.get(res, ns, name)
        if rec is None:
            raise not_found(res, name)
        try:
            patch = json.loads(self.body_raw or b"null")
        except ValueError as e:
            raise bad_request(f"error decoding patch: {e}")
        current = self.scale_of(rec) if sub == "scale" else copy.deepcopy(rec.obj)
        if kind == "json":
            if not isinstance(patch, list):
                raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
            new = json_patch(current, patch)
        elif not isinstance(patch, dict):
            raise bad_request("error decoding patch: the patch must be a JSON object")
        elif kind == "merge":
            new = merge_patch(current, patch)
        else:
            new = strategic_merge_patch(current, patch)
        if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
            raise bad_request("the patched object is not a valid object")
        if sub == "scale":
            return self.write_scale(res, ns, name, rec, new)
        self.check_name(new, name, ns, res)
        if new["metadata"].get("resourceVersion") not in (None, rec.obj["metadata"]["resourceVersion"]):
            raise modified_conflict(res, name)
        return self.write_update(res, ns, name, sub, rec, new, self.manager_name())

    def apply(self, res, ns, name, sub):
        """Server-side apply (PATCH application/apply-patch+yaml)."""
        api = self.api
        manager, force = self.q("fieldManager"), self.q("force") in ("true", "1", "t", "T", "TRUE", "True")
        try:
            cfg = json.loads(self.body_raw or b"null")   # JSON is YAML; dmc and kubectl send JSON
        except ValueError as e:
            raise bad_request(f"error decoding YAML: {e}")
        if not isinstance(cfg, dict):
            raise bad_request("error decoding YAML: the applied configuration must be an object")
        av, kind = str(cfg.get("apiVersion", "")), str(cfg.get("kind", ""))
        if (av, kind) != (res.gv, res.kind):
            g, _, v = av.rpartition("/")
            raise bad_request(f"invalid object type: {g}/{v}, Kind={kind}")
        meta = cfg.get("metadata") if isinstance(cfg.get("metadata"), dict) else {}
        if meta.get("managedFields") is not None:
            raise bad_request("metadata.managedFields must be nil")
        self.check_name({"metadata": meta}, name, ns, res)
        rec = api.get(res, ns, name)
        if rec is not None and meta.get("resourceVersion") and meta["resourceVersion"] != rec.obj["metadata"]["resourceVersion"]:
            raise modified_conflict(res, name)

        def strip_nulls(v):
            if isinstance(v, dict):
                return {k: strip_nulls(x) for k, x in v.items() if x is not None}
            return [strip_nulls(x) for x in v] if isinstance(v, list) else v
        cfg = strip_nulls(cfg)
        cfg["metadata"] = {k: v for k, v in meta.items() if k not in STRIPPED_META and v is not None}
        if not cfg["metadata"]:
            del cfg["metadata"]
        if sub == "status":
            cfg = {"apiVersion": av, "kind": kind, "status": cfg.get("status", {})}
        elif res.status:
            cfg.pop("status", None)     # the status of the main resource is reset on writes
        if rec is None:
            if sub:
                raise not_found(res, name)
            if res.namespaced:
                api.namespace_ok(ns, res, name)
            live = {"apiVersion": res.gv, "kind": res.kind, "metadata": {"name": name}}
            managers = []
        else:
            live = copy.deepcopy(rec.obj)
            live["metadata"].pop("managedFields", None)
            managers = copy.deepcopy(rec.managers)
        merged = server_side_apply(live, cfg, managers, manager, force, res, sub)
        merged["metadata"]["name"] = name
        api.check_secret_data(res, merged)
        if rec is None:
            new = api.prepare(res, merged, ns, None)
            api.validate(res, new, None)
            rec = Record(res, new, managers)
            api.commit(rec, "ADDED")
            out = copy.deepcopy(rec.obj)
            api.deferred.append(lambda: api.after_write(rec, None))
            return 201, out, "object"
        if sub == "status":
            new = copy.deepcopy(rec.obj)
            new["status"] = merged.get("status", {})
        else:
            new = api.prepare(res, merged, ns, rec.obj)
            api.validate(res, new, rec.obj)
        if self.unchanged(new, managers, rec):
            return 200, copy.deepcopy(rec.obj), "object"
        old = rec.obj
        rec.obj, rec.managers = new, managers
        api.commit(rec, "MODIFIED")
        out = copy.deepcopy(rec.obj)
        api.deferred.append(lambda: api.after_write(rec, old))
        return 200, out, "object"

    def delete_options(self):
        opts = {}
        if self.body_raw:
            try:
                opts = json.loads(self.body_raw)
            except ValueError as e:
                raise bad_request(f"couldn't get version/kind; json parse error: {e}")
            if not isinstance(opts, dict):
                raise bad_request("couldn't get version/kind; json parse error: expected an object")
        else:
            for k in ("propagationPolicy", "gracePeriodSeconds", "orphanDependents", "dryRun"):
                if self.q(k) is not None:
                    opts[k] = self.q(k)
            if "orphanDependents" in opts:
                opts["orphanDependents"] = opts["orphanDependents"] in ("true", "1")
        pp = opts.get("propagationPolicy")
        errs = []
        if pp is not None and opts.get("orphanDependents") is not None:
            errs.append(f_invalid("propagationPolicy", pp, "orphanDependents and deletionPropagation cannot be both set"))
        if pp is not None and pp not in ("Foreground", "Background", "Orphan"):
            errs.append(("FieldValueNotSupported", "propagationPolicy", f"Unsupported value: {goq(pp)}: supported "
                         'values: "Foreground", "Background", "Orphan", "nil"'))
        if errs:
            raise invalid("DeleteOptions.meta.k8s.io", "meta.k8s.io", "DeleteOptions", "", errs)
        if pp is None and opts.get("orphanDependents") is not None:
            pp = "Orphan" if opts["orphanDependents"] else "Background"
        return opts, pp or "Background"

    def op_delete(self, res, ns, name, sub):
        api = self.api
        opts, policy = self.delete_options()
        rec = api.get(res, ns, name)
        if rec is None:
            raise not_found(res, name)
        pre = opts.get("preconditions") or {}
        meta = rec.obj["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise modified_conflict(res, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in "
                                               f"object meta: {meta['uid']}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise modified_conflict(res, name, f"Precondition failed: ResourceVersion in precondition: "
                                               f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                               f"{meta['resourceVersion']}")
        if res.plural == "namespaces" and name in ("default", "kube-system", "kube-public"):
            raise forbidden(res, name, "this namespace may not be deleted")
        last = copy.deepcopy(rec.obj)
        out = api.delete_object(rec, policy)
        if out is not None:
            return 200, out, "object"
        if res.returns_deleted:
            return 200, last, "object"
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "details": details(name, res.group, res.plural, meta["uid"])}, "status"

    def op_deletecollection(self, res, ns, name, sub):
        api = self.api
        _, policy = self.delete_options()
        items = []
        for r in self.list_records(res, ns):
            last = copy.deepcopy(r.obj)
            out = api.delete_object(r, policy)
            o = out if out is not None else last
            o.pop("kind", None)
            o.pop("apiVersion", None)
            items.append(o)
        return 200, {"kind": f"{res.kind}List", "apiVersion": res.gv, "metadata": {"resourceVersion": str(api.rv)},
                     "items": items}, "list"

    # ---- watch (chunked stream of JSON events)

    def serve_watch(self, res, ns):
        api = self.api
        self.output_kind(allow_table=False)
        lsel = parse_label_selector(self.q("labelSelector"))
        fsel = parse_field_selector(res, self.q("fieldSelector"))
        match = lambda o: (not res.namespaced or ns is None or o["metadata"].get("namespace") == ns) and \
            labels_match(lsel, o["metadata"].get("labels")) and fields_match(fsel, o)
        timeout = min(float(self.q("timeoutSeconds") or 1800), 1800)
        rv_param = self.q("resourceVersion")
        initial_events = self.q("sendInitialEvents") in ("true", "1")
        with api.lock:
            start = api.rv
            seen = {}
            initial = []
            if rv_param in (None, "", "0") or initial_events:
                for r in api.records(res, ns if res.namespaced else None):
                    if match(r.obj):
                        initial.append(("ADDED", copy.deepcopy(r.obj)))
                        seen[r.obj["metadata"]["uid"]] = True
            else:     # what matched at that resourceVersion, replayed from the log
                start = int(rv_param)
                state = {}
                for erv, et, g, pl, _, o in api.events:
                    if erv > start:
                        break
                    if g == res.group and pl == res.plural:
                        if et == "DELETED":
                            state.pop(o["metadata"]["uid"], None)
                        else:
                            state[o["metadata"]["uid"]] = o
                seen = {uid: match(o) for uid, o in state.items()}
        self.send_response_only(200)
        for k, v in (("Audit-Id", str(uuid.uuid4())), ("Cache-Control", "no-cache, private"),
                     ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"),
                     ("Date", self.date_time_string())):
            self.send_header(k, v)
        self.end_headers()
        self.close_connection = True
        self.record(200)          # now: a watch may stay open for minutes
        self.recorded = True

        def emit(etype, obj):
            data = (json.dumps({"type": etype, "object": obj}, separators=(",", ":")) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        try:
            for etype, obj in initial:
                emit(etype, obj)
            if initial_events:
                emit("BOOKMARK", {"kind": res.kind, "apiVersion": res.gv, "metadata": {
                    "resourceVersion": str(start), "annotations": {"k8s.io/initial-events-end": "true"}}})
            deadline = time.time() + timeout
            while time.time() < deadline:
                if select.select([self.connection], [], [], 0)[0]:
                    break             # the client sends nothing on a watch: readable means closed
                with api.lock:
                    api.cond.wait(timeout=0.5)
                    api.deferred = []
                    api.sweep()
                    for r in api.records(res, ns if res.namespaced else None):   # watching counts as reading
                        if match(r.obj) and (r.reads_left is not None or r.pending or api.deadline_due(r)):
                            api.observe(r)
                    api.run_deferred()
                    batch = [e for e in api.events if e[0] > start and e[2] == res.group and e[3] == res.plural
                             and (ns is None or not res.namespaced or e[4] == ns)]
                    if batch:
                        start = batch[-1][0]
                out = []
                for _, etype, _, _, _, obj in batch:
                    uid, now_match = obj["metadata"].get("uid"), match(obj)
                    was = seen.get(uid, False)
                    if etype == "DELETED":
                        seen.pop(uid, None)
                        if was:
                            out.append(("DELETED", obj))
                    else:
                        seen[uid] = now_match
                        if now_match:
                            out.append(("ADDED" if not was else "MODIFIED", obj))
                        elif was:
                            out.append(("DELETED", obj))
                for etype, obj in out:
                    emit(etype, obj)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        return 200

    # ---- control endpoints (no auth, not recorded)

    def control(self, body):
        api, p, m = self.api, self.rpath, self.command
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return self.send(400, {"error": "body is not JSON"})
        with api.lock:
            if p == "/_test/health":
                return self.send(200, {"ok": True, "rollout": api.mode, "foreground_gets": api.foreground_gets,
                                       "foreground_seconds": api.foreground_seconds})
            if p == "/_test/objects" and m == "GET":
                res, ns = self.q("resource"), self.q("namespace")
                items = [r.obj for k, r in sorted(api.objects.items())
                         if (res is None or k[1] == res) and (ns is None or k[2] == ns)]
                return self.send(200, {"items": items})
            if p == "/_test/requests":
                return self.send(200, api.requests)
            if p == "/_test/faults":
                if m == "POST":
                    if not isinstance(data, list):
                        return self.send(400, {"error": "POST a JSON list of faults"})
                    api.faults = data
                elif m == "DELETE":
                    api.faults = []
                return self.send(200, api.faults)
            if p == "/_test/reset" and m == "POST":
                api.faults, api.requests = [], []
                open(os.path.join(api.args.state_dir, "requests.jsonl"), "w").close()
                if self.q("objects") in ("1", "true"):
                    api.seed()
                return self.send(200, {"ok": True})
            if p in ("/_test/rollout", "/_test/config") and m == "POST":
                data = data or {}
                mode = data.get("mode", data.get("rollout")) or self.q("mode")
                if mode is not None:
                    if mode not in ("ready", "never"):
                        return self.send(400, {"error": "mode must be ready or never"})
                    api.set_mode(mode)
                if data.get("foreground_gets") is not None:
                    api.foreground_gets = int(data["foreground_gets"])
                if data.get("foreground_seconds") is not None:
                    api.foreground_seconds = float(data["foreground_seconds"])
                return self.send(200, {"rollout": api.mode, "foreground_gets": api.foreground_gets,
                                       "foreground_seconds": api.foreground_seconds})
        return self.send(404, {"error": f"no control endpoint {m} {p}"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        if self.verbose:
            traceback.print_exc()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--auth", required=True)
    ap.add_argument("--namespaces", default="", help="more namespaces to create, comma-separated")
    ap.add_argument("--rollout", choices=["ready", "never"], default="ready")
    ap.add_argument("--foreground-gets", type=int, default=2,
                    help="reads a foreground/orphan deletion stays visible for")
    ap.add_argument("--foreground-seconds", type=float, default=0,
                    help="also finish such a deletion after this many seconds, read or not (0: never)")
    ap.add_argument("--no-aggregated-discovery", action="store_true",
                    help="answer discovery in the legacy format only")
    ap.add_argument("--bare", action="store_true",
                    help="no kube-system & co, no default ServiceAccounts, kube-root-ca.crt or kubernetes Service")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    open(os.path.join(args.state_dir, "requests.jsonl"), "a").close()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    ctx.load_verify_locations(args.client_ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])

    Handler.api = Api(args)
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.ctx, srv.verbose = ctx, args.verbose
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)      # appears whole, only once we listen
    sys.stderr.write(f"kube-api: listening on https://127.0.0.1:{port}\n")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
