/**
 * Hostile input, generated from the OpenAPI document the server serves: for every operation, every path
 * and query parameter and every field of its body (nested ones too) gets NUL and other control characters,
 * oversized values, negative numbers, aliases of a real ID (0x…, 1e0, +1, " 1", 01) and values of the wrong
 * type. Each request must get a 4xx (never a 2xx, never a 5xx) whose 422 details name that field, and the
 * database must be byte for byte what it was. The owner's token is used, so no role check hides a gap.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema nodes from the served document
type Schema = any;

interface Case {
  /** Where the hostile value sits: body.a.b, query.q, param.id, form.tags. */
  field: string;
  label: string;
  method: string;
  path: string;
  query: [string, string][];
  body?: { json: unknown } | { form: FormData };
}

let server: TestServer;
let ws: TestWorkspace;
// biome-ignore lint/suspicious/noExplicitAny: the served OpenAPI document
let doc: any;
/** A real row of each collection, so that aliases name something that exists. */
const seeded: Record<string, number> = {};

const NUL = 'a\u0000b';
/** Besides NUL, each field gets one other control character, in turn, so the run covers them all and stays short. */
const CONTROLS = ['\u0001', '\u0007', '\u000b', '\u001b', '\u001f', '\u007f'];
let turn = 0;
const control = (): [string, string] => {
  const char = CONTROLS[turn++ % CONTROLS.length] as string;
  return [`U+${char.charCodeAt(0).toString(16).padStart(4, '0')}`, char];
};
/** Longer than any text field takes (a field without maxLength would have to refuse it too). */
const BIG = 20_000;

beforeAll(async () => {
  server = await startTestServer();
  ws = await server.workspace();
  const owner = async (method: string, path: string, body?: unknown) => {
    const res = await server.request(method, path, { token: ws.tokens.owner, body });
    expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    return res.body;
  };
  seeded.channels = (await owner('POST', '/api/v1/channels', { type: 'sandbox', name: 'Sandbox' })).id;
  seeded.contacts = (await owner('POST', '/api/v1/contacts', { firstName: 'Ana', phone: '+5491155551234' })).id;
  await owner('POST', '/api/v1/contacts', { firstName: 'Bruno', phone: '+5491155550000', tags: ['vip'] });
  seeded.segments = (
    await owner('POST', '/api/v1/segments', {
      name: 'VIP',
      filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['vip'] }] }] },
    })
  ).id;
  seeded.broadcasts = (
    await owner('POST', '/api/v1/broadcasts', {
      name: 'Promo',
      channelId: seeded.channels,
      segmentId: seeded.segments,
      content: { text: 'Hola' },
    })
  ).id;
  seeded.tokens = (await owner('POST', '/api/v1/tokens', { name: 'Spare', role: 'agent' })).id;
  const form = new FormData();
  form.set('file', new Blob(['phone,first name\n+5491155559999,Carla\n']), 'contacts.csv');
  form.set('dryRun', 'true');
  const upload = await fetch(`${server.baseUrl}/api/v1/imports/contacts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ws.tokens.owner}` },
    body: form,
  });
  expect(upload.status).toBe(201);
  seeded.imports = ((await upload.json()) as { id: number }).id;
  doc = (await server.request('GET', '/openapi.json')).body;
});

