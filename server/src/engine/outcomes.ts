/**
 * The engine's outcome writes: final failures over recipients not already settled (one UPDATE per 400).
 */
import type { FailureReason } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/client';

/** Writes final failures, only over recipients not already settled. */
export interface Failure {
  id: number;
  reason: FailureReason;
  /** The provider's code and words; null when Rebound decided the failure itself. */
  code: string | null;
  message: string | null;
  retryAfterAt: number | null;
  /** What was (or would have been) sent: the template outside the window; undefined keeps the row's own. */
  useTemplate?: boolean;
}

export async function writeFailures(db: Queryable, failures: Failure[], now: number) {
  const values = failures.map(
    (f) =>
      sql`(${f.id}, ${f.reason}, ${f.code}, ${f.message}, ${f.retryAfterAt}, ${f.useTemplate === undefined ? null : f.useTemplate ? 1 : 0})`,
  );
  for (let i = 0; i < values.length; i += 400) {
    await db.run(sql`UPDATE messages SET state = 'failed', reason = v.column2, provider_code = v.column3,
        provider_message = v.column4, retry_after_at = v.column5, failed_at = ${now},
        use_template = coalesce(v.column6, use_template),
        lease_owner = NULL, lease_until = NULL, updated_at = ${now}
      FROM (VALUES ${sql.join(values.slice(i, i + 400), sql`, `)}) AS v
      WHERE messages.id = v.column1 AND messages.state IN ('sending', 'uncertain', 'queued')`);
  }
}
