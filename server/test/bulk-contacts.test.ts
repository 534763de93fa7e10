import { describe, expect, it } from 'vitest';
import { bulkUpsertContacts } from '../src/services/bulk-contacts';
import { startTestServer } from './helpers';

const server = await startTestServer();

describe('bulk contact upsert', () => {
  it('creates, updates and skips by normalized phone, tags every touched contact, all in one go', async () => {
    const ws = await server.workspace('Bulk');
    const scope = { workspaceId: ws.id, defaultCountry: 'AR' };
    const { db } = server.database;
    const first = await bulkUpsertContacts(
      db,
      scope,
      [
        { firstName: 'Ana', phone: '011 15 5555-0001' },
        { firstName: 'Ana again', phone: '+54 9 11 5555-0001' },
        { firstName: 'Sin teléfono' },
        { firstName: 'Beto', phone: '+5491155550002', customFields: { plan: 'free' } },
      ],
      { by: 'phone', mode: 'upsert', tags: ['importado'] },
    );
    expect(first).toMatchObject({ created: 2, updated: 0, skipped: 2 });
    const second = await bulkUpsertContacts(
      db,
      scope,
      [
        { lastName: 'Pérez', phone: '+5491155550001' },
        { phone: '+5491155550002', customFields: { city: 'Rosario' } },
        { firstName: 'Nuevo', phone: '+5491155550003' },
      ],
      { by: 'phone', mode: 'update', tags: ['failed broadcast 110122'] },
    );
    expect(second).toMatchObject({ created: 0, updated: 2, skipped: 1 });
    const list = await server.request('GET', '/api/v1/contacts?tag=failed%20broadcast%20110122', {
      token: ws.tokens.agent,
    });
    const byName = Object.fromEntries(list.body.data.map((c: { firstName: string }) => [c.firstName, c]));
    expect(byName.Ana).toMatchObject({ lastName: 'Pérez', tags: ['failed broadcast 110122', 'importado'] });
    expect(byName.Beto.customFields).toEqual({ plan: 'free', city: 'Rosario' });
    const added = await bulkUpsertContacts(db, scope, [{ firstName: 'X', phone: '+5491155550001' }], {
      by: 'phone',
      mode: 'add',
    });
    expect(added).toMatchObject({ created: 0, skipped: 1 });
  });

  it('an error part-way leaves nothing behind', async () => {
    const ws = await server.workspace('Atomic');
    const { db } = server.database;
    const rows = Array.from({ length: 1200 }, (_, i) => ({ firstName: `C${i}`, email: `c${i}@example.com` }));
    // The database refuses a row of the third chunk (a trigger stands in for a constraint or a full disk).
    await server.database.client.execute(
      "CREATE TRIGGER refuse_boom BEFORE INSERT ON contacts WHEN NEW.first_name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    rows.push({ firstName: 'boom', email: 'boom@example.com' });
    await expect(
      bulkUpsertContacts(db, { workspaceId: ws.id, defaultCountry: 'AR' }, rows, { by: 'email', mode: 'upsert' }),
    ).rejects.toThrow(/boom/);
    await server.database.client.execute('DROP TRIGGER refuse_boom');
    const list = await server.request('GET', '/api/v1/contacts', { token: ws.tokens.agent });
    expect(list.body.data).toEqual([]);
  });
});