/** Every table's rows, hashed; a token's last use is touched by every request and is left out. */
async function snapshot(): Promise<string> {
  const { client } = server.database;
  const tables = await client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  const hash = createHash('sha256');
  for (const { name } of tables.rows) {
    // Sorted here, not by rowid: the contact search index's tables (FTS5) have none.
    const rows = await client.execute(`SELECT * FROM "${String(name)}"`);
    const lines = rows.rows.map((row) => {
      const { last_used_at: _touched, ...kept } = row as Record<string, unknown>;
      return `${String(name)}:${JSON.stringify(kept, (_key, value) => (value instanceof ArrayBuffer ? Buffer.from(value).toString('hex') : value))}\n`;
    });
    for (const line of lines.sort()) hash.update(line);
  }
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------------------------------------
// Values from the schemas

const branches = (schema: Schema): Schema[] =>
  (schema.anyOf ?? schema.oneOf ?? [schema]).filter((branch: Schema) => branch.type !== 'null');
const types = (schema: Schema): string[] =>
  branches(schema)
    .flatMap((branch) => (Array.isArray(branch.type) ? branch.type : [branch.type]))
    .filter(Boolean);

/**
 * The seeded row an ID field names: channelId → channels, {id} after /segments → segments, {ref} → contacts.
 * A collection this file does not seed gets an ID no row has: validation comes before the lookup anyway.
 */
const UNSEEDED = 999_999;
function seededId(name: string, collection?: string): number | undefined {
  if (name === 'ref') return seeded.contacts;
  if (name === 'id' && collection) return seeded[collection] ?? UNSEEDED;
  if (name.endsWith('Id')) return seeded[`${name.slice(0, -2).replace(/^resendOf$/, 'broadcast')}s`];
  return undefined;
}

/** A value the schema accepts, as far as the document says: required properties only. */
function example(schema: Schema, name = ''): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  const [branch] = branches(schema);
  if (!branch) return null;
  if (branch !== schema) return example(branch, name);
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((key: string) => [key, example(schema.properties?.[key] ?? {}, key)]),
      );
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => example(schema.items ?? {}));
    case 'integer':
    case 'number':
      return seededId(name) ?? schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
      if (schema.format === 'date') return '2030-01-01';
      if (schema.format === 'uri') return 'https://example.com';
      if (schema.format === 'email') return 'ana@example.com';
      return 'x'.repeat(Math.max(schema.minLength ?? 1, 1));
    default:
      return 'x';
  }
}

/** A NUL (or another control character) inside a value the field would otherwise take. */
const inject = (text: string, char: string) => `${text.slice(0, 1)}${char}${text.slice(1)}`;

/** Values of a type no branch of the schema takes. */
function wrongTypes(schema: Schema): unknown[] {
  const taken = new Set(types(schema));
  if (taken.has('number')) taken.add('integer');
  const candidates: [string, unknown][] = [
    ['string', '12'],
    ['integer', 12],
    ['boolean', true],
    ['object', { x: 1 }],
    ['array', ['x']],
  ];
  const wrong = candidates.filter(([type]) => !taken.has(type)).map(([, value]) => value);
  if (taken.has('integer') && !taken.has('number')) wrong.push(1.5);
  return wrong.slice(0, 3);
}

/** Hostile values for one JSON field (the leaf itself, not what is inside it). */
function hostileLeaves(schema: Schema, name: string): [string, unknown][] {
  const out: [string, unknown][] = [];
  const stringBranch = branches(schema).find((branch) => types(branch).includes('string'));
  if (stringBranch || schema.enum) {
    const base = String(example(stringBranch ?? schema, name));
    out.push(
      ['NUL', inject(base, '\u0000')],
      ((label, char): [string, unknown] => [label, inject(base, char)])(...control()),
    );
    const max = stringBranch?.maxLength;
    out.push(['oversized', 'x'.repeat(max ? max + 1 : BIG)]);
  }
  const numeric = branches(schema).find((branch) => types(branch).some((t) => t === 'integer' || t === 'number'));
  if (numeric) {
    // Every number has an upper bound; negative and tiny ones are hostile where the document says so.
    out.push(['huge', 1e300]);
    const floor = numeric.minimum ?? numeric.exclusiveMinimum;
    if (floor !== undefined && floor >= 0) out.push(['negative', -1]);
    if (floor !== undefined && (floor > 0 || numeric.exclusiveMinimum === 0)) out.push(['tiny', 1e-300]);
    const id = seededId(name);
    if (id) out.push(['ID as text', String(id)], ['hex alias', `0x${id.toString(16)}`]);
  }
  const array = branches(schema).find((branch) => types(branch).includes('array'));
  if (array) {
    const item = example(array.items ?? {});
    out.push(['oversized list', Array.from({ length: array.maxItems ? array.maxItems + 1 : 2_000 }, () => item)]);
  }
  for (const value of wrongTypes(schema)) out.push([`wrong type ${JSON.stringify(value)}`, value]);
  return out;
}

interface BodyCase {
  path: string[];
  label: string;
  value: unknown;
}

