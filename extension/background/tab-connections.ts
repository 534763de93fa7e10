/**
 * Which server and workspace each tab's panel read its broadcasts from. Broadcast IDs are per server:
 * after the agent connects to another one, a panel left open would re-send, resume or cancel the new
 * server's broadcast of the same number. Kept for the browser session (the service worker restarts).
 */
import { storage } from 'wxt/utils/storage';
import { ReboundError } from '../lib/api';
import { translate } from '../lib/i18n';
import { connectionKey } from '../lib/settings';
import { currentLanguage } from './client';

const tabConnectionsItem = storage.defineItem<Record<string, string>>('session:tabConnections', { fallback: {} });

/** The tab's panel read what it shows from the connection as it is now. */
export async function noteTabRead(tabId: number | undefined): Promise<void> {
  if (tabId === undefined) return;
  const key = await connectionKey();
  const known = await tabConnectionsItem.getValue();
  if (known[String(tabId)] !== key) await tabConnectionsItem.setValue({ ...known, [String(tabId)]: key });
}

/** Refuses an action from a tab whose panel read its broadcast from another connection. */
export async function assertTabConnection(tabId: number | undefined): Promise<void> {
  if (tabId === undefined) return;
  const read = (await tabConnectionsItem.getValue())[String(tabId)];
  if (read !== undefined && read !== (await connectionKey()))
    throw new ReboundError('connection_changed', translate(await currentLanguage(), 'connectionChanged'));
}
