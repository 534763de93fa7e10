/**
 * Identical reads of the failed-message log asked for at once (every agent's panel opens on the same
 * first page) are read once on the read thread while they wait their turn; each caller still gets the
 * answer for its own workspace and language, read after it asked.
 */
import { describeFailure } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/client';
import type { HeavyWork } from '../src/lib/heavy';
import { createBroadcast } from '../src/services/broadcasts';
import { createChannel } from '../src/services/channels';
import { createSegment } from '../src/services/segments';
import { createWorkspace } from '../src/services/workspaces';
import { seedFailedMessages, startThreadedServer } from './helpers';

const CONTACTS = 5_000;

let base: string;
let database: DatabaseHandle;
let heavy: HeavyWork;
const agents: Record<
  'north' | 'south',
  { token: string; workspaceId: number; broadcastId: number; channelId: number }
> = {} as never;

async function seedWorkspace(name: string, first: string) {
  const { db } = database;
  const { workspace, tokens } = await createWorkspace(db, { name, defaultCountry: 'AR' }, ['agent']);
  await db.run(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${CONTACTS})
    INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, custom_fields, created_at, updated_at)
    SELECT ${workspace.id}, ${first} || ' ' || i, '+54911' || (40000000 + i), 1, '{}', 0, 0 FROM n`);
  const channel = await createChannel(db, workspace.id, { type: 'sandbox', name: `Sandbox ${name}` });
  const segment = await createSegment(db, workspace.id, { name: 'all', filter: { match: 'all', groups: [] } });
  const broadcast = await createBroadcast(db, workspace.id, {
    name: `Aviso ${name}`,
    channelId: channel.id,
    segmentId: segment.id,
    content: { text: 'Hola' },
  });
  await seedFailedMessages(db, { workspaceId: workspace.id, broadcastId: broadcast.id, channelId: channel.id });
  return {
    token: tokens[0]?.token as string,
    workspaceId: workspace.id,
    broadcastId: broadcast.id,
    channelId: channel.id,
  };
}

beforeAll(async () => {
  ({ base, heavy } = await startThreadedServer({ threads: 1 }, async (opened) => {
    database = opened;
    agents.north = await seedWorkspace('Norte', 'Norteño');
    agents.south = await seedWorkspace('Sur', 'Sureño');
  }));
}, 60_000);

interface Page {
  data: { messageId: number; contact: { name: string }; reason: { title: string } }[];
  nextCursor: string | null;
}

/** A page as the read thread answers it: the JSON's UTF-8 bytes, as the API sends them. */
const parsePage = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Page;

async function page(agent: 'north' | 'south', language: 'es' | 'en', query = 'limit=20') {
  const res = await fetch(`${base}/api/v1/failed-messages?${query}`, {
    headers: { Authorization: `Bearer ${agents[agent].token}`, 'Accept-Language': language },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

describe('identical log reads asked for at once', () => {
  it('are read once while they wait, and every agent gets its own workspace in its own language', async () => {
    const alone = {
      northEs: await page('north', 'es'),
      northEn: await page('north', 'en'),
      southEs: await page('south', 'es'),
    };
    expect(alone.northEs.data[0]?.contact.name).toMatch(/^Norteño /);
    expect(alone.southEs.data[0]?.contact.name).toMatch(/^Sureño /);
    expect(alone.northEs.data[0]?.reason.title).not.toBe(alone.northEn.data[0]?.reason.title);

    const asks = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 0 ? page('north', 'es') : i % 3 === 1 ? page('north', 'en') : page('south', 'es'),
    );
    const answers = await Promise.all(asks);
    answers.forEach((answer, i) => {
      expect(answer).toEqual(i % 3 === 0 ? alone.northEs : i % 3 === 1 ? alone.northEn : alone.southEs);
    });
  });

  it('40 callers asking for 3 distinct reads at once cost 2 reads running and 3 waiting, not 40', async () => {
    const { north, south } = agents;
    const args = (workspaceId: number, language: 'es' | 'en') => ({
      workspaceId,
      filters: {},
      page: { limit: 20, language },
      windowMs: 60_000,
    });
    const joinedBefore = heavy.joinedReads;
    const asks = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 0
        ? heavy.read(database.db, north.workspaceId, 'failures.page', args(north.workspaceId, 'es'))
        : i % 3 === 1
          ? heavy.read(database.db, north.workspaceId, 'failures.page', args(north.workspaceId, 'en'))
          : heavy.read(database.db, south.workspaceId, 'failures.page', args(south.workspaceId, 'es')),
    );
    const answers = (await Promise.all(asks)).map(parsePage);
    // The read thread takes two at once: the first two asked run at once, the other 38 wait their
    // turn, and each of those joins the one read of its kind already waiting.
    expect(heavy.joinedReads - joinedBefore).toBe(35);
    answers.forEach((answer, i) => {
      const mine = i % 3 === 2 ? 'Sureño' : 'Norteño';
      expect(answer.data).toHaveLength(20);
      expect(answer.data.every((m) => m.contact.name.startsWith(mine))).toBe(true);
      expect(answer.data[0]?.reason.title).toBe(describeFailure('blocked', i % 3 === 1 ? 'en' : 'es').title);
    });
  });

  it('never answers a read with one that began before the caller wrote: a write, then a read, shows the write', async () => {
    const { north } = agents;
    const args = {
      workspaceId: north.workspaceId,
      filters: {},
      page: { limit: 200, language: 'en' },
      windowMs: 60_000,
    };
    for (let round = 0; round < 5; round++) {
      // Others keep the read thread busy with the same read: two running, the rest waiting on one.
      const others = Array.from({ length: 30 }, () =>
        heavy.read(database.db, north.workspaceId, 'failures.page', args as never),
      );
      const failedAt = 10_000_000 + round;
      await database.db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier,
          state, reason, provider_code, provider_message, attempts, next_attempt_at, failed_at, created_at, updated_at)
        SELECT ${north.workspaceId}, ${north.broadcastId}, ${north.channelId}, id, phone, 'failed', 'blocked', '131031',
          'blocked by the recipient', 1, 0, ${failedAt}, 0, 0 FROM contacts WHERE workspace_id = ${north.workspaceId} LIMIT 1`);
      const after = parsePage(await heavy.read(database.db, north.workspaceId, 'failures.page', args as never));
      expect(after.data[0]?.messageId).toBe(
        (
          await database.db.get<{ id: number }>(
            sql`SELECT id FROM messages WHERE workspace_id = ${north.workspaceId} AND failed_at = ${failedAt}`,
          )
        )?.id,
      );
      await Promise.all(others);
    }
  });
});
