// @vitest-environment node
/**
 * The background's notifications against a real Rebound server (S1 on the WhatsApp simulator; a paused
 * broadcast), with WXT's
 * fake browser standing in for chrome.notifications and chrome.tabs: what the agent reads, and what
 * each button does.
 */
import type { BroadcastEvent } from '@rebound/shared';
import { type Harness, harness, quotaBroadcast, s1Broadcast } from '@rebound/test-support';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { currentApi } from '../../background/client';
import { handleEvent, lateFailuresIn } from '../../background/event-handling';
import { resendAndTell } from '../../background/handlers';
import { onNotificationButton } from '../../background/notification-actions';
import { clearPaused, notifyFailure, notifyPaused, refreshShownFailure } from '../../background/notifications';
import { settingsItem } from '../../lib/settings';

let h: Harness;
let s1: number;

beforeAll(async () => {
  h = await harness();
  ({ broadcastId: s1 } = await s1Broadcast(h, 'WhatsApp ventas'));
  await h.schedule(s1);
  await h.engine().runUntilIdle();
}, 60_000);

beforeEach(async () => {
  fakeBrowser.reset();
  await settingsItem.setValue({
    backendUrl: h.server.baseUrl,
    token: h.ws.tokens.agent,
    language: 'es',
    sites: [],
    notify: { failed: true, partiallyFailed: true, resendFinished: true },
  });
});

const failedEvent = (): Extract<BroadcastEvent, { type: 'broadcast.partially_failed' }> => ({
  id: 1,
  type: 'broadcast.partially_failed',
  broadcastId: s1,
  data: { name: 'Black Friday', previous: 'sending', sent: 1000, failed: 500, uncertain: 0, excluded: 0 },
  createdAt: new Date().toISOString(),
  message: '',
});

