// Validates SBOMs against a published JSON schema with ajv (npm), strict about
// formats: node validate_sbom.js SCHEMA FILE... Prints each error, exits 1 on any.
const fs = require("fs");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");

const [schemaFile, ...files] = process.argv.slice(2);
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, "utf8")));
let bad = 0;
for (const file of files) {
  const doc = JSON.parse(fs.readFileSync(file, "utf8"));
  if (validate(doc)) {
    console.log(`valid: ${file}`);
  } else {
    bad++;
    for (const e of validate.errors) console.log(`${file}: ${e.instancePath} ${e.message}`);
  }
}
process.exit(bad ? 1 : 0);
