import { createRouter } from '../../lib/create-app';

// Routes land here with the exports work.
export const exportsRouter = createRouter();