/** Every hostile body for this schema node: its own hostile values, then each nested field's inside a valid shell. */
function hostileBodies(schema: Schema, name: string, depth = 0): BodyCase[] {
  const cases: BodyCase[] = hostileLeaves(schema, name).map(([label, value]) => ({ path: [], label, value }));
  if (depth > 8) return cases;
  for (const branch of branches(schema)) {
    const shell = example(branch, name);
    if (branch.properties) {
      for (const [key, property] of Object.entries<Schema>(branch.properties))
        for (const inner of hostileBodies(property, key, depth + 1))
          cases.push({ ...inner, path: [key, ...inner.path], value: { ...(shell as object), [key]: inner.value } });
    }
    if (branch.additionalProperties && typeof branch.additionalProperties === 'object') {
      const entry = example(branch.additionalProperties);
      cases.push({ path: [], label: 'NUL in a key', value: { ...(shell as object), [NUL]: entry } });
      for (const inner of hostileBodies(branch.additionalProperties, 'plan', depth + 1))
        cases.push({ ...inner, path: ['plan', ...inner.path], value: { ...(shell as object), plan: inner.value } });
    }
    if (branch.items) {
      for (const inner of hostileBodies(branch.items, name, depth + 1))
        cases.push({ ...inner, path: ['0', ...inner.path], value: [inner.value] });
    }
  }
  return cases;
}

