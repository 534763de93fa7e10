/** The background's answers to the popup, the options page and the overlay. */
import type { ResendBody, ResendResult } from '@rebound/shared';
import type { Language } from '@rebound/shared/i18n';
import { browser } from 'wxt/browser';
import { type Api, createApi, normalizeBackendUrl, plainHttpElsewhere, ReboundError } from '../lib/api';
import '../lib/all-words';
import { translate } from '../lib/i18n';
import { learnedAdapters } from '../lib/learned-sites';
import { type ContactFailures, onMessage, type Reply } from '../lib/messaging';
import { buildReport, lite } from '../lib/report';
import { attentionItem, connectionItem, eventCursorItem, isConfigured, settingsItem } from '../lib/settings';
import { siteAdapters } from '../lib/site-adapters';
import { words } from '../lib/words';
import { attentionState, forgetConnection, markReviewed, refreshAttention } from './attention';
import { badgesFor, bundledCatalog, findBadges } from './badges';
import { currentApi, currentLanguage, failureCatalog } from './client';
import { csvInParts, takeCsvPart } from './csv-parts';
import { cursorAtNow } from './events';
import { learnedFor, registerTeachingHandlers } from './learned';
import { backgroundText } from './messages';
import { refreshShownFailure } from './notifications';
import { syncOverlayRegistration } from './overlay-registration';
import { fromOwnPage, resendBodyFrom, type Sender } from './senders';
import { assertTabConnection, noteTabRead } from './tab-connections';

export interface HandlerHooks {
  /** Settings changed: follow the stream again with the new server or token. */
  restartFollower(): void;
  /** Runs a switch of server between two batches of events (`EventSink.between`). */
  between<T>(change: () => Promise<T>): Promise<T>;
}

/**
 * A re-send (or its preview) asked for from the panel or the popup, and what it changes here: the
 * toolbar count, and a failure notification still up, whose "Revisar y reenviar 500" (kept until
 * clicked) would go on offering what is re-sent: told again as it is now, which takes it down unless
 * failures came since (refreshShownFailure). Neither is waited for.
 */
export async function resendAndTell(api: Api, broadcastId: number, body: ResendBody): Promise<ResendResult> {
  const result = await api.resend(broadcastId, body);
  void refreshAttention(api).catch(() => undefined);
  if (!body.dryRun && result.broadcastId !== null) void tellShownFailure(api, broadcastId).catch(() => undefined);
  return result;
}

/** A failure notification still up, told again as it is now (with the agent's settings and language). */
async function tellShownFailure(api: Api, broadcastId: number): Promise<void> {
  const { notify } = await settingsItem.getValue();
  await refreshShownFailure(api, await currentLanguage(), broadcastId, { resendsToldElsewhere: notify.resendFinished });
}

