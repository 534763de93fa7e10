/**
 * A re-send's plan of a very large failure: a provider outage can fail half a million recipients of
 * one reason, and the default (each reason at its earliest useful time) must plan them all, not fail
 * the click with a stack overflow.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client';
import { planParts } from '../src/services/resend-parts';
import type { Candidate, OriginalBroadcast } from '../src/services/resend-store';

const dir = mkdtempSync(join(tmpdir(), 'rebound-resend-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('planning a re-send of a very large failure', () => {
  it('plans 1,000,000 recipients failed for one reason in one part, none left out', async () => {
    const handle = await openDatabase({ url: `file:${join(dir, 'plan.db')}` });
    try {
      const now = Date.UTC(2026, 11, 7, 15, 0);
      const rows: Candidate[] = Array.from({ length: 1_000_000 }, (_, i) => ({
        messageId: i + 1,
        contactId: i + 1,
        reason: 'provider_error',
        failedAt: now - 3_600_000,
        usefulFrom: null,
      }));
      const original = { id: 1, channelId: 1, content: { text: 'Hola' } } as unknown as OriginalBroadcast;
      const warnings: string[] = [];
      const plan = await planParts(
        handle.db,
        original,
        undefined,
        rows,
        { when: 'auto' },
        now,
        'America/Argentina/Buenos_Aires',
        'es',
        30 * 60_000,
        (code) => warnings.push(code),
      );
      expect(plan.unplanned).toHaveLength(0);
      expect(plan.parts).toHaveLength(1);
      expect(plan.parts[0]?.at).toBe(now);
      expect(plan.parts[0]?.rows).toHaveLength(1_000_000);
      expect(warnings).toEqual([]);
    } finally {
      handle.close();
    }
  });
});
