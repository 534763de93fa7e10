import { permissions, roleAllows } from '@rebound/shared';
import { optionalJsonBody } from '../../lib/body';
import { createRouter } from '../../lib/create-app';
import { ApiError } from '../../lib/errors';
import { takeHeavySlot } from '../../lib/heavy';
import { resumeBroadcast } from '../../services/broadcast-pause';
import * as broadcasts from '../../services/broadcasts';
import * as routes from './broadcasts.routes';

export const broadcastsRouter = createRouter()
  .openapi(routes.listBroadcasts, async (c) => {
    return c.json(
      await broadcasts.listBroadcasts(c.get('db'), c.get('auth').workspaceId, c.req.valid('query'), c.get('language')),
      200,
    );
  })
  // Before /broadcasts/{id}, which would take "attention" for an id and refuse it.
  .openapi(routes.attention, async (c) => {
    const { limit } = c.req.valid('query');
    return c.json(await broadcasts.broadcastsNeedingAttention(c.get('db'), c.get('auth').workspaceId, limit), 200);
  })
  .openapi(routes.createBroadcast, async (c) => {
    const row = await broadcasts.createBroadcast(c.get('db'), c.get('auth').workspaceId, c.req.valid('json'));
    return c.json(await broadcasts.toBroadcast(c.get('db'), row, c.get('language')), 201);
  })
  .openapi(routes.getBroadcast, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await broadcasts.getBroadcast(c.get('db'), c.get('auth').workspaceId, id, c.get('language')), 200);
  })
  .openapi(routes.updateBroadcast, async (c) => {
    const patch = c.req.valid('json');
    const id = c.req.valid('param').id;
    // A new segment on a scheduled broadcast writes its whole audience down again, as scheduling does:
    // off the API's thread. Other changes are a row.
    if (patch.segmentId !== undefined) {
      const { workspaceId, defaultCountry } = c.get('auth');
      const args = { ws: { workspaceId, defaultCountry }, id, patch, language: c.get('language') };
      return c.json(await c.get('heavy').run(c.get('db'), workspaceId, 'broadcasts.update', args), 200);
    }
    const row = await broadcasts.updateBroadcast(c.get('db'), c.get('auth'), id, patch);
    return c.json(await broadcasts.toBroadcast(c.get('db'), row, c.get('language')), 200);
  })
  .openapi(routes.scheduleBroadcast, async (c) => {
    // An empty body means "now".
    const body = await optionalJsonBody(c, routes.scheduleBroadcast.request.body.content['application/json'].schema);
    const { workspaceId, defaultCountry } = c.get('auth');
    const args = {
      ws: { workspaceId, defaultCountry },
      id: c.req.valid('param').id,
      ...(body.at && { at: body.at }),
      language: c.get('language'),
    };
    // Off the API's thread (a later send writes its whole audience down); never refused for the heavy limit.
    return c.json(await c.get('heavy').run(c.get('db'), workspaceId, 'broadcasts.schedule', args), 200);
  })
  .openapi(routes.cancelBroadcast, async (c) => {
    // Off the API's thread (a big broadcast's queued messages are all cancelled); never refused for the heavy limit.
    const { workspaceId } = c.get('auth');
    const args = { workspaceId, id: c.req.valid('param').id, language: c.get('language') };
    return c.json(await c.get('heavy').run(c.get('db'), workspaceId, 'broadcasts.cancel', args), 200);
  })
  .openapi(routes.resumeBroadcast, async (c) => {
    const row = await resumeBroadcast(c.get('db'), c.get('auth'), c.req.valid('param').id);
    return c.json(await broadcasts.toBroadcast(c.get('db'), row, c.get('language')), 200);
  })
  .openapi(routes.resend, async (c) => {
    const body = await optionalJsonBody(c, routes.resend.request.body.content['application/json'].schema);
    // Other words than the broadcast's are a new message to everyone it failed for: a manager's, as
    // writing a broadcast is. Agents re-send what was written, on its channel or another.
    const { role, workspaceId, defaultCountry } = c.get('auth');
    if (body.content !== undefined && !roleAllows(role, 'broadcasts:write'))
      throw new ApiError(403, 'forbidden', { role, required: permissions['broadcasts:write'] });
    const ws = { workspaceId, defaultCountry, language: c.get('language'), role };
    const id = c.req.valid('param').id;
    // Both run off the API's thread. A preview is a heavy read: identical ones asked together (a panel in
    // several tabs) share one read. The click itself takes no slot: an agent's re-send is never refused for it.
    if (body.dryRun) {
      const release = takeHeavySlot(c);
      try {
        return c.json(
          await c.get('heavy').run(c.get('db'), workspaceId, 'broadcasts.resendPreview', { ws, id, body }, true),
          200,
        );
      } finally {
        release();
      }
    }
    return c.json(await c.get('heavy').run(c.get('db'), workspaceId, 'broadcasts.resend', { ws, id, body }), 200);
  })
  .openapi(routes.cancelResend, async (c) => {
    const { workspaceId } = c.get('auth');
    const { resendIds } = await optionalJsonBody(
      c,
      routes.cancelResend.request.body.content['application/json'].schema,
    );
    const args = { workspaceId, id: c.req.valid('param').id, ...(resendIds && { resendIds }) };
    return c.json(await c.get('heavy').run(c.get('db'), workspaceId, 'broadcasts.cancelResend', args), 200);
  })
  .openapi(routes.preflight, async (c) => {
    const { workspaceId, defaultCountry } = c.get('auth');
    const args = { ws: { workspaceId, defaultCountry }, id: c.req.valid('param').id, language: c.get('language') };
    return c.json(await c.get('heavy').run(c.get('db'), workspaceId, 'broadcasts.preflight', args), 200);
  });
