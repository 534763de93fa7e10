import { createRouter } from '../../lib/create-app';

// Routes land here with the imports work.
export const importsRouter = createRouter();
