// Parses one HL7 v2 message with @medplum/core's Hl7Message.parse in a loop for a few
// seconds and prints messages per second. Arguments: the folder holding node_modules, the
// message file, the number of seconds. Run by run.sh.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [nodeDir, messagePath, secondsArg] = process.argv.slice(2);
// @medplum/core 5 refers to the global WebSocket when it loads (its subscription client);
// Node 20 has none without a flag. Parsing never opens a socket, so a stand-in is enough.
if (typeof globalThis.WebSocket === 'undefined') {
  globalThis.WebSocket = class WebSocket {};
}
const require = createRequire(join(nodeDir, 'package.json'));
const { Hl7Message } = require('@medplum/core');

// Medplum expects CR segment terminators, which the file already uses.
const text = readFileSync(messagePath, 'latin1');
const seconds = Number(secondsArg || 5);

// Sanity check: the parse must see the 10 OBX segments.
const check = Hl7Message.parse(text);
const obx = check.segments.filter((s) => s.name === 'OBX').length;
if (obx !== 10) {
  throw new Error(`expected 10 OBX, parsed ${obx}`);
}

let parsed = 0;
let sink = 0;
const start = process.hrtime.bigint();
const deadline = start + BigInt(Math.round(seconds * 1e9));
let now = start;
while (now < deadline) {
  for (let i = 0; i < 1000; i++) {
    sink += Hl7Message.parse(text).segments.length;
  }
  parsed += 1000;
  now = process.hrtime.bigint();
}
const elapsed = Number(now - start) / 1e9;
if (sink === 0) {
  throw new Error('nothing parsed');
}
console.log(`medplum_parse msg/s ${Math.round(parsed / elapsed)}`);
