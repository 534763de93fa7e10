import { createRouter } from '../../lib/create-app';
import * as channels from '../../services/channels';
import * as routes from './channels.routes';

export const channelsRouter = createRouter()
  .openapi(routes.listChannels, async (c) => {
    return c.json({ data: await channels.listChannels(c.var.db, c.var.auth.workspaceId) }, 200);
  })
  .openapi(routes.createChannel, async (c) => {
    const { db, auth, providerUrlAllowlist } = c.var;
    return c.json(await channels.createChannel(db, auth.workspaceId, c.req.valid('json'), providerUrlAllowlist), 201);
  })
  .openapi(routes.getChannel, async (c) => {
    const row = await channels.getChannelRow(c.var.db, c.var.auth.workspaceId, c.req.valid('param').id);
    return c.json(await channels.toChannel(c.var.db, row), 200);
  })
  .openapi(routes.updateChannel, async (c) => {
    const { id } = c.req.valid('param');
    const { db, auth, providerUrlAllowlist } = c.var;
    const writer = { role: auth.role, providerUrlAllowlist, language: c.var.language };
    return c.json(await channels.updateChannel(db, auth.workspaceId, id, c.req.valid('json'), writer), 200);
  })
  .openapi(routes.deleteChannel, async (c) => {
    await channels.deleteChannel(c.var.db, c.var.auth.workspaceId, c.req.valid('param').id);
    return c.json({ ok: true as const }, 200);
  });
