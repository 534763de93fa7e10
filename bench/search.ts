/**
 * contacts.search_1m_p95_ms: contact search over 1,000,000 contacts of one workspace (and 100,000 of
 * another, which must not get in the way), through the same service the API's heavy thread calls.
 * The mix is what agents type: fragments of names (accents or not), of phone numbers as people write
 * them, of e-mail addresses, and a few that match nobody.
 */

import type { Client } from '@libsql/client';
import { checkpointNow } from '@rebound/server/db';
import { searchContacts } from '@rebound/server/services/contacts';
import { createWorkspace } from '@rebound/server/services/workspaces';
import { tempDatabase } from './lib/db';
import { type BenchResult, median, percentile } from './lib/report';

const CONTACTS = 1_000_000;
const OTHER_WORKSPACE = 100_000;
const RUNS = 5;

const FIRST = [
  'José',
  'María',
  'Juan',
  'Ana',
  'Luis',
  'Lucía',
  'Carlos',
  'Sofía',
  'Jorge',
  'Valentina',
  'Martín',
  'Camila',
  'Diego',
  'Florencia',
  'Pablo',
  'Agustina',
  'Sebastián',
  'Julieta',
  'Nicolás',
  'Micaela',
  'Andrés',
  'Paula',
  'Tomás',
  'Victoria',
  'Matías',
  'Ramona',
  'Joaquín',
  'Belén',
  'Ignacio',
  'Guadalupe',
  'Facundo',
];
const LAST = [
  'González',
  'Rodríguez',
  'Gómez',
  'Fernández',
  'López',
  'Díaz',
  'Martínez',
  'Pérez',
  'García',
  'Sánchez',
  'Romero',
  'Sosa',
  'Álvarez',
  'Torres',
  'Ruiz',
  'Ramírez',
  'Flores',
  'Benítez',
  'Acosta',
  'Medina',
  'Herrera',
  'Suárez',
  'Aguirre',
  'Giménez',
  'Gutiérrez',
  'Pereyra',
  'Rojas',
  'Molina',
  'Castro',
  'Ortiz',
  'Silva',
  'Núñez',
  'Luna',
  'Juárez',
  'Cabrera',
  'Ríos',
  'Ferreyra',
  'Godoy',
  'Morales',
  'Domínguez',
  'Quiroga',
];
const unaccented = (names: string[]) => names.map((n) => n.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase());
const DOMAINS = ['gmail.com', 'hotmail.com', 'yahoo.com.ar', 'outlook.com', 'empresa.com.ar', 'correo.mx'];

const QUERIES = {
  name: [
    'gonz',
    'María Gonz',
    'jose perez',
    'benítez',
    'lucia',
    'Sofía R',
    'martinez',
    'agus',
    'florencia acos',
    'QUIROGA',
    'nuñez',
    'joaquin dom',
  ],
  phone: ['+54 9 11 4', '1155', '11 4523', '4523-1', '5491145', '(11) 7788', '+52 1 55', '9 11 6310 2'],
  email: ['gmail', '@empresa.com', 'lucia.gomez', 'martin.lopez12', 'hotmail.com', 'camila.sosa9'],
  none: ['nadie se llama así', 'zzyzx', '0000000'],
};

/**
 * Seeding is not what is measured: set-based SQL; the index fills through its triggers as any writer's would.
 * Contact i: a first and a last name from the lists (co-prime strides, so pairs vary), an Argentine mobile
 * (one in five Mexican), and an e-mail made of the names, a number and a domain.
 */
export async function seedContacts(client: Client, workspaceId: number, count: number): Promise<void> {
  await client.execute({
    sql: `INSERT INTO contacts (workspace_id, first_name, last_name, phone, phone_valid, email, custom_fields, created_at, updated_at)
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            SELECT ?, json_extract(?, '$[' || (i % CAST(? AS INTEGER)) || ']'), json_extract(?, '$[' || ((i * 7) % CAST(? AS INTEGER)) || ']'),
              CASE WHEN i % 5 = 0 THEN '+52155' || (10000000 + (i * 7919) % 90000000)
                   ELSE '+54911' || (10000000 + (i * 7919) % 90000000) END, 1,
              json_extract(?, '$[' || (i % CAST(? AS INTEGER)) || ']') || '.' || json_extract(?, '$[' || ((i * 7) % CAST(? AS INTEGER)) || ']')
                || (i % 100) || '@' || json_extract(?, '$[' || ((i * 13) % CAST(? AS INTEGER)) || ']'),
              '{}', 0, 0
            FROM n`,
    args: [
      count,
      workspaceId,
      JSON.stringify(FIRST),
      FIRST.length,
      JSON.stringify(LAST),
      LAST.length,
      JSON.stringify(unaccented(FIRST)),
      FIRST.length,
      JSON.stringify(unaccented(LAST)),
      LAST.length,
      JSON.stringify(DOMAINS),
      DOMAINS.length,
    ],
  });
}

export async function benchSearch(): Promise<BenchResult[]> {
  const database = await tempDatabase('search');
  try {
    const { db, client } = database;
    const { workspace } = await createWorkspace(db, { name: 'Bench' });
    const { workspace: other } = await createWorkspace(db, { name: 'Other' });
    const ws = { workspaceId: workspace.id, defaultCountry: 'AR' };
    const seedStart = performance.now();
    await seedContacts(client, other.id, OTHER_WORKSPACE / 2);
    await seedContacts(client, workspace.id, CONTACTS);
    await seedContacts(client, other.id, OTHER_WORKSPACE / 2);
    await client.execute('ANALYZE');
    await checkpointNow(client);
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const times: number[] = [];
    const byKind: Record<string, number[]> = {};
    const found: Record<string, number> = {};
    for (const [kind, queries] of Object.entries(QUERIES)) {
      const kindTimes: number[] = [];
      byKind[kind] = kindTimes;
      for (const q of queries) {
        found[q] = (await searchContacts(db, ws, { q, limit: 50 })).data.length; // warm the page cache
        for (let run = 0; run < RUNS; run++) {
          const start = performance.now();
          await searchContacts(db, ws, { q, limit: 50 });
          const ms = performance.now() - start;
          times.push(ms);
          kindTimes.push(ms);
        }
      }
    }
    const all = Object.values(QUERIES).flat();
    const empty = all.filter((q) => found[q] === 0);
    const perKind = Object.entries(byKind)
      .map(([kind, values]) => `${kind} p95 ${percentile(values, 95).toFixed(1)}`)
      .join(', ');
    return [
      {
        id: 'contacts.search_1m_p95_ms',
        value: percentile(times, 95),
        unit: 'ms',
        better: 'lower',
        target: 50,
        note:
          `first page (50) of ${all.length} searches × ${RUNS} runs over 1,000,000 contacts (+100,000 in another ` +
          `workspace): ${QUERIES.name.length} name, ${QUERIES.phone.length} phone-digit, ${QUERIES.email.length} ` +
          `e-mail fragments and ${QUERIES.none.length} that match nobody (${empty.length} answered empty); ` +
          `median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms; ${perKind} ` +
          `(seeded in ${seedSeconds.toFixed(0)} s)`,
      },
    ];
  } finally {
    database.dispose();
  }
}
