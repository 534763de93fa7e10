import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { assertTabConnection, noteTabRead } from '../../background/tab-connections';
import { connectionItem, settingsItem } from '../../lib/settings';

const connectTo = async (backendUrl: string, workspaceId: number) => {
  await settingsItem.setValue({ ...(await settingsItem.getValue()), backendUrl, token: 'rb_x', language: 'es' });
  await connectionItem.setValue({
    workspace: { id: workspaceId, name: `W${workspaceId}`, language: 'es' },
    role: 'agent',
    checkedAt: new Date().toISOString(),
  });
};

describe("a panel's actions after the agent connected elsewhere", () => {
  beforeEach(() => fakeBrowser.reset());

  it("are refused: the panel's broadcast 3 was the demo's, not production's", async () => {
    await connectTo('http://127.0.0.1:8787', 1);
    await noteTabRead(7);
    await expect(assertTabConnection(7)).resolves.toBeUndefined();
    await connectTo('https://rebound.acme.com', 1);
    await expect(assertTabConnection(7)).rejects.toMatchObject({
      code: 'connection_changed',
      message: expect.stringMatching(/^Rebound se conectó a otro servidor o espacio de trabajo/),
    });
    // Read again from the new one, it acts again; another workspace on the same server is another too.
    await noteTabRead(7);
    await expect(assertTabConnection(7)).resolves.toBeUndefined();
    await connectTo('https://rebound.acme.com', 2);
    await expect(assertTabConnection(7)).rejects.toMatchObject({ code: 'connection_changed' });
  });
});
