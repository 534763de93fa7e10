/**
 * The demo helpdesk: a plain look-alike of a customer-messaging helpdesk that reads Rebound's API. This is
 * the entry the server bundles into /demo/assets/app.js: the header, the sign-in, routing by
 * location.pathname and the start. The names the extension reads are in @rebound/shared/demo-page.
 * The token is handed to the server once (/demo/session) and kept there in an HttpOnly cookie: no script
 * on this origin (this page, /docs) can read it back, and the page keeps it in no storage of its own.
 */

import type { Me } from '@rebound/shared';
import { ApiFailure, api, signIn } from './api';
import { errorBox, h, link, setTitle } from './dom';
import { layout, loading, show, type View, view } from './layout';
import { renderBroadcast, renderBroadcasts } from './pages/broadcasts';
import { renderContact, renderContacts } from './pages/contacts';
import { renderFailedMessages } from './pages/failed';
import { chooseLanguage, messageOf, session, t } from './state';
import type { Lang } from './texts';

type Page = 'signin' | 'broadcasts' | 'broadcast' | 'failed' | 'contacts' | 'contact' | 'unknown';
type Route =
  | { page: 'broadcasts' | 'failed' | 'contacts' | 'unknown' }
  | { page: 'broadcast'; id: string }
  | { page: 'contact'; ref: string };

// ---- layout ----

function languageToggle() {
  const choose = (next: Lang) => () => {
    if (next === session.lang) return;
    chooseLanguage(next);
    start();
  };
  const codes: Lang[] = ['es', 'en'];
  return h(
    'div',
    { class: 'hd-lang', role: 'group', 'aria-label': t('language') },
    codes.map((code) =>
      h(
        'button',
        {
          type: 'button',
          class: 'hd-lang-option',
          lang: code,
          'aria-pressed': String(code === session.lang),
          onclick: choose(code),
        },
        code.toUpperCase(),
      ),
    ),
  );
}

function header(page: Page) {
  const nav: [string, string, Page[]][] = [
    ['/demo/', t('navBroadcasts'), ['broadcasts', 'broadcast']],
    ['/demo/failed-messages', t('navFailed'), ['failed']],
    ['/demo/contacts', t('navContacts'), ['contacts', 'contact']],
  ];
  return h(
    'header',
    { class: 'hd-header' },
    h('a', { class: 'hd-brand', href: '/demo/' }, t('brand')),
    session.signedIn
      ? h(
          'nav',
          { class: 'hd-nav', 'aria-label': t('brand') },
          nav.map(([href, text, pages]) =>
            link(href, text, { class: 'hd-nav-link', 'aria-current': pages.includes(page) ? 'page' : null }),
          ),
        )
      : null,
    h(
      'div',
      { class: 'hd-header-end' },
      session.signedIn && session.workspaceName ? h('span', { class: 'hd-workspace' }, session.workspaceName) : null,
      languageToggle(),
      session.signedIn
        ? link('/demo/', t('signOut'), {
            class: 'hd-signout',
            onclick: (event) => {
              event.preventDefault();
              signOut();
            },
          })
        : null,
    ),
  );
}

/** Signed in with `me`: the header shows its workspace. */
function signedInAs(me: Me) {
  session.signedIn = true;
  session.workspaceName = me.workspace.name;
}

async function signOut() {
  session.signedIn = false;
  session.workspaceName = '';
  try {
    await fetch('/demo/session', { method: 'DELETE' });
  } catch {
    // the server is away: the next page load asks again
  }
  start();
}

// ---- routing ----

function route(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/demo') return { page: 'broadcasts' };
  if (path === '/demo/failed-messages') return { page: 'failed' };
  if (path === '/demo/contacts') return { page: 'contacts' };
  let match = /^\/demo\/broadcasts\/([^/]+)$/.exec(path);
  if (match?.[1]) return { page: 'broadcast', id: safeDecode(match[1]) };
  match = /^\/demo\/contacts\/([^/]+)$/.exec(path);
  if (match?.[1]) return { page: 'contact', ref: safeDecode(match[1]) };
  return { page: 'unknown' };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function render(where: Route): Promise<View> {
  switch (where.page) {
    case 'broadcasts':
      return renderBroadcasts();
    case 'broadcast':
      return renderBroadcast(where.id);
    case 'failed':
      return renderFailedMessages();
    case 'contacts':
      return renderContacts();
    case 'contact':
      return renderContact(where.ref);
    case 'unknown':
      return renderUnknown();
  }
}

async function renderUnknown() {
  return view(t('pageNotFound'), errorBox(t('pageNotFound')), h('p', null, link('/demo/', t('backHome'))));
}

// ---- sign in ----

function renderSignIn(message?: string) {
  layout(header('signin'));
  setTitle(t('signInTitle'));
  const input = h('input', {
    id: 'hd-token',
    name: 'token',
    type: 'password',
    class: 'hd-input',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'rb_…',
  });
  const status = h('div', { class: 'hd-form-status', 'aria-live': 'polite' }, message ? errorBox(message) : null);
  const button = h('button', { type: 'submit', class: 'hd-button hd-button-primary' }, t('signInButton'));
  const form = h(
    'form',
    {
      class: 'hd-signin',
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const candidate = input.value.trim();
        if (!candidate) {
          input.focus();
          return;
        }
        button.disabled = true;
        status.replaceChildren(h('p', { class: 'hd-loading' }, t('checking')));
        try {
          signedInAs(await signIn(candidate));
          start();
        } catch (error) {
          button.disabled = false;
          status.replaceChildren(errorBox(messageOf(error)));
          input.focus();
        }
      },
    },
    h('h1', { class: 'hd-title' }, t('signInTitle')),
    h('p', { class: 'hd-muted' }, t('signInHelp')),
    h('label', { for: 'hd-token', class: 'hd-label' }, t('tokenLabel')),
    input,
    button,
    status,
  );
  show(form);
  input.focus();
}

// ---- start ----

/** A link with #token=rb_… signs in (the tests and the demo use it); the token leaves the address bar at once. */
async function takeTokenFromFragment(): Promise<string | undefined> {
  if (!location.hash.startsWith('#')) return undefined;
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has('token')) return undefined;
  const value = (params.get('token') ?? '').trim();
  // The token never stays in the address bar (or in the history).
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  if (!/^rb_\S+$/.test(value)) return undefined;
  try {
    signedInAs(await signIn(value));
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}

let generation = 0;

async function start(signInError?: string) {
  const current = ++generation;
  const where = route(location.pathname);
  if (signInError) {
    renderSignIn(signInError);
    return;
  }
  layout(header(where.page));
  loading();
  try {
    if (!session.workspaceName) {
      const me = await api<Me>('/api/v1/me');
      if (current !== generation) return;
      signedInAs(me);
      layout(header(where.page));
      loading();
    }
    const page = await render(where);
    if (current !== generation) return;
    setTitle(page.title);
    show(page.nodes);
  } catch (error) {
    if (current !== generation) return;
    if (error instanceof ApiFailure && error.status === 401) {
      session.signedIn = false;
      session.workspaceName = '';
      renderSignIn(error.signedOut ? undefined : error.message);
      return;
    }
    setTitle(null);
    show(errorBox(messageOf(error)), h('p', null, link('/demo/', t('backHome'))));
  }
}

takeTokenFromFragment().then(start);
// A #token=… link followed on a page already open reloads nothing: sign in all the same.
window.addEventListener('hashchange', () => {
  if (new URLSearchParams(location.hash.slice(1)).has('token')) takeTokenFromFragment().then(start);
});
