import { createRouter } from '../../lib/create-app';
import * as contacts from '../../services/contacts';
import * as routes from './contacts.routes';

export const contactsRouter = createRouter()
  .openapi(routes.listContacts, async (c) => {
    const { workspaceId, defaultCountry } = c.get('auth');
    const search = c.req.valid('query');
    return c.json(
      await c
        .get('heavy')
        .run(c.get('db'), workspaceId, 'contacts.search', { ws: { workspaceId, defaultCountry }, search }),
      200,
    );
  })
  .openapi(routes.createContact, async (c) => {
    return c.json(await contacts.createContact(c.get('db'), c.get('auth'), c.req.valid('json')), 201);
  })
  .openapi(routes.findDuplicates, async (c) => {
    const { workspaceId, defaultCountry } = c.get('auth');
    const args = { ws: { workspaceId, defaultCountry } };
    return c.json(await c.get('heavy').run(c.get('db'), workspaceId, 'contacts.duplicates', args), 200);
  })
  .openapi(routes.mergeContacts, async (c) => {
    const { keep, merge } = c.req.valid('json');
    return c.json(await contacts.mergeContacts(c.get('db'), c.get('auth'), keep, merge), 200);
  })
  .openapi(routes.getContact, async (c) => {
    return c.json(await contacts.getContactDetail(c.get('db'), c.get('auth'), c.req.valid('param').ref), 200);
  })
  .openapi(routes.updateContact, async (c) => {
    const { ref } = c.req.valid('param');
    return c.json(await contacts.updateContact(c.get('db'), c.get('auth'), ref, c.req.valid('json')), 200);
  })
  .openapi(routes.addTags, async (c) => {
    const { ref } = c.req.valid('param');
    return c.json(await contacts.addTags(c.get('db'), c.get('auth'), ref, c.req.valid('json').tags), 200);
  })
  .openapi(routes.removeTags, async (c) => {
    const { ref } = c.req.valid('param');
    return c.json(await contacts.removeTags(c.get('db'), c.get('auth'), ref, c.req.valid('json').tags), 200);
  })
  .openapi(routes.removeOptOut, async (c) => {
    const { ref, channelId } = c.req.valid('param');
    const { note } = c.req.valid('json');
    return c.json(await contacts.removeContactOptOut(c.get('db'), c.get('auth'), ref, channelId, note), 200);
  });
