/**
 * What the engine's roles hand each other: a claimed batch of recipients and their send outcomes.
 */
import type { SendOutcome } from '../channels/types';

export type { BroadcastRow, ChannelRow } from '../db/schema';

export interface Claimed {
  id: number;
  identifier: string;
  attempts: number;
  useTemplate: boolean;
  /**
   * The claim's own lease (worker and claim number), not just the worker's: a row whose lease ran
   * out and that this same process claimed again must not be sent from the older claim as well.
   */
  lease: string;
  /**
   * What the claim's quota-ledger entry replaced on `channelId` (0 and null: none), the entry written at
   * `at`: put back when the recipient is handed back unsent, so a cancel or a pause does not leave a batch
   * counted in the rolling quota (and the pair rate) for a day.
   */
  ledgerBefore?: { channelId: number; at: number; sentAt: number; anyAt: number | null };
}

export interface Outcome {
  item: Claimed;
  outcome: SendOutcome;
}

/** A claimed batch; `slot` is set when the claim already marked it dispatched and took its rate slots. */
export interface Batch {
  items: Claimed[];
  slot?: number;
}
