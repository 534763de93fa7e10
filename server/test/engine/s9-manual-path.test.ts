/**
 * S9: the reference page's manual path (export the failed messages, keep the channel's rows,
 * re-import them with "update existing contacts only" by contact ID adding a tag, build the segment
 * "contact tag has any of <tag>", send again) ends where the one-click path ends.
 */
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAILED_EXPORT_EN } from '../failed-export-headers';
import { type Harness, harness, S1_TEMPLATE, s1Broadcast } from './harness';

let h: Harness;
let whatsapp: number;
let s1: number;
const TEMPLATE = S1_TEMPLATE;

beforeAll(async () => {
  h = await harness();
  ({ channelId: whatsapp, broadcastId: s1 } = await s1Broadcast(h));
  await h.schedule(s1);
  // Another channel's failures in the same export: the manual path filters them out by channel ID.
  const sandbox = (await h.channel({ type: 'sandbox', name: 'Pruebas' })).id;
  await h.server.request('POST', '/api/v1/contacts', {
    token: h.ws.tokens.agent,
    body: { firstName: 'Malo', phone: '123', tags: ['otros'] },
  });
  const other = await h.broadcast({
    name: 'Otros',
    channelId: sandbox,
    segmentId: (await h.segment('Otros', 'otros')).id,
    content: { text: 'x' },
  });
  await h.schedule(other.id);
  await h.engine().runUntilIdle();
});

async function taggedContactIds(tag: string): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  do {
    const res: { body: { data: { id: number }[]; nextCursor: string | null } } = await h.server.request(
      'GET',
      `/api/v1/contacts?tag=${encodeURIComponent(tag)}&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      { token: h.ws.tokens.agent },
    );
    ids.push(...res.body.data.map((c) => c.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  return ids.sort((a, b) => a - b);
}

describe('S9: the manual path and the one-click path end in the same place', () => {
  it('export → filter by channel ID → import (update only, contact ID, tag) → segment → re-send', async () => {
    const today = new Date();
    const from = new Date(today.getTime() - 86_400_000).toISOString();
    const to = new Date(today.getTime() + 86_400_000).toISOString();
    // 1. Export the failed messages for the date range (in English, as the reference page's columns).
    const exported = await fetch(`${h.server.baseUrl}/api/v1/exports/failed-messages.csv?from=${from}&to=${to}`, {
      headers: { Authorization: `Bearer ${h.ws.tokens.manager}`, 'Accept-Language': 'en' },
    });
    expect(exported.status).toBe(200);
    const csv = await exported.text();
    const parsed = Papa.parse<Record<string, string>>(csv, { header: true, skipEmptyLines: true });
    expect(parsed.meta.fields).toEqual(FAILED_EXPORT_EN);
    expect(parsed.data.length).toBe(501);
    // 2. Keep the rows of the WhatsApp channel, as a spreadsheet filter would.
    const kept = parsed.data.filter((row) => row['Channel ID'] === String(whatsapp));
    expect(kept.length).toBe(500);
    const file = Papa.unparse({
      fields: parsed.meta.fields ?? [],
      data: kept.map((row) => (parsed.meta.fields ?? []).map((f) => row[f])),
    });

    // 3. Import it: update existing contacts only, identifier contact ID, adding the tag.
    const manualTag = 'failed broadcast 112526';
    const form = new FormData();
    form.set('file', new Blob([file], { type: 'text/csv' }), 'failed-messages.csv');
    form.set('mode', 'update');
    form.set('identifier', 'contactId');
    form.set('tags', manualTag);
    const imported = await fetch(`${h.server.baseUrl}/api/v1/imports/contacts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${h.ws.tokens.manager}` },
      body: form,
    });
    const report = await imported.json();
    expect(imported.status, JSON.stringify(report)).toBeLessThan(300);
    expect(report).toMatchObject({ status: 'completed', created: 0, updated: 500, rejected: 0 });

    // 4. The segment "contact tag has any of <tag>" and the re-send, by hand.
    const segment = await h.segment(manualTag, manualTag);
    const manual = await h.broadcast({
      name: 'Black Friday (a mano)',
      channelId: whatsapp,
      segmentId: segment.id,
      content: TEMPLATE,
    });

    // 5. The one-click path on the same broadcast.
    const oneClick = (await h.server.request('POST', `/api/v1/broadcasts/${s1}/resend`, { token: h.ws.tokens.agent }))
      .body;
    expect(oneClick.tagged).toBe(500);

    // The same contacts carry both tags, and both re-sends target the same 500.
    const byHand = await taggedContactIds(manualTag);
    const byClick = await taggedContactIds(oneClick.tag);
    expect(byHand.length).toBe(500);
    expect(byHand).toEqual(byClick);
    const manualPreview = (
      await h.server.request('GET', `/api/v1/segments/${segment.id}/preview?sample=50`, { token: h.ws.tokens.agent })
    ).body;
    const clickPreview = (
      await h.server.request('GET', `/api/v1/segments/${oneClick.segmentId}/preview?sample=50`, {
        token: h.ws.tokens.agent,
      })
    ).body;
    expect(manualPreview).toEqual(clickPreview);
    await h.schedule(manual.id, oneClick.scheduledAt);
    const [a, b] = [await h.get(manual.id), await h.get(oneClick.broadcastId)];
    expect(a.targetCount).toBe(500);
    expect(b.targetCount).toBe(500);
    expect(a.scheduledAt).toBe(b.scheduledAt);
    expect(a.channelId).toBe(b.channelId);
    expect(a.content).toEqual(b.content);
  });
});
