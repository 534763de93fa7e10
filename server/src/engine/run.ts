/** An engine on its own database connection, sending until closed: engine-main.ts (a process) and thread.ts (a thread). */
import { type Database, openDatabase } from '../db/client';
import { BroadcastEngine, type EngineOptions } from './engine';

export interface RunEngineOptions extends Partial<Omit<EngineOptions, 'db'>> {
  databaseUrl: string;
  authToken?: string | undefined;
}

export interface RunningEngine {
  engine: BroadcastEngine;
  /** The engine's own connection, for the little a process does beside sending (settling imports). */
  db: Database;
  /** Finishes the requests in flight, writes their outcomes, closes the connection. */
  close(): Promise<void>;
}

export async function runEngine({ databaseUrl, authToken, ...options }: RunEngineOptions): Promise<RunningEngine> {
  const database = await openDatabase({ url: databaseUrl, authToken });
  const engine = new BroadcastEngine({ ...options, db: database.db });
  engine.start();
  return {
    engine,
    db: database.db,
    async close() {
      await engine.stop();
      database.close();
    },
  };
}
