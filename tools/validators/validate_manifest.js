// Offline Teams manifest validation using the schemas bundled in @microsoft/app-manifest.
// usage: node validate_manifest.js path/to/manifest.json
// exit 0: valid; 1: schema errors (listed); 2: could not validate (bad JSON, schema not bundled); 3: not installed.
const fs = require("fs");

let AppManifestUtils;
try {
  // @microsoft/app-manifest 1.1.2 requires fs-extra without declaring it; package.json adds it.
  ({ AppManifestUtils } = require("@microsoft/app-manifest"));
} catch (e) {
  console.error(`validator not installed (${e.message.split("\n")[0]}): run \`npm ci\` in tools/validators`);
  process.exit(3);
}

(async () => {
  const file = process.argv[2];
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, "utf8").replace(/^\uFEFF/, ""));
  } catch (e) {
    console.error(`${file}: FAILED to read: ${e.message}`);
    process.exit(2);
  }
  // Refuse rather than fetch: a schema that is not bundled would be downloaded, which CI cannot do.
  const suffix = manifest.$schema && AppManifestUtils.getLocalSchemaSuffix(manifest.$schema);
  if (!suffix || !AppManifestUtils.getLocalSchemaCandidates(suffix).some((p) => fs.existsSync(p))) {
    console.error(`${file}: FAILED: $schema ${JSON.stringify(manifest.$schema)} is not bundled in @microsoft/app-manifest`);
    process.exit(2);
  }
  let errors;
  try {
    // Validate the raw JSON: the package's typed reader throws on the first wrong type before the schema
    // runs, which hides the other errors and their JSON paths.
    errors = await AppManifestUtils.validateAgainstSchema(manifest);
  } catch (e) {
    console.error(`${file}: FAILED to validate: ${e.message}`);
    process.exit(2);
  }
  if (errors.length) {
    console.error(`${file}: ${errors.length} schema error(s)`);
    errors.forEach((e) => console.error("  " + e));
    process.exit(1);
  }
  console.log(`${file}: OK (manifestVersion ${manifest.manifestVersion}, schema ${manifest.$schema})`);
})();
