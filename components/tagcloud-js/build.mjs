// Builds the tag cloud handler (JavaScript) into target/guests/polyglot/tagcloud_js.wasm with
// ComponentizeJS, against the `nebula:pure/handler` world.
//
//   node build.mjs [--keep FEATURE,...] [--out PATH]
//
// `disableFeatures` lists every default feature of ComponentizeJS's engine (StarlingMonkey), so
// the component imports nothing:
//   stdio  -> wasi:cli/std*, terminal-*      random -> wasi:random/*
//   clocks -> wasi:clocks/*                  http   -> wasi:http/outgoing-handler
//   fetch-event -> wasi:http/types, wasi:io/poll, wasi:io/streams (the incoming-handler glue);
// leaving `fetch-event` on keeps those three imports, which the host refuses (wasi:http/types).
// `--keep` leaves features on, e.g. `--keep fetch-event` to see (and test, in
// tests/integration/polyglot.rs) how the host refuses what that leaves behind.
//
// Skips the build (15 to 50 s) when the output was made from the same inputs by the same
// ComponentizeJS: set NEBULA_FORCE_BUILD=1 to build anyway. Run `npm ci` first (scripts/setup.sh).
// package.json pins @bytecodealliance/preview2-shim too: componentize-js 0.23.0 imports it without
// declaring it, so `npm ci` would leave it out; `overrides` holds @bytecodealliance/wizer at 10.0.0.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'];

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// Written against nebula:pure@0.1.0, which the host still serves (wit/0.1.0).
const wit = join(root, 'wit', '0.1.0');
const { values: args } = parseArgs({
  options: { keep: { type: 'string', default: '' }, out: { type: 'string' } },
});
const keep = args.keep.split(',').filter(Boolean);
for (const feature of keep) {
  if (!FEATURES.includes(feature)) {
    console.error(`tagcloud-js: unknown feature ${feature}; known: ${FEATURES.join(', ')}`);
    process.exit(2);
  }
}
const disableFeatures = FEATURES.filter((f) => !keep.includes(f));
const out = resolve(args.out ?? join(root, 'target', 'guests', 'polyglot', 'tagcloud_js.wasm'));
const stampPath = `${out}.inputs`;
const source = 'tagcloud.js';

let componentize, version;
try {
  ({ componentize, version } = await import('@bytecodealliance/componentize-js'));
} catch (e) {
  console.error(`tagcloud-js: ComponentizeJS is not installed (${e.message}); run scripts/setup.sh`);
  process.exit(1);
}

const hash = createHash('sha256').update(`componentize-js ${version} ${disableFeatures}\n`);
for (const file of [join(here, source), join(here, 'build.mjs'), join(here, 'package-lock.json'), join(wit, 'pure.wit')]) {
  hash.update(await readFile(file));
}
const stamp = hash.digest('hex');
const previous = await readFile(stampPath, 'utf8').catch(() => '');
const built = await readFile(out).then(() => true, () => false);
if (!process.env.NEBULA_FORCE_BUILD && built && previous.trim() === stamp) {
  console.log(`tagcloud-js: ${out} is up to date`);
  process.exit(0);
}

// ComponentizeJS resolves the source against the working directory.
process.chdir(here);
const { component } = await componentize({
  sourcePath: source,
  witPath: wit,
  worldName: 'nebula:pure/handler',
  disableFeatures,
});
await mkdir(dirname(out), { recursive: true });
await writeFile(`${out}.tmp`, component);
await rename(`${out}.tmp`, out);
await writeFile(stampPath, `${stamp}\n`);
console.log(
  `tagcloud-js: built ${out} (${component.length} bytes, ComponentizeJS ${version}, ` +
    `disableFeatures: ${disableFeatures.join(', ') || 'none'})`,
);
