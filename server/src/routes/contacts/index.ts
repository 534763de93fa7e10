import { createRouter } from '../../lib/create-app';
import * as contacts from '../../services/contacts';
import * as routes from './contacts.routes';

export const contactsRouter = createRouter()
  .openapi(routes.listContacts, async (c) => {
    const { workspaceId, defaultCountry } = c.var.auth;
    const search = c.req.valid('query');
    return c.json(
      await c.var.heavy.run(c.var.db, workspaceId, 'contacts.search', { ws: { workspaceId, defaultCountry }, search }),
      200,
    );
  })
  .openapi(routes.createContact, async (c) => {
    return c.json(await contacts.createContact(c.var.db, c.var.auth, c.req.valid('json')), 201);
  })
  .openapi(routes.findDuplicates, async (c) => {
    return c.json(await contacts.findDuplicates(c.var.db, c.var.auth), 200);
  })
  .openapi(routes.mergeContacts, async (c) => {
    const { keep, merge } = c.req.valid('json');
    return c.json(await contacts.mergeContacts(c.var.db, c.var.auth, keep, merge), 200);
  })
  .openapi(routes.getContact, async (c) => {
    return c.json(await contacts.getContactDetail(c.var.db, c.var.auth, c.req.valid('param').ref), 200);
  })
  .openapi(routes.updateContact, async (c) => {
    const { ref } = c.req.valid('param');
    return c.json(await contacts.updateContact(c.var.db, c.var.auth, ref, c.req.valid('json')), 200);
  })
  .openapi(routes.addTags, async (c) => {
    const { ref } = c.req.valid('param');
    return c.json(await contacts.addTags(c.var.db, c.var.auth, ref, c.req.valid('json').tags), 200);
  })
  .openapi(routes.removeTags, async (c) => {
    const { ref } = c.req.valid('param');
    return c.json(await contacts.removeTags(c.var.db, c.var.auth, ref, c.req.valid('json').tags), 200);
  })
  .openapi(routes.removeOptOut, async (c) => {
    const { ref, channelId } = c.req.valid('param');
    const { note } = c.req.valid('json');
    return c.json(await contacts.removeContactOptOut(c.var.db, c.var.auth, ref, channelId, note), 200);
  });