/** Hostile texts for a path or query parameter, IDs getting the aliases of the real row they name. */
function hostileParams(schema: Schema, name: string, collection?: string): [string, string][] {
  const out: [string, string][] = [
    ['NUL', NUL],
    ((label, char): [string, string] => [label, inject('12', char)])(...control()),
    ['oversized', '1'.repeat(Math.min((branches(schema)[0]?.maxLength ?? 2000) + 1, 5000))],
  ];
  const numeric = branches(schema).some(
    (branch) => typeof branch.pattern === 'string' && branch.pattern.includes('[1-9][0-9]'),
  );
  if (numeric) {
    const n = seededId(name, collection) ?? Number(schema.default ?? 10);
    out.push(
      ...[`0x${n.toString(16)}`, `${n}e0`, `+${n}`, ` ${n}`, `0${n}`, `${n}.0`, '-1', 'abc'].map(
        (alias): [string, string] => [`alias ${JSON.stringify(alias)}`, alias],
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The cases of one operation

function casesOf(method: string, template: string, operation: Schema): Case[] {
  const parameters: Schema[] = operation.parameters ?? [];
  const pathParams = parameters.filter((p) => p.in === 'path');
  const queryParams = parameters.filter((p) => p.in === 'query');
  const segments = template.split('/');
  const collectionOf = (param: string) => segments[segments.indexOf(`{${param}}`) - 1];
  const fill = (overrides: Record<string, string> = {}) =>
    template.replace(/\{(\w+)\}/g, (_, param: string) =>
      encodeURIComponent(overrides[param] ?? String(seededId(param, collectionOf(param)))),
    );
  // The event stream answers with a page, not a stream, if anything ever got through.
  const baseQuery: [string, string][] = queryParams.some((p) => p.name === 'wait') ? [['wait', '0']] : [];
  const cases: Case[] = [];
  const content = operation.requestBody?.content ?? {};
  const jsonSchema = content['application/json']?.schema;
  const formSchema = content['multipart/form-data']?.schema;
  const baseBody = jsonSchema
    ? { json: example(jsonSchema) }
    : formSchema
      ? { form: importForm(formSchema, {}) }
      : undefined;

  for (const param of pathParams)
    for (const [label, value] of hostileParams(param.schema, param.name, collectionOf(param.name)))
      cases.push({
        field: `param.${param.name}`,
        label,
        method,
        path: fill({ [param.name]: value }),
        query: baseQuery,
        ...(baseBody && { body: baseBody }),
      });
  for (const param of queryParams) {
    const values = hostileParams(param.schema, param.name);
    // A repeated parameter is a list: the wrong type for one that takes a single value.
    if (!branches(param.schema).some((branch) => types(branch).includes('array')))
      values.push(['repeated', String(example(param.schema, param.name))]);
    for (const [label, value] of values) {
      const query: [string, string][] = [...baseQuery.filter(([key]) => key !== param.name), [param.name, value]];
      if (label === 'repeated') query.push([param.name, value]);
      cases.push({
        field: `query.${param.name}`,
        label,
        method,
        path: fill(),
        query,
        ...(baseBody && { body: baseBody }),
      });
    }
  }
  if (jsonSchema)
    for (const { path, label, value } of hostileBodies(jsonSchema, ''))
      cases.push({
        field: ['body', ...path].join('.'),
        label,
        method,
        path: fill(),
        query: baseQuery,
        body: { json: value },
      });
  if (formSchema)
    for (const [key, property] of Object.entries<Schema>(formSchema.properties ?? {})) {
      const values: [string, string | Blob][] =
        property.format === 'binary'
          ? [['text instead of a file', 'phone\n+5491155551234\n']]
          : [
              ['NUL', inject(String(example(property, key)), '\u0000')],
              ['oversized', 'x'.repeat(BIG)],
            ];
      for (const [label, value] of values)
        cases.push({
          field: `form.${key}`,
          label,
          method,
          path: fill(),
          query: baseQuery,
          body: { form: importForm(formSchema, { [key]: value }) },
        });
    }
  return cases;
}

/** A dry-run upload of one valid row, with one field replaced. */
function importForm(schema: Schema, replace: Record<string, string | Blob>): FormData {
  const form = new FormData();
  for (const [key, property] of Object.entries<Schema>(schema.properties ?? {})) {
    const value =
      replace[key] ??
      (property.format === 'binary'
        ? new Blob(['phone,first name\n+5491155557777,Dora\n'])
        : key === 'dryRun'
          ? 'true'
          : undefined);
    if (value instanceof Blob) form.set(key, value, 'contacts.csv');
    else if (value !== undefined) form.set(key, value);
  }
  return form;
}

async function send(c: Case): Promise<{ status: number; body: { error?: { details?: { path: string }[] } } }> {
  const url = new URL(`${server.baseUrl}${c.path}`);
  for (const [key, value] of c.query) url.searchParams.append(key, value);
  const headers: Record<string, string> = { Authorization: `Bearer ${ws.tokens.owner}`, 'Accept-Language': 'es' };
  let body: string | FormData | undefined;
  if (c.body && 'json' in c.body) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(c.body.json);
  } else if (c.body) body = c.body.form;
  const res = await fetch(url, { method: c.method, headers, body, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: {} };
  }
}

/** The 422 speaks of the field attacked: that field, something inside it, or (a bad key, a union) its parent. */
function namesField(details: { path: string }[] | undefined, field: string): boolean {
  const parent = field.split('.').slice(0, -1).join('.');
  return (details ?? []).some(
    (d) => d.path === field || d.path.startsWith(`${field}.`) || (parent.includes('.') && d.path === parent),
  );
}

describe('hostile input, for every operation of the OpenAPI document', () => {
  it('gets a 4xx naming the field, and writes nothing', async () => {
    const operations = Object.entries<Record<string, Schema>>(doc.paths)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, item]) =>
        Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
      );
    expect(operations.length).toBeGreaterThan(40);

    const problems: string[] = [];
    let sent = 0;
    for (const { method, path, op } of operations) {
      const cases = casesOf(method, path, op);
      // An operation without parameters or body (GET /me, /channels…) has nothing to attack.
      if (op.parameters?.length || op.requestBody) expect(cases.length, `${method} ${path}`).toBeGreaterThan(0);
      const before = await snapshot();
      for (const c of cases) {
        const res = await send(c);
        sent++;
        const where = `${method} ${path} ${c.field} (${c.label}): ${res.status}`;
        if (res.status < 400 || res.status >= 500) problems.push(where);
        else if (res.status === 422 && !namesField(res.body.error?.details, c.field))
          problems.push(`${where} names ${JSON.stringify(res.body.error?.details?.map((d) => d.path))}`);
      }
      if ((await snapshot()) !== before) problems.push(`${method} ${path}: the database changed`);
    }
    expect(problems).toEqual([]);
    // Every operation was attacked, most of them through many fields.
    expect(sent).toBeGreaterThan(1000);
  }, 60_000);
});
