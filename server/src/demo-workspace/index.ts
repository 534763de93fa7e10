/** The demo the main job runs: a workspace with S1-S10, provider simulators, and what to print. */
import type { App } from '../app';
import type { Database } from '../db/client';
import { type DemoSeedResult, seedDemo } from './scenarios';
import { type DemoSimulators, startDemoSimulators } from './simulators';
import { type DemoCredentials, ensureDemoWorkspace } from './workspace';

export type { DemoCredentials } from './workspace';

export interface RunningDemo extends DemoSeedResult {
  credentials: DemoCredentials;
  simulators: DemoSimulators;
}

export async function startDemo(options: {
  db: Database;
  app: App;
  publicUrl: string;
  credentialsFile: string;
}): Promise<RunningDemo> {
  const credentials = await ensureDemoWorkspace(options.db, options.credentialsFile);
  const simulators = await startDemoSimulators();
  try {
    const seed = await seedDemo({
      app: options.app,
      managerToken: credentials.tokens.manager,
      ownerToken: credentials.tokens.owner,
      publicUrl: options.publicUrl,
      sims: simulators,
    });
    return { ...seed, credentials, simulators };
  } catch (error) {
    await simulators.stop();
    throw error;
  }
}

/** Waits until the broadcasts the seeding started have run (the engine sends them in the background). */
export async function waitForDemoBroadcasts(app: App, token: string, ids: number[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(ids);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const res = await app.request(`/api/v1/broadcasts/${id}`, { headers: { Authorization: `Bearer ${token}` } });
      const { status } = (await res.json()) as { status: string };
      if (!['scheduled', 'sending'].includes(status)) pending.delete(id);
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