export function registerHandlers(hooks: HandlerHooks): void {
  const ownPages = browser.runtime.getURL('/');
  /** The extension's setup changes only from its own pages, never from a content script's web page. */
  const ownPageOnly = (sender: Sender) => {
    if (!fromOwnPage(sender, ownPages)) throw new ReboundError('not_allowed', 'not from a web page');
  };
  /** The tab of a helpdesk page's panel that asks (none for the extension's own pages). */
  const panelTab = (sender: Sender & { tab?: { id?: number } }) =>
    fromOwnPage(sender, ownPages) ? undefined : sender.tab?.id;

  onMessage('connect', ({ data, sender }) =>
    reply(async () => {
      ownPageOnly(sender);
      let backendUrl: string;
      try {
        backendUrl = normalizeBackendUrl(data.backendUrl);
      } catch {
        throw new ReboundError('bad_url', translate(await currentLanguage(), 'networkError', { url: data.backendUrl }));
      }
      if (plainHttpElsewhere(backendUrl)) throw new ReboundError('insecure_url', backendUrl);
      const api = createApi({ backendUrl, token: data.token.trim(), language: await currentLanguage() });
      const me = await api.me();
      // Read after the network call: options changed meanwhile are kept.
      const settings = await settingsItem.getValue();
      const connection = {
        workspace: { id: me.workspace.id, name: me.workspace.name, language: me.workspace.language },
        role: me.role,
        checkedAt: new Date().toISOString(),
      };
      const sameWorkspace =
        settings.backendUrl === backendUrl && (await connectionItem.getValue())?.workspace.id === me.workspace.id;
      // Another server or workspace: where its events stand is read first, so that a failure here leaves
      // the old connection whole (a retry would otherwise find the same workspace and keep the old cursor).
      const cursor = sameWorkspace ? undefined : await cursorAtNow(api);
      await hooks.between(async () => {
        await settingsItem.setValue({ ...settings, backendUrl, token: data.token.trim() });
        await connectionItem.setValue(connection);
        if (cursor !== undefined) {
          await eventCursorItem.setValue(cursor);
          await forgetConnection();
        }
      });
      await refreshAttention(api);
      hooks.restartFollower();
      return connection;
    }),
  );

  onMessage('settingsChanged', ({ sender }) =>
    reply(async () => {
      ownPageOnly(sender);
      await syncOverlayRegistration();
      hooks.restartFollower();
      const api = await currentApi();
      if (api) await refreshAttention(api);
      return null;
    }),
  );

  onMessage('context', ({ sender }) =>
    reply(async () => {
      const language = await currentLanguage();
      // The overlay's words come with its context: the content script bundles none.
      return {
        language,
        configured: isConfigured(await settingsItem.getValue()),
        words: words[language],
        adapters: [...siteAdapters, ...learnedAdapters(await learnedFor(sender.tab?.url))],
      };
    }),
  );

  registerTeachingHandlers(reply);

  onMessage('recentBroadcasts', ({ sender }) =>
    withApi(sender, async (api) => (await api.broadcasts({ limit: 20 })).data.map(lite)),
  );

  onMessage('findBroadcasts', ({ data, sender }) =>
    withApi(sender, async (api) => {
      const names = [...new Set(data.names)].slice(0, 100);
      const ids = [...new Set(data.ids ?? [])].slice(0, 100);
      if (names.length === 0 && ids.length === 0) return [];
      return findBadges(api, ids, names);
    }),
  );

  onMessage('badges', ({ data, sender }) =>
    withApi(sender, async (api) => {
      const language = await currentLanguage();
      // The server's catalog, as the panel's; if it cannot be read, the one this build carries.
      const catalog = await failureCatalog(api, language).catch(() => bundledCatalog(language));
      return badgesFor(api, data.targets, catalog, language);
    }),
  );

  onMessage('report', ({ data, sender }) =>
    withApi(sender, async (api) => {
      const id = data.broadcastId ?? (await latestNeedingAttention(api));
      if (id === undefined) return null;
      const report = await buildReport(api, id, await failureCatalog(api, await currentLanguage()));
      await noteTabRead(panelTab(sender));
      const role = (await connectionItem.getValue())?.role;
      return { ...report, canResume: role === 'manager' || role === 'owner' };
    }),
  );

  onMessage('contactFailures', ({ data, sender }) =>
    withApi(sender, async (api): Promise<ContactFailures | null> => {
      for (const ref of data.identifiers.slice(0, 5)) {
        const contact = await api.contact(ref).catch((error: unknown) => {
          if (error instanceof ReboundError && error.status === 404) return null;
          throw error;
        });
        if (!contact) continue;
        const name = [contact.firstName, contact.lastName].filter(Boolean).join(' ') || ref;
        const messages = (await api.failedMessages({ contactId: contact.id, limit: 100 })).data;
        const notSent = messages.filter((m) => m.subtype !== 'unconfirmed').length;
        return { contact: { id: contact.id, name }, messages, notSent };
      }
      return null;
    }),
  );

  onMessage('resend', ({ data, sender }) =>
    withApi(sender, async (api) => {
      await assertTabConnection(panelTab(sender));
      // Its times said in the agent's own clock, as the panel says the plan's: one moment, one time.
      const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      return resendAndTell(api, data.broadcastId, { ...resendBodyFrom(sender, ownPages, data.body), timeZone });
    }),
  );

  onMessage('channels', ({ sender }) =>
    withApi(sender, async (api) =>
      (await api.channels()).data.filter((c) => c.canBroadcast).map((c) => ({ id: c.id, name: c.name, type: c.type })),
    ),
  );

  onMessage('resume', ({ data, sender }) =>
    withApi(sender, async (api) => {
      await assertTabConnection(panelTab(sender));
      return lite(await api.resume(data.broadcastId));
    }),
  );

  onMessage('resumeNumber', ({ data, sender }) =>
    withApi(sender, async (api) => {
      await assertTabConnection(panelTab(sender));
      // The broadcast names its channel: the number lifted is the one this report is about.
      await api.resumeChannel((await api.broadcast(data.broadcastId)).channelId);
      return null;
    }),
  );

  onMessage('broadcast', ({ data, sender }) => withApi(sender, async (api) => lite(await api.broadcast(data.id))));

  onMessage('cancelResend', ({ data, sender }) =>
    withApi(sender, async (api) => {
      await assertTabConnection(panelTab(sender));
      const ids = data.resendIds.filter((id): id is number => typeof id === 'number');
      const answer = await api.cancelResend(data.broadcastId, ids);
      void refreshAttention(api).catch(() => undefined);
      return answer;
    }),
  );

  onMessage('failedPage', ({ data, sender }) =>
    withApi(sender, async (api) => {
      const page = await api.failedMessages({ ...data, limit: 50 });
      return {
        rows: page.data.map((m) => ({
          id: m.messageId,
          name: m.contact.name,
          identifier: m.contact.identifier,
          reason: m.reason.code,
          reasonTitle: m.reason.title,
        })),
        nextCursor: page.nextCursor,
      };
    }),
  );

  onMessage('failedCsv', ({ data, sender }) => withApi(sender, async (api) => csvInParts(await api.failedCsv(data))));

  onMessage('failedCsvPart', ({ data, sender }) =>
    reply(async () => takeCsvPart(String(data.id), Number(data.index)), sender),
  );

  onMessage('attentionState', ({ sender }) => withApi(sender, (api) => attentionState(api)));

  // Only the popup marks a broadcast reviewed: from a page, it would take failures off the agent's count.
  onMessage('review', ({ data, sender }) =>
    withApi(sender, (api) => {
      ownPageOnly(sender);
      return markReviewed(
        api,
        data.broadcastId,
        data.reviewed === true,
        typeof data.seen === 'number' && Number.isSafeInteger(data.seen) && data.seen >= 0 ? data.seen : undefined,
      );
    }),
  );

  onMessage('openOptions', () =>
    reply(async () => {
      await browser.runtime.openOptionsPage();
      return null;
    }),
  );
}

