/**
 * guard.*: how fast the quality guard stops a broadcast that hurts the number. The spike of the guard's
 * test: 10,000 recipients, and from the 1,001st send on one contact in ten blocks the number (WhatsApp
 * 131048). With the default guard (20 of the last 200) the threshold is crossed at send 1,200 (the
 * 20th block, in the provider's order of arrival); every send the provider sees after it is one more
 * message from a number already in trouble.
 */
import { BroadcastEngine } from '@rebound/server/engine';
import { startWhatsAppSimulator } from '@rebound/simulators';
import { sql } from 'drizzle-orm';
import { seedBroadcast } from './engine';
import { tempDatabase } from './lib/db';
import type { BenchResult } from './lib/report';

const COUNT = 10_000;
const SPIKE_AFTER = 1_000;
const SHARE = 0.1;
/** The send at which the 20th block arrives: where the default guard's threshold is crossed. */
const THRESHOLD_AT = SPIKE_AFTER + 20 / SHARE;
/** A provider answering in 50 ms, as Meta's Cloud API does on a good day. */
const LATENCY_MS = 50;

export async function benchGuard(): Promise<BenchResult[]> {
  const runs: { rate: number; after: number }[] = [];
  // A channel at WhatsApp's default 80 msg/s, one at 1,000 (the throughput tier) and one without a limit.
  for (const rate of [80, 1_000, 1_000_000]) {
    const creds = { accessToken: 'bench-token', phoneNumberId: '1000', appSecret: 'bench-secret', verifyToken: 'v' };
    const sim = await startWhatsAppSimulator({ ...creds, latencyMs: LATENCY_MS });
    const database = await tempDatabase('guard');
    try {
      sim.setSpike({ after: SPIKE_AFTER, share: SHARE, code: '131048' });
      const { broadcastId, schedule } = await seedBroadcast(
        database,
        {
          type: 'whatsapp',
          name: 'wa',
          credentials: creds,
          baseUrl: sim.baseUrl,
          limits: { dailyQuota: null, messagesPerSecond: rate, pairRatePerRecipientSeconds: null },
        },
        COUNT,
      );
      const engine = new BroadcastEngine({ db: database.db, pollIntervalMs: 5, concurrency: 64 });
      await schedule();
      await engine.runUntilIdle({ timeoutMs: 600_000 });
      const [row] = await database.db.all<{ status: string }>(
        sql`SELECT status FROM broadcasts WHERE id = ${broadcastId}`,
      );
      if (row?.status !== 'paused') throw new Error(`the broadcast at ${rate} msg/s ended ${row?.status}, not paused`);
      runs.push({ rate, after: sim.requests.length - THRESHOLD_AT });
    } finally {
      database.dispose();
      await sim.stop();
    }
  }
  const worst = Math.max(...runs.map((r) => r.after));
  const each = runs
    .map((r) => `${r.rate >= 1_000_000 ? 'no limit' : `${r.rate.toLocaleString('en')} msg/s`}: ${r.after}`)
    .join(', ');
  return [
    {
      id: 'guard.sends_after_threshold',
      value: worst,
      unit: 'messages',
      better: 'lower',
      target: 300,
      note: `sends the provider received after the guard's threshold was crossed (send ${THRESHOLD_AT.toLocaleString('en')} of a ${COUNT.toLocaleString('en')}-recipient WhatsApp broadcast, 10 % blocks from send ${(SPIKE_AFTER + 1).toLocaleString('en')}), provider latency ${LATENCY_MS} ms, 64 in flight; the worst of three channel rates (${each})`,
    },
  ];
}
