// {{name}}: a pure Nebula handler in JavaScript. `GET /hello/{name}` answers with a greeting.
//
// Build and serve: `nebula-host up nebula.toml --build` (runs `npm ci` the first time).
// WIT values in JavaScript: records are objects with lowerCamelCase fields, variants are
// `{ tag, val }`, tuples are arrays, `list<u8>` is a Uint8Array.

export function handle(input) {
  const name = input.request.params.find(([key]) => key === 'name')?.[1] ?? 'world';
  const response = {
    status: 200,
    headers: [{ name: 'content-type', value: 'text/plain; charset=utf-8' }],
    body: new TextEncoder().encode(`Hello, ${name}!\n`),
  };
  return { tag: 'respond', val: [response, []] }; // the response, and no writes
}
