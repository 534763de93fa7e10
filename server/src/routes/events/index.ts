import { createRouter } from '../../lib/create-app';

// Routes land here with the events work.
export const eventsRouter = createRouter();
