// Builds {{file}}.wasm from handler.js with ComponentizeJS against the `nebula:pure/handler`
// world in wit/. Every engine feature is disabled, so the component imports nothing: no
// console output, no host clock or randomness (both are frozen at build time), no fetch.
import { componentize } from '@bytecodealliance/componentize-js';
import { rename, writeFile } from 'node:fs/promises';

const { component } = await componentize({
  sourcePath: 'handler.js',
  witPath: 'wit',
  worldName: 'nebula:pure/handler',
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
await writeFile('{{file}}.wasm.tmp', component);
await rename('{{file}}.wasm.tmp', '{{file}}.wasm');
console.log(`{{name}}: built {{file}}.wasm (${component.length} bytes)`);
