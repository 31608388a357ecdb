// Validates Kubernetes manifests (multi-document YAML files, or directories of
// them) against the OpenAPI schema of each object's apiVersion and kind, with the
// npm package kubernetes-models: a validator that is not part of dmc. (It checks
// types, required fields and formats; fields unknown to the schema pass.)
// Usage: node validate_manifests.js FILE|DIR...   (NODE_PATH: the node_modules)
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

function modelFor(apiVersion, kind) {
  const module = apiVersion.includes("/") ? apiVersion : "v1";
  let exports;
  try {
    exports = require(`kubernetes-models/${module}`);
  } catch (e) {
    throw new Error(`no schema for apiVersion ${apiVersion}`);
  }
  if (!exports[kind]) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return exports[kind];
}

function files(arg) {
  const st = fs.statSync(arg);
  if (!st.isDirectory()) return [arg];
  return fs.readdirSync(arg).sort().flatMap((f) => {
    const p = path.join(arg, f);
    if (fs.statSync(p).isDirectory()) return files(p);
    return /\.ya?ml$/.test(f) ? [p] : [];
  });
}

let failed = 0, checked = 0;
for (const arg of process.argv.slice(2)) {
  for (const file of files(arg)) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
    for (const doc of docs) {
      if (doc.errors.length) { console.error(`${file}: YAML: ${doc.errors[0].message}`); failed++; continue; }
      const obj = doc.toJS();
      if (obj === null) continue;
      const name = `${file}: ${obj.apiVersion} ${obj.kind} ${obj.metadata && obj.metadata.name}`;
      try {
        const Model = modelFor(obj.apiVersion, obj.kind);
        new Model(obj).validate();
        checked++;
        console.log(`valid: ${name}`);
      } catch (e) {
        console.error(`INVALID ${name}: ${e.message}`);
        failed++;
      }
    }
  }
}
console.log(`${checked} objects valid, ${failed} invalid`);
process.exit(failed || checked === 0 ? 1 : 0);
