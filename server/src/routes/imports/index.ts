import { rm } from 'node:fs/promises';
import type { Context } from 'hono';
import { claimImportTurn, getImport, type ImportRecord, importOptionsOf, prepareContactImport } from '../../csv/import';
import { importView, rejectedRowsCsv } from '../../csv/import-report';
import { importThreadFor } from '../../csv/import-thread';
import { receiveImportUpload } from '../../csv/import-upload';
import { createRouter } from '../../lib/create-app';
import type { AppEnv } from '../../lib/env';
import { ApiError } from '../../lib/errors';
import { logError } from '../../lib/log';
import {
  holdImport,
  MAX_QUEUED_IMPORTS,
  queuedImports,
  queueFull,
  queuePosition,
  settleInterruptedImports,
  waitForTurn,
} from '../../services/import-jobs';
import * as routes from './imports.routes';

/** The import as the API shows it; a queued one with its place in the queue. */
async function view(c: Context<AppEnv>, record: ImportRecord) {
  const position = record.status === 'queued' ? await queuePosition(c.get('db'), record.workspaceId, record.id) : null;
  return importView(record, c.get('language'), position);
}

/** A queue-full refusal says when to ask again in its Retry-After header too; any other error passes as it is. */
function withRetryAfter(c: Context<AppEnv>, error: unknown): unknown {
  if (error instanceof ApiError && error.code === 'too_many_queued_imports')
    c.header('Retry-After', String(error.params.seconds));
  return error;
}

export const importsRouter = createRouter();

// The upload is streamed to disk (import-upload.ts), so the route reads its own body instead of the
// generated form validator, which would hold the whole file in memory; the OpenAPI document still shows it.
importsRouter.openAPIRegistry.registerPath(routes.importContacts);
importsRouter.post('/imports/contacts', ...routes.importContacts.middleware, async (c) => {
  const db = c.get('db');
  const auth = c.get('auth');
  const language = c.get('language');
  const heavy = c.get('heavy');
  // Refused before a byte of the upload is written: the queue is full (of live imports: those of a
  // process that died are settled first, or they would hold the queue for good).
  await settleInterruptedImports(db, auth.workspaceId);
  const queued = await queuedImports(db, auth.workspaceId);
  if (queued >= MAX_QUEUED_IMPORTS) throw withRetryAfter(c, queueFull(queued));
  const { form, path, dir } = await receiveImportUpload(c.req.raw, language);
  const cleanup = () => rm(dir, { recursive: true, force: true });
  let prepared: Awaited<ReturnType<typeof prepareContactImport>>;
  try {
    // The upload arrives on this thread; reading and writing it run on the import thread whenever heavy
    // work has threads (any database but :memory:; csv/import-thread.ts).
    prepared = await prepareContactImport(
      db,
      auth,
      {
        fileName: form.file.name?.slice(0, 255) || null,
        path,
        options: importOptionsOf(form),
        language,
        queueCap: MAX_QUEUED_IMPORTS,
      },
      importThreadFor(heavy.threadDatabase),
    );
  } catch (error) {
    await cleanup();
    // Full since the check above: uploads that passed it together met at the queue (prepareContactImport).
    throw withRetryAfter(c, error);
  }
  const { id } = prepared.record;
  const turn = await claimImportTurn(db, auth, id).catch(() => undefined);
  if (turn) {
    // Its turn at once: the answer is the finished import, as before queues existed.
    try {
      return c.json(importView(await prepared.execute(), language), 201);
    } finally {
      turn();
      await cleanup();
    }
  }
  // Another import of the workspace runs (or this process runs as many as it may): this one waits its
  // turn in order, after the answer; the client follows it with GET /imports/{id} (queued with its
  // position, then running, then done).
  const hold = holdImport(db, id);
  void waitForTurn(db, auth.workspaceId, id)
    .then(async (release) => {
      hold.release();
      try {
        await prepared.execute();
      } finally {
        release();
      }
    })
    .catch((error) => logError(`[rebound] queued import ${id} did not run`, error))
    .finally(() => {
      hold.release();
      void prepared.discard();
      void cleanup();
    });
  return c.json(await view(c, prepared.record), 202);
});

importsRouter
  .openapi(routes.getImport, async (c) => {
    const db = c.get('db');
    const auth = c.get('auth');
    const id = c.req.valid('param').id;
    let record = await getImport(db, auth, id);
    if (record.status === 'queued' || record.status === 'running') {
      // An import whose process died reads as what it is: interrupted, nothing imported.
      if (await settleInterruptedImports(db, auth.workspaceId)) record = await getImport(db, auth, id);
    }
    return c.json(await view(c, record), 200);
  })
  .openapi(routes.getRejectedCsv, async (c) => {
    const record = await getImport(c.get('db'), c.get('auth'), c.req.valid('param').id);
    const csv = rejectedRowsCsv(record, c.get('language'), c.req.valid('query').bom);
    return c.body(csv, 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="import-${record.id}-rejected.csv"`,
    });
  });