describe('a notification for a broadcast that partly failed', () => {
  it('says how many of how many, and the main reason in plain words, with the two buttons', async () => {
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyFailure(api, 'es', failedEvent());
    // The fake browser keeps each notification's options, as Chromium shows them.
    const shown = (await fakeBrowser.notifications.getAll()) as unknown as Record<
      string,
      chrome.notifications.NotificationOptions
    >;
    expect(Object.keys(shown)).toEqual([`rebound:resend:${s1}`]);
    expect(shown[`rebound:resend:${s1}`]).toMatchObject({
      title: 'Black Friday',
      message: '500 de 1.500 no se enviaron — Se alcanzó el límite diario del canal (500)',
      buttons: [{ title: 'Revisar y reenviar 500' }, { title: 'Ver motivos' }],
    });
  });

  it('reports that fail more of it afterwards (S10): the notification still shown says the counts as they are now; none is raised anew', async () => {
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    // Not on the screen (dismissed, or never shown): the reports raise nothing; the toolbar count says it.
    await refreshShownFailure(api, 'es', s1);
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([]);
    await notifyFailure(api, 'es', failedEvent());
    // Ten of those it sent are reported blocked afterwards.
    const { rows } = await h.server.database.client.execute({
      sql: `SELECT id FROM messages WHERE broadcast_id = ? AND state IN ('sent', 'delivered') LIMIT 10`,
      args: [s1],
    });
    const ids = JSON.stringify(rows.map((r) => Number(r.id)));
    const move = (to: string) =>
      h.server.database.client.execute({
        sql: `UPDATE messages SET state = ?, reason = CASE WHEN ? = 'failed' THEN 'blocked' END, failed_at = ?
          WHERE id IN (SELECT value FROM json_each(?))`,
        args: [to, to, Date.now(), ids],
      });
    await move('failed');
    try {
      await refreshShownFailure(api, 'es', s1);
      const shown = (await fakeBrowser.notifications.getAll()) as unknown as Record<
        string,
        chrome.notifications.NotificationOptions
      >;
      expect(Object.keys(shown)).toEqual([`rebound:resend:${s1}`]);
      expect(shown[`rebound:resend:${s1}`]?.message).toMatch(/^510 de 1\.500 no se enviaron — /);
    } finally {
      await move('sent');
    }
  });

  it('a notice without "Revisar y reenviar" gains it when reports bring failures a re-send can help; a read that fails leaves what is shown', async () => {
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    // Shown when nothing could be re-sent (only "Ver motivos"), under the broadcast's plain ID.
    const stale = {
      type: 'basic' as const,
      iconUrl: 'x.png',
      title: 'Black Friday',
      message: '3 de 1.500 no se enviaron',
    };
    await fakeBrowser.notifications.create(`rebound:broadcast:${s1}`, stale);
    const settings = await settingsItem.getValue();
    await settingsItem.setValue({ ...settings, backendUrl: 'http://127.0.0.1:9' });
    const gone = await currentApi();
    if (!gone) throw new Error('not configured');
    await expect(refreshShownFailure(gone, 'es', s1)).rejects.toThrow();
    expect(await fakeBrowser.notifications.getAll()).toEqual({ [`rebound:broadcast:${s1}`]: stale });
    await refreshShownFailure(api, 'es', s1);
    const shown = (await fakeBrowser.notifications.getAll()) as unknown as Record<
      string,
      chrome.notifications.NotificationOptions
    >;
    expect(Object.keys(shown)).toEqual([`rebound:resend:${s1}`]);
    expect(shown[`rebound:resend:${s1}`]?.buttons).toEqual([
      { title: 'Revisar y reenviar 500' },
      { title: 'Ver motivos' },
    ]);
  });

  it('a batch of events names each broadcast reports failed more of once, unless a broadcast event of the batch told it', () => {
    const now = Date.now();
    const late = (id: number, broadcastId: number, createdAt = new Date(now).toISOString()): BroadcastEvent => ({
      id,
      type: 'messages.failed',
      broadcastId,
      data: { name: 'x', count: 1, byReason: { blocked: 1 }, late: true },
      createdAt,
      message: '',
    });
    const notLate: BroadcastEvent = {
      id: 3,
      type: 'messages.failed',
      broadcastId: 7,
      data: { name: 'x', count: 1, byReason: { blocked: 1 } },
      createdAt: new Date(now).toISOString(),
      message: '',
    };
    const dayAgo = new Date(now - 2 * 24 * 3_600_000).toISOString();
    const told = { ...failedEvent(), id: 6, broadcastId: 9 };
    expect(lateFailuresIn([late(1, 5), late(2, 5), notLate, late(4, 8, dayAgo), told, late(7, 9)], now)).toEqual([5]);
  });

  it('"Revisar y reenviar" opens the review of the re-send and sends nothing by itself', async () => {
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyFailure(api, 'es', failedEvent());
    await onNotificationButton(`rebound:resend:${s1}`, 0);
    const tabs = await fakeBrowser.tabs.query({});
    expect(tabs.map((t) => t.url)).toContainEqual(
      expect.stringMatching(new RegExp(`/popup\\.html\\?broadcast=${s1}#resend$`)),
    );
    const resends = (await h.server.request('GET', `/api/v1/broadcasts?resendOfId=${s1}`, { token: h.ws.tokens.agent }))
      .body.data;
    expect(resends).toHaveLength(0);
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([]);
  });

  it('a failure caught up on days later is left to the toolbar count, not raised on the desktop', async () => {
    const dayAgo = new Date(Date.now() - 2 * 24 * 3_600_000).toISOString();
    await handleEvent({ ...failedEvent(), createdAt: dayAgo });
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([]);
    await handleEvent({ ...failedEvent(), createdAt: new Date().toISOString() });
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([`rebound:resend:${s1}`]);
  });

  it('"Ver motivos" opens the reasons in a tab', async () => {
    await onNotificationButton(`rebound:resend:${s1}`, 1);
    const tabs = await fakeBrowser.tabs.query({});
    expect(tabs.map((t) => t.url)).toContainEqual(
      expect.stringMatching(new RegExp(`/popup\\.html\\?broadcast=${s1}$`)),
    );
  });
  it('a re-send that failed is told once (by its "reenvío terminado"), not also as a failed broadcast', async () => {
    const made = await h.server.request('POST', `/api/v1/broadcasts/${s1}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true },
    });
    expect(made.status).toBe(200);
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    const event = { ...failedEvent(), broadcastId: made.body.broadcastId as number };
    await notifyFailure(api, 'es', event, { resendsToldElsewhere: true });
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([]);
    // With "reenvío terminado" notifications off, the failure is the one that tells.
    await notifyFailure(api, 'es', event, { resendsToldElsewhere: false });
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([
      `rebound:broadcast:${made.body.broadcastId}`,
    ]);
  });

  it('a broadcast someone already re-sent (a colleague, automatic recovery) raises no "revisar y reenviar"', async () => {
    // The test before made a re-send of S1: caught up on now, its failure needs nobody.
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyFailure(api, 'es', failedEvent());
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([]);
  });

  it('a re-send that fails at its start (everyone it was for opted out meanwhile) is told: no "reenvío terminado" will', async () => {
    const made = await h.server.request('POST', `/api/v1/broadcasts/${s1}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true },
    });
    expect(made.status).toBe(200);
    const resendId = made.body.broadcastId as number;
    // Each contact of the broadcast writes BAJA before it starts.
    await h.server.database.client.execute({
      sql: `INSERT OR IGNORE INTO opt_outs (channel_id, identifier, at, source, detail)
        SELECT channel_id, identifier, ?, 'inbound_word', 'BAJA' FROM messages WHERE broadcast_id = ?`,
      args: [Date.now(), s1],
    });
    await h.engine().runUntilIdle();
    const failed = (await h.server.request('GET', `/api/v1/broadcasts/${resendId}`, { token: h.ws.tokens.agent })).body;
    expect(failed.status, JSON.stringify(failed.error)).toBe('failed');
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyFailure(
      api,
      'es',
      { ...failedEvent(), type: 'broadcast.failed', broadcastId: resendId },
      { resendsToldElsewhere: true },
    );
    const shown = (await fakeBrowser.notifications.getAll()) as unknown as Record<
      string,
      chrome.notifications.NotificationOptions
    >;
    expect(Object.keys(shown)).toEqual([`rebound:broadcast:${resendId}`]);
    // Who it was for, none of them sent, and why: they opted out.
    expect(shown[`rebound:broadcast:${resendId}`]?.message).toMatch(/^(\S+) de \1 no se enviaron — /);
    expect(failed.error.code).toBe('broadcast_no_reachable_recipients');
  }, 60_000);

  it('a re-send that ran and failed for everyone (the quota still spent) is told once, by its "reenvío terminado"', async () => {
    // Its own broadcast: 4 contacts on a channel allowed 2 a day; the re-send of the other 2 goes at once.
    const { broadcastId: original } = await quotaBroadcast(h, {
      channelName: 'WhatsApp cupo',
      dailyQuota: 2,
      count: 4,
      tag: 'cupo agotado',
      segment: 'Cupo agotado',
      name: 'Aviso cupo',
      start: 30_000,
    });
    await h.schedule(original);
    await h.engine().runUntilIdle();
    const made = await h.server.request('POST', `/api/v1/broadcasts/${original}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true },
    });
    expect(made.status).toBe(200);
    const resendId = made.body.broadcastId as number;
    await h.engine().runUntilIdle();
    const ran = (await h.server.request('GET', `/api/v1/broadcasts/${resendId}`, { token: h.ws.tokens.agent })).body;
    expect(ran).toMatchObject({ status: 'failed', error: { code: 'broadcast_all_failed' } });
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyFailure(
      api,
      'es',
      { ...failedEvent(), type: 'broadcast.failed', broadcastId: resendId },
      { resendsToldElsewhere: true },
    );
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([]);
  }, 60_000);
});

describe('a re-send made in the panel while the failure notification is up', () => {
  it('takes the notification down: its "Revisar y reenviar" would go on offering recipients already re-sent', async () => {
    const { broadcastId } = await quotaBroadcast(h, {
      channelName: 'WhatsApp panel',
      dailyQuota: 10,
      count: 15,
      tag: 'panel',
      segment: 'Panel',
      name: 'Panel',
      start: 5000,
    });
    await h.schedule(broadcastId);
    await h.engine().runUntilIdle();
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyFailure(api, 'es', { ...failedEvent(), broadcastId });
    const shown = async () => Object.keys(await fakeBrowser.notifications.getAll());
    expect(await shown()).toEqual([`rebound:resend:${broadcastId}`]);
    // The preview sends nothing: the notification stays.
    const preview = await resendAndTell(api, broadcastId, { dryRun: true });
    expect(preview.recipients).toBe(5);
    expect(await shown()).toEqual([`rebound:resend:${broadcastId}`]);
    const answer = await resendAndTell(api, broadcastId, {});
    expect(answer.recipients).toBe(5);
    await expect.poll(shown).toEqual([]);
  });
});

describe('S2: contacts entered the segment after scheduling', () => {
  it('the notification counts the 105 the broadcast went to, not the 100 it was scheduled for', async () => {
    // A segment of 100 on a channel allowed 100 a day, scheduled two days ahead; 5 contacts enter it
    // before it sends, so it goes to 105 and the daily limit stops 5.
    const { broadcastId } = await quotaBroadcast(h, {
      channelName: 'WhatsApp S2',
      dailyQuota: 100,
      count: 100,
      tag: 's2 dinamico',
      segment: 'S2 dinámico',
      name: 'Aviso S2',
      start: 20_000,
    });
    const at = Date.now() + 2 * 86_400_000;
    await h.schedule(broadcastId, new Date(at).toISOString());
    await h.seedContacts(5, 's2 dinamico', { start: 20_100 });
    await h.engine({ clock: () => at + 60_000 }).runUntilIdle();
    const done = await h.get(broadcastId, 'es');
    expect(done).toMatchObject({ targetCount: 100, completedCount: 105 });
    expect(done.reconciliation).toMatchObject({ target: 100, entered: 5, completed: 105 });

    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyFailure(api, 'es', {
      id: 2,
      type: 'broadcast.partially_failed',
      broadcastId,
      data: { name: 'Aviso S2', previous: 'sending', sent: 0, failed: 0, uncertain: 0, excluded: 0 },
      createdAt: new Date().toISOString(),
      message: '',
    });
    const shown = (await fakeBrowser.notifications.getAll()) as unknown as Record<
      string,
      chrome.notifications.NotificationOptions
    >;
    expect(shown[`rebound:resend:${broadcastId}`]?.message).toMatch(/^5 de 105 no se enviaron — /);
  });
});

describe('a notification for a paused broadcast', () => {
  type Shown = Record<string, chrome.notifications.NotificationOptions>;
  const pause = { kind: 'quality' as const, at: Date.now(), scope: 'broadcast' as const, outcomes: 200, harmful: 20 };
  let paused: number;

  beforeAll(async () => {
    // Paused as the guard leaves it (status and pause, the pause without its sentence, which the API writes).
    ({ broadcastId: paused } = await quotaBroadcast(h, {
      channelName: 'WhatsApp pausa',
      dailyQuota: 100,
      count: 3,
      tag: 'pausa',
      segment: 'Pausa',
      name: 'Promo pausa',
      start: 30_000,
    }));
    await h.server.database.client.execute({
      sql: "UPDATE broadcasts SET status = 'paused', pause = ? WHERE id = ?",
      args: [JSON.stringify(pause), paused],
    });
  });

  const pausedEvent = (message: string): Extract<BroadcastEvent, { type: 'broadcast.paused' }> => ({
    id: 3,
    type: 'broadcast.paused',
    broadcastId: paused,
    data: { name: 'Promo pausa', previous: 'sending', pause },
    createdAt: new Date().toISOString(),
    message,
  });

  it("says why in the server's sentence, with a button that opens the broadcast (nothing is resumed from it)", async () => {
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    const sentence =
      'Pausamos «Promo pausa»: el 10 % de los contactos bloqueó o reportó el número en los últimos 200 envíos';
    await notifyPaused(api, 'es', pausedEvent(sentence));
    const shown = (await fakeBrowser.notifications.getAll()) as unknown as Shown;
    expect(shown[`rebound:broadcast:${paused}`]).toMatchObject({
      title: 'Promo pausa: en pausa',
      message: sentence,
      buttons: [{ title: 'Ver la transmisión' }],
      requireInteraction: true,
    });
    await onNotificationButton(`rebound:broadcast:${paused}`, 0);
    const tabs = await fakeBrowser.tabs.query({});
    expect(tabs.map((t) => t.url)).toContainEqual(
      expect.stringMatching(new RegExp(`/popup\\.html\\?broadcast=${paused}$`)),
    );
    expect((await h.get(paused)).status).toBe('paused');
  });

  it("an event without its sentence takes the broadcast's own, in the agent's language", async () => {
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyPaused(api, 'es', pausedEvent(''));
    const shown = (await fakeBrowser.notifications.getAll()) as unknown as Shown;
    expect(shown[`rebound:broadcast:${paused}`]?.message).toBe(
      'Pausamos «Promo pausa»: el 10 % de los contactos bloqueó o reportó el número en los últimos 200 envíos',
    );
  });

  it('a late report on it leaves its pause notice as it is (not a failure notice to redo)', async () => {
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyPaused(api, 'es', pausedEvent('Pausamos «Promo pausa»'));
    const before = await fakeBrowser.notifications.getAll();
    await refreshShownFailure(api, 'es', paused);
    expect(await fakeBrowser.notifications.getAll()).toEqual(before);
  });

  it('goes away once someone resumes or cancels the broadcast', async () => {
    const api = await currentApi();
    if (!api) throw new Error('not configured');
    await notifyPaused(api, 'en', pausedEvent('We paused “Promo pausa”'));
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([`rebound:broadcast:${paused}`]);
    await clearPaused({
      id: 4,
      type: 'broadcast.resumed',
      broadcastId: paused,
      data: { name: 'Promo pausa', by: { tokenId: 2, tokenName: 'Gerente', role: 'manager' } },
      createdAt: new Date().toISOString(),
      message: '',
    });
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual([]);
  });
});
