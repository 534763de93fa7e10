import { createRouter } from '../../lib/create-app';
import * as channels from '../../services/channels';
import * as routes from './channels.routes';

export const channelsRouter = createRouter()
  .openapi(routes.listChannels, async (c) => {
    return c.json({ data: await channels.listChannels(c.get('db'), c.get('auth').workspaceId) }, 200);
  })
  .openapi(routes.createChannel, async (c) => {
    const db = c.get('db');
    const auth = c.get('auth');
    const providerUrlAllowlist = c.get('providerUrlAllowlist');
    return c.json(await channels.createChannel(db, auth.workspaceId, c.req.valid('json'), providerUrlAllowlist), 201);
  })
  .openapi(routes.getChannel, async (c) => {
    const row = await channels.getChannelRow(c.get('db'), c.get('auth').workspaceId, c.req.valid('param').id);
    return c.json(await channels.toChannel(c.get('db'), row), 200);
  })
  .openapi(routes.updateChannel, async (c) => {
    const { id } = c.req.valid('param');
    const db = c.get('db');
    const auth = c.get('auth');
    const providerUrlAllowlist = c.get('providerUrlAllowlist');
    const writer = { role: auth.role, providerUrlAllowlist, language: c.get('language') };
    return c.json(await channels.updateChannel(db, auth.workspaceId, id, c.req.valid('json'), writer), 200);
  })
  .openapi(routes.resumeChannel, async (c) => {
    return c.json(await channels.resumeChannel(c.get('db'), c.get('auth').workspaceId, c.req.valid('param').id), 200);
  })
  .openapi(routes.deleteChannel, async (c) => {
    await channels.deleteChannel(c.get('db'), c.get('auth').workspaceId, c.req.valid('param').id);
    return c.json({ ok: true as const }, 200);
  });
