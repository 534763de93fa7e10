import { defineConfig } from 'drizzle-kit';

// Only used to generate migrations from src/db/schema.ts; the server applies them at start-up.
export default defineConfig({
  dialect: 'turso',
  schema: './src/db/schema.ts',
  out: './drizzle',
  dbCredentials: { url: 'file:../data/drizzle-kit.db' },
});