async function latestNeedingAttention(api: Api): Promise<number | undefined> {
  const known = await attentionItem.getValue();
  return (known.length > 0 ? known : await refreshAttention(api))[0];
}

async function withApi<T>(sender: Sender, run: (api: Api) => Promise<T>): Promise<Reply<T>> {
  return reply(async () => {
    const api = await currentApi();
    if (!api) throw new ReboundError('not_configured', translate(await currentLanguage(), 'notConfigured'));
    return run(api);
  }, sender);
}

const HIDDEN_URL = '\u2060url\u2060';

/**
 * The agent's words for trouble with the connection, not the API's advice to a developer. The server's
 * address only on the extension's own pages: a panel's words sit in a page whose scripts can read them.
 */
export function agentWords(error: ReboundError, language: Language, ownPage: boolean): string {
  const aboutServer = (key: 'networkError' | 'insecureUrl' | 'serverOutdated') =>
    ownPage
      ? translate(language, key, { url: error.message })
      : translate(language, key, { url: HIDDEN_URL }).replace(` (${HIDDEN_URL})`, '');
  if (error.code === 'network') return aboutServer('networkError');
  if (error.code === 'insecure_url') return aboutServer('insecureUrl');
  if (error.code === 'server_outdated') return aboutServer('serverOutdated');
  if (error.status === 401) return backgroundText(language, 'tokenRefused');
  if (error.status >= 500) return backgroundText(language, 'serverTrouble', { code: error.status });
  return error.message;
}

/** Every answer as a Reply: the UI shows the server's message, or a plain one when the server is unreachable. */
async function reply<T>(run: () => Promise<T>, sender?: Sender): Promise<Reply<T>> {
  try {
    return { ok: true, data: await run() };
  } catch (error) {
    if (error instanceof ReboundError) {
      const ownPage = sender === undefined || fromOwnPage(sender, browser.runtime.getURL('/'));
      const message = agentWords(error, await currentLanguage(), ownPage);
      return { ok: false, error: { code: error.code, message } };
    }
    return { ok: false, error: { code: 'internal', message: (error as Error).message } };
  }
}
