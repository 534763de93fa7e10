/**
 * The provider registry is complete and consistent: an entry for every channel type, with shared's
 * capabilities, an adapter exactly where the type can broadcast, webhook paths that do not collide,
 * the maps the engine and the routes read made from it, and each adapter's retries read from its
 * provider's code table (every code of every table answered as the table's retry class says).
 */
import {
  CHANNEL_TYPES,
  type ChannelType,
  channelCapabilities,
  type ProviderCodeTable,
  providerFailureCodes,
} from '@rebound/shared';
import { describe, expect, it } from 'vitest';
import { adapterFactories, providers, WEBHOOK_PATHS, webhookHandlers } from '../../src/channels';
import type { HttpAnswer } from '../../src/channels/http';
import { messageBirdOutcome } from '../../src/channels/messagebird';
import { messengerErrorRules } from '../../src/channels/messenger';
import { type GraphErrorRules, graphFailureOutcome } from '../../src/channels/meta-signature';
import { telegramOutcome } from '../../src/channels/telegram';
import { twilioOutcome } from '../../src/channels/twilio';
import type { SendOutcome } from '../../src/channels/types';
import { vonageOutcome } from '../../src/channels/vonage';
import { whatsappErrorRules } from '../../src/channels/whatsapp';

const answer = (status: number, body: unknown): HttpAnswer => ({ status, headers: {}, text: JSON.stringify(body) });

/** A Graph error answer for "<code>" or "<code>/<subcode>". */
function graphAnswer(code: string): HttpAnswer {
  const [main, subcode] = code.split('/');
  return answer(400, {
    error: { code: Number(main), message: 'x', ...(subcode !== undefined && { error_subcode: Number(subcode) }) },
  });
}

function graphSend(rules: GraphErrorRules) {
  return (code: string) => graphFailureOutcome(graphAnswer(code), rules);
}

/**
 * How each provider answers a send refused with a code of its table "codes", through its adapter's own
 * reading of the answer; undefined for codes that never answer a send (delivery reports, Vonage's
 * "status:0", which is an acceptance). A provider with codes and no line here fails the test below.
 */
const refusedSend: Partial<Record<ChannelType, (code: string) => SendOutcome | undefined>> = {
  whatsapp: graphSend(whatsappErrorRules),
  messenger: graphSend(messengerErrorRules),
  twilio_sms: (code) => twilioOutcome(answer(400, { code: Number(code), message: 'x' })),
  telegram: (code) => telegramOutcome(answer(400, { ok: false, error_code: Number(code), description: 'x' }), '1'),
  vonage_sms: (code) => {
    const status = /^status:(\d+)$/.exec(code)?.[1];
    if (status === undefined || status === '0') return undefined;
    return vonageOutcome(answer(200, { messages: [{ status, 'error-text': 'x' }] }));
  },
  messagebird_sms: (code) => {
    const api = /^api:(\d+)$/.exec(code)?.[1];
    return api === undefined ? undefined : messageBirdOutcome(answer(422, { errors: [{ code: Number(api) }] }));
  },
};

describe('the provider registry', () => {
  it('has an entry for every channel type, named by it, with its line of the channel table', () => {
    expect(Object.keys(providers).sort()).toEqual([...CHANNEL_TYPES].sort());
    for (const type of CHANNEL_TYPES) {
      const provider = providers[type];
      expect(provider, type).toBeDefined();
      expect(provider.type, type).toBe(type);
      expect(provider.capabilities, type).toBe(channelCapabilities[type]);
    }
  });

  it('gives an adapter to exactly the types that can broadcast', () => {
    for (const type of CHANNEL_TYPES) {
      expect(providers[type].createAdapter !== undefined, type).toBe(channelCapabilities[type].canBroadcast);
      expect(adapterFactories[type], type).toBe(providers[type].createAdapter);
    }
  });

  it('every provider but the sandbox takes callbacks, each at a path of its own', () => {
    const paths: string[] = [];
    for (const type of CHANNEL_TYPES) {
      const { webhook, createAdapter } = providers[type];
      expect(webhook !== undefined, type).toBe(createAdapter !== undefined && type !== 'sandbox');
      if (!webhook) continue;
      expect(webhook.path, type).toMatch(/^[a-z][a-z0-9-]*$/);
      paths.push(webhook.path);
      expect(WEBHOOK_PATHS[type], type).toBe(webhook.path);
      expect(webhookHandlers[webhook.path], type).toBe(webhook.handler);
    }
    expect(new Set(paths).size).toBe(paths.length);
    expect(Object.keys(webhookHandlers).sort()).toEqual([...paths].sort());
  });

  it('every provider but the sandbox has its failure codes in shared; no other type has any', () => {
    for (const type of CHANNEL_TYPES) {
      const expected = providers[type].createAdapter !== undefined && type !== 'sandbox';
      expect(providerFailureCodes[type] !== undefined, type).toBe(expected);
    }
  });

  it('the Graph rules are the code tables’ retry classes', () => {
    const rules: [ChannelType, GraphErrorRules][] = [
      ['whatsapp', whatsappErrorRules],
      ['messenger', messengerErrorRules],
    ];
    for (const [type, rule] of rules) {
      const codes = providerFailureCodes[type]?.tables.codes as ProviderCodeTable;
      const numeric = (retry: string) =>
        Object.entries(codes)
          .filter(([code, entry]) => entry.retry === retry && /^\d+$/.test(code))
          .map(([code]) => Number(code))
          .sort((a, b) => a - b);
      expect(
        [...rule.throttleCodes].sort((a, b) => a - b),
        type,
      ).toEqual(numeric('later'));
      expect(
        [...rule.retryCodes].sort((a, b) => a - b),
        type,
      ).toEqual(numeric('now'));
      expect(rule.throttleCodes.size + rule.retryCodes.size, type).toBeGreaterThan(0);
    }
  });

  it('each adapter answers every code of its table as the table’s retry class says', () => {
    for (const [type, failureCodes] of Object.entries(providerFailureCodes)) {
      const send = refusedSend[type as ChannelType];
      expect(send, `${type}: no line in refusedSend`).toBeDefined();
      if (!send || !failureCodes) continue;
      let answered = 0;
      for (const [code, entry] of Object.entries(failureCodes.tables.codes ?? {})) {
        const outcome = send(code);
        if (outcome === undefined) {
          expect(entry.retry, `${type} ${code} never answers a send`).toBe('final');
          continue;
        }
        answered++;
        expect(outcome, `${type} ${code}`).toMatchObject({
          kind: entry.retry === 'final' ? 'failed' : 'retry',
          providerCode: code,
        });
      }
      expect(answered, type).toBeGreaterThan(0);
    }
  });
});
