/**
 * Delivery callbacks from the providers, one path per provider and channel. Each is checked against
 * the channel's own secret before anything is read: a forged or unsigned callback gets 401 and
 * changes nothing.
 */

import { type Context, Hono } from 'hono';
import { businessAccountOf, webhookHandlers } from '../../channels';
import type { ChannelConfig } from '../../channels/types';
import { applyWebhook } from '../../engine/delivery';
import { clientAddress, refuseWhileHeldBack } from '../../lib/auth';
import { AuthLimiter } from '../../lib/auth-limiter';
import type { AppEnv } from '../../lib/env';
import { ApiError, notFound } from '../../lib/errors';
import { sameAppChannels, webhookChannel } from '../../services/channels';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export function createWebhooksRouter(
  options: { publicUrl?: string | undefined; handshakes?: AuthLimiter; trustProxy?: boolean } = {},
) {
  const router = new Hono<AppEnv>();
  // Meta's verification handshake checks the verify token a manager typed (often short): an address that
  // keeps sending wrong ones waits, and gets no answer meanwhile, not even to the right one, or the limit
  // would not slow a guesser at all. Meta itself sends one when a webhook is set up. Signed callbacks are
  // not limited: a channel with a stale secret fails from the provider's own addresses, which carry every
  // other channel's reports too.
  const handshakes = options.handshakes ?? new AuthLimiter();

  /** The URL the provider signed: the public one when Rebound sits behind a proxy. */
  const signedUrl = (url: string) => {
    if (!options.publicUrl) return url;
    const parsed = new URL(url);
    return `${options.publicUrl}${parsed.pathname}${parsed.search}`;
  };

  router.get('/:provider/:channelId', async (c) => {
    const url = new URL(c.req.url);
    const address = url.searchParams.has('hub.verify_token') ? clientAddress(c, options.trustProxy ?? false) : null;
    if (address !== null) refuseWhileHeldBack(c, handshakes, address);
    // A wrong token and a channel that is not there count alike: neither may be told apart by guessing.
    const failed = () => address !== null && handshakes.recordFailure(address);
    const channel = await webhookChannel(c.get('db'), c.req.param('provider'), c.req.param('channelId')).catch(
      (error: unknown) => {
        failed();
        throw error;
      },
    );
    const handler = webhookHandlers[c.req.param('provider')];
    const answer = handler?.handshake?.(url, channel);
    if (answer != null) return c.text(answer, 200);
    failed();
    // Providers that report by GET (MessageBird status reports) are verified like a POST.
    if (!handler) throw notFound('channel');
    const { changed } = await receive(c, channel, handler);
    return c.json({ ok: true, changed }, 200);
  });

  router.post('/:provider/:channelId', async (c) => {
    const channel = await webhookChannel(c.get('db'), c.req.param('provider'), c.req.param('channelId'));
    const handler = webhookHandlers[c.req.param('provider')];
    if (!handler) throw notFound('channel');
    const { changed } = await receive(c, channel, handler);
    return c.json({ ok: true, changed }, 200);
  });

  /**
   * The Twilio number's "A message comes in" webhook: incoming SMS (replies, STOP, BAJA), signed like
   * the status callbacks. Twilio expects TwiML back; an empty <Response/> sends no reply.
   */
  router.post('/twilio/:channelId/inbound', async (c) => {
    const channel = await webhookChannel(c.get('db'), 'twilio', c.req.param('channelId'));
    const handler = webhookHandlers.twilio;
    if (!handler) throw notFound('channel');
    await receive(c, channel, handler);
    return c.body(EMPTY_TWIML, 200, { 'content-type': 'text/xml; charset=utf-8' });
  });

  /** Verifies the signature on the raw body before reading anything, then applies what the callback says. */
  async function receive(
    c: Context<AppEnv>,
    channel: ChannelConfig,
    handler: NonNullable<(typeof webhookHandlers)[string]>,
  ) {
    const request = {
      method: c.req.method,
      url: signedUrl(c.req.url),
      headers: c.req.raw.headers,
      rawBody: await c.req.text(),
    };
    if (!handler.verify(request, channel)) throw new ApiError(401, 'webhook_signature');
    const db = c.get('db');
    const result = await applyWebhook(db, channel, handler.parse(request, channel));
    // One Meta app has one callback URL for all its numbers (or Pages): the workspace's other channels of
    // the app take their own events from it (each parser keeps its own number's), as if posted to them.
    // A template belongs to a business account, which two numbers of one app need not share: another
    // channel takes a template's status only once it knows its account (the parser keeps that account's).
    for (const sibling of await sameAppChannels(db, channel)) {
      const { templateStatus, ...own } = handler.parse(request, sibling);
      const knowsAccount = sibling.type === 'whatsapp' && businessAccountOf(sibling) !== undefined;
      result.changed += (
        await applyWebhook(db, sibling, { ...own, ...(knowsAccount && templateStatus && { templateStatus }) })
      ).changed;
    }
    return result;
  }

  return router;
}
