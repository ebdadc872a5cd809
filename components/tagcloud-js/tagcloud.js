// Academemes' tag cloud: a `nebula:pure` handler written in JavaScript.
//
// Built with ComponentizeJS against `wit/0.1.0/pure.wit` (`nebula:pure@0.1.0`) (world `nebula:pure/handler`) with every
// default WASI feature disabled, so the component imports nothing (see build.mjs and
// docs/authoring.md).
//
// | route (manifests/academemes.toml) | answers                                                |
// |-----------------------------------|--------------------------------------------------------|
// | `GET /api/tagcloud`               | `{"tags":[{"tag","count","weight","size","url"}],"distinct","total","truncated"}` |
// | `GET /fragments/tagcloud`         | the same cloud as an HTML `<nav>` of links to `/tags/{tag}` |
//
// Any route whose template starts with `/fragments/` gets the HTML, any other the JSON.
//
// Query: `top=N` keeps the N most used tags (default 50, at most 500); `sort=count` orders by
// count (most used first) instead of by name.
//
// Data (manifests/academemes.toml): the `tags` collection holds `"{tag}/{id}"` -> id, one entry
// per tag of each meme. The route declares a `list` read named `tags` (index `new`, up to 1000
// entries); when the page has a next cursor the handler asks for the following pages itself
// (`outcome::need`), at most `MAX_FOLLOW_UPS` times, then says `truncated`.
//
// WIT values in JavaScript (ComponentizeJS / jco conventions): records are objects with
// lowerCamelCase fields, variants are `{ tag, val }`, `result` is `{ tag: 'ok' | 'err', val }`,
// `option<T>` is the value or `undefined`, `list<u8>` is a `Uint8Array`, `s64` is a BigInt.

const JSON_TYPE = 'application/json';
const HTML_TYPE = 'text/html; charset=utf-8';
const COLLECTION = 'tags';
const INDEX = 'new';
const PAGE = 1000;
const MAX_FOLLOW_UPS = 3;
const DEFAULT_TOP = 50;
const MAX_TOP = 500;
// Font sizes of the cloud, in em, for the least and the most used tag.
const MIN_EM = 0.8;
const MAX_EM = 2.4;

export function handle(input) {
  try {
    return route(input);
  } catch (e) {
    return respond(500, JSON_TYPE, { error: `tagcloud-js failed: ${e}` });
  }
}

function route(input) {
  const { request } = input;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return respond(405, JSON_TYPE, { error: `${request.method} is not allowed here` });
  }
  // One component, two shapes: HTML under /fragments/, JSON anywhere else.
  const html = request.route.startsWith('/fragments/');

  const pages = [];
  for (const result of input.reads) {
    if (result.name !== 'tags' && !result.name.startsWith('tags-')) continue;
    if (result.value.tag === 'err') {
      return respond(500, JSON_TYPE, { error: `reading tags failed: ${result.value.val}` });
    }
    if (result.value.val.tag !== 'page') {
      return respond(500, JSON_TYPE, { error: `the read ${result.name} is not a list` });
    }
    pages.push(result.value.val.val);
  }
  if (pages.length === 0) {
    return respond(500, JSON_TYPE, {
      error: 'the route declares no `tags` list read (see manifests/academemes.toml)',
    });
  }

  // Ask for the next page while there is one (time and storage are effects: the host reads).
  const last = pages[pages.length - 1];
  const more = last.nextCursor !== undefined;
  if (more && pages.length <= MAX_FOLLOW_UPS) {
    return {
      tag: 'need',
      val: [
        {
          name: `tags-${pages.length + 1}`,
          op: {
            tag: 'list',
            val: {
              collection: COLLECTION,
              index: INDEX,
              direction: 'ascending',
              prefix: '',
              cursor: last.nextCursor,
              limit: PAGE,
            },
          },
        },
      ],
    };
  }

  const counts = new Map();
  let total = 0;
  for (const page of pages) {
    for (const entry of page.entries) {
      const slash = entry.key.lastIndexOf('/');
      if (slash <= 0) continue;
      const tag = entry.key.slice(0, slash);
      counts.set(tag, (counts.get(tag) ?? 0) + 1);
      total += 1;
    }
  }

  const query = parseQuery(request.query);
  const top = clampInt(query.get('top'), DEFAULT_TOP, 1, MAX_TOP);
  const byCount = query.get('sort') === 'count';
  const cloud = cloudOf(counts, top, byCount);
  const truncated = more;
  if (html) {
    return respond(200, HTML_TYPE, fragment(cloud, truncated));
  }
  return respond(200, JSON_TYPE, { tags: cloud, distinct: counts.size, total, truncated });
}

/** The `top` most used tags with their font sizes, by name (or by count). */
function cloudOf(counts, top, byCount) {
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || compare(a[0], b[0])).slice(0, top);
  if (!byCount) ranked.sort((a, b) => compare(a[0], b[0]));
  const values = ranked.map(([, count]) => count);
  const lo = Math.log(Math.min(...values));
  const hi = Math.log(Math.max(...values));
  return ranked.map(([tag, count]) => {
    // Logarithmic: a tag used 16 times is not 16 times as large as one used once.
    const t = hi > lo ? (Math.log(count) - lo) / (hi - lo) : 0.5;
    return {
      tag,
      count,
      weight: 1 + Math.round(t * 4),
      size: `${(MIN_EM + t * (MAX_EM - MIN_EM)).toFixed(2)}em`,
      url: `/tags/${encodeURIComponent(tag)}`,
    };
  });
}

function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fragment(cloud, truncated) {
  const items = cloud.map(
    ({ tag, count, weight, size, url }) =>
      `<li><a href="${escape(url)}" class="tag-w${weight}" style="font-size:${size}" ` +
      `title="${count} meme${count === 1 ? '' : 's'}">#${escape(tag)}</a></li>`,
  );
  const empty = cloud.length === 0 ? '<p class="tag-cloud-empty">No tags yet.</p>\n' : '';
  const note = truncated ? '<p class="tag-cloud-note">Counted the first tags only.</p>\n' : '';
  return (
    '<nav class="tag-cloud" aria-label="Tags">\n' +
    empty +
    (items.length ? `<ul>\n${items.join('\n')}\n</ul>\n` : '') +
    note +
    '</nav>\n'
  );
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function parseQuery(query) {
  const params = new Map();
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

function decode(text) {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function clampInt(text, fallback, min, max) {
  const n = Number.parseInt(text ?? '', 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

function respond(status, contentType, body) {
  const text = contentType === JSON_TYPE ? JSON.stringify(body) : body;
  return {
    tag: 'respond',
    val: [
      {
        status,
        headers: [{ name: 'content-type', value: contentType }],
        body: new TextEncoder().encode(text),
      },
      [],
    ],
  };
}
