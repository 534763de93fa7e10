// The demo helpdesk: a plain look-alike of a customer-messaging helpdesk that reads Rebound's API.
// Every text from the API reaches the DOM through textContent / text nodes (see h() below), never as
// HTML: provider error texts can hold markup. The class names (hd-*) are a contract with the extension.
// The token is handed to the server once (/demo/session) and kept there in an HttpOnly cookie: no script
// on this origin (this page, /docs) can read it back, and the page keeps it in no storage of its own.

const LANG_KEY = 'rebound-demo-lang';
const BROADCAST_LIMIT = 200;
const PAGE_SIZE = 50;

const TEXTS = {
  es: {
    brand: 'Helpdesk',
    navBroadcasts: 'Difusiones',
    navFailed: 'Mensajes fallidos',
    navContacts: 'Contactos',
    signOut: 'cerrar sesión',
    language: 'Idioma',
    signInTitle: 'Iniciar sesión',
    signInHelp: 'Pega un token de API de Rebound (rb_...) para ver los datos de tu espacio de trabajo.',
    tokenLabel: 'Token de API',
    signInButton: 'Entrar',
    checking: 'Comprobando…',
    loading: 'Cargando…',
    networkError: 'No se pudo conectar con el servidor.',
    httpError: 'El servidor respondió con el estado {status}.',
    retry: 'Reintentar',
    pageNotFound: 'Esta página no existe.',
    backHome: 'Volver a difusiones',
    broadcastsTitle: 'Difusiones',
    noBroadcasts: 'Todavía no hay difusiones.',
    moreBroadcasts: 'Se muestran las primeras {count} difusiones.',
    colName: 'Nombre',
    colChannel: 'Canal',
    colStatus: 'Estado',
    colTarget: 'Destinatarios',
    colCompleted: 'Completados',
    colDate: 'Programada / iniciada',
    colBroadcast: 'Difusión',
    colContact: 'Contacto',
    colIdentifier: 'Identificador',
    colReason: 'Motivo',
    colProviderError: 'Error del proveedor',
    colTime: 'Hora',
    colPhone: 'Teléfono',
    colEmail: 'Correo',
    colTags: 'Etiquetas',
    status: {
      draft: 'Borrador',
      scheduled: 'Programada',
      sending: 'Enviando',
      completed: 'Completada',
      partially_failed: 'Completada con fallos',
      failed: 'Fallida',
      cancelled: 'Cancelada',
    },
    channel: 'Canal',
    state: 'Estado',
    target: 'Destinatarios',
    completed: 'Completados',
    sent: 'Enviados',
    delivered: 'Entregados',
    failed: 'Fallidos',
    createdAt: 'Creada',
    scheduledAt: 'Programada',
    startedAt: 'Iniciada',
    finishedAt: 'Finalizada',
    message: 'Mensaje',
    template: 'Plantilla',
    seeFailed: 'Ver mensajes fallidos',
    failedTitle: 'Mensajes fallidos',
    failedFor: 'Difusión: {name}',
    showAll: 'Ver todos',
    noFailed: 'No hay mensajes fallidos.',
    loadMore: 'Cargar más',
    noName: 'Sin nombre',
    contactsTitle: 'Contactos',
    search: 'Buscar',
    searchPlaceholder: 'Nombre, teléfono o correo',
    noContacts: 'No se encontraron contactos.',
    contactId: 'ID',
    phone: 'Teléfono',
    phoneInvalid: 'Número no válido',
    email: 'Correo',
    contactLanguage: 'Idioma',
    tags: 'Etiquetas',
    noTags: 'Sin etiquetas',
    customFields: 'Campos personalizados',
    noCustomFields: 'Sin campos personalizados.',
    identifiers: 'Identificadores por canal',
    contactCreated: 'Creado',
  },
  en: {
    brand: 'Helpdesk',
    navBroadcasts: 'Broadcasts',
    navFailed: 'Failed messages',
    navContacts: 'Contacts',
    signOut: 'sign out',
    language: 'Language',
    signInTitle: 'Sign in',
    signInHelp: "Paste a Rebound API token (rb_...) to see your workspace's data.",
    tokenLabel: 'API token',
    signInButton: 'Sign in',
    checking: 'Checking…',
    loading: 'Loading…',
    networkError: 'Could not reach the server.',
    httpError: 'The server answered with status {status}.',
    retry: 'Retry',
    pageNotFound: 'This page does not exist.',
    backHome: 'Back to broadcasts',
    broadcastsTitle: 'Broadcasts',
    noBroadcasts: 'No broadcasts yet.',
    moreBroadcasts: 'Showing the first {count} broadcasts.',
    colName: 'Name',
    colChannel: 'Channel',
    colStatus: 'Status',
    colTarget: 'Recipients',
    colCompleted: 'Completed',
    colDate: 'Scheduled / started',
    colBroadcast: 'Broadcast',
    colContact: 'Contact',
    colIdentifier: 'Identifier',
    colReason: 'Reason',
    colProviderError: 'Provider error',
    colTime: 'Time',
    colPhone: 'Phone',
    colEmail: 'E-mail',
    colTags: 'Tags',
    status: {
      draft: 'Draft',
      scheduled: 'Scheduled',
      sending: 'Sending',
      completed: 'Completed',
      partially_failed: 'Completed with failures',
      failed: 'Failed',
      cancelled: 'Cancelled',
    },
    channel: 'Channel',
    state: 'Status',
    target: 'Recipients',
    completed: 'Completed',
    sent: 'Sent',
    delivered: 'Delivered',
    failed: 'Failed',
    createdAt: 'Created',
    scheduledAt: 'Scheduled',
    startedAt: 'Started',
    finishedAt: 'Finished',
    message: 'Message',
    template: 'Template',
    seeFailed: 'See failed messages',
    failedTitle: 'Failed messages',
    failedFor: 'Broadcast: {name}',
    showAll: 'Show all',
    noFailed: 'No failed messages.',
    loadMore: 'Load more',
    noName: 'No name',
    contactsTitle: 'Contacts',
    search: 'Search',
    searchPlaceholder: 'Name, phone or e-mail',
    noContacts: 'No contacts found.',
    contactId: 'ID',
    phone: 'Phone',
    phoneInvalid: 'Invalid number',
    email: 'E-mail',
    contactLanguage: 'Language',
    tags: 'Tags',
    noTags: 'No tags',
    customFields: 'Custom fields',
    noCustomFields: 'No custom fields.',
    identifiers: 'Identifiers by channel',
    contactCreated: 'Created',
  },
};

// ---- storage (the language only), language and formatting ----

function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // storage disabled: the value lives until the page is left
  }
}

function initialLanguage() {
  const saved = load(LANG_KEY);
  if (saved === 'es' || saved === 'en') return saved;
  return (navigator.language || '').toLowerCase().startsWith('en') ? 'en' : 'es';
}

let lang = initialLanguage();
/** Whether the server holds a working token for this page (its cookie is not readable here). */
let signedIn = false;
let workspaceName = '';

function t(key, params = {}) {
  const text = TEXTS[lang][key] ?? TEXTS.es[key] ?? key;
  return typeof text === 'string' ? text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? '')) : text;
}

function formatNumber(value) {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(lang, { useGrouping: 'always' }).format(value);
}

function formatDate(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

function contactName(contact) {
  return [contact.firstName, contact.lastName].filter(Boolean).join(' ');
}

// ---- DOM ----

/**
 * Builds an element. Attributes are set with setAttribute, event handlers (onclick, onsubmit, …) with
 * addEventListener, and children (strings, numbers, nodes, arrays) are added as text nodes or nodes:
 * nothing is ever parsed as HTML.
 */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) {
      if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name === 'text') {
      el.textContent = String(value);
    } else if (name !== 'style') {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}

function timeEl(iso) {
  return iso ? h('time', { datetime: iso }, formatDate(iso)) : '—';
}

function errorBox(message) {
  return h('div', { class: 'hd-error', role: 'alert' }, message);
}

function setTitle(text) {
  document.title = text ? `${text} · ${t('brand')}` : t('brand');
}

// ---- API ----

class ApiFailure extends Error {
  constructor(status, code, message, signedOut = false) {
    super(message);
    this.status = status;
    this.code = code;
    /** No session at all (never signed in, or signed out), as opposed to a token that stopped working. */
    this.signedOut = signedOut;
  }
}

/** Reads the API through /demo/api/…: the server adds the bearer token from its cookie. */
async function api(path, params = {}) {
  const url = new URL(`/demo${path}`, location.origin);
  for (const [name, value] of Object.entries(params)) {
    for (const item of [value].flat()) {
      if (item !== null && item !== undefined && item !== '') url.searchParams.append(name, String(item));
    }
  }
  let res;
  try {
    res = await fetch(url, { headers: { 'Accept-Language': lang, Accept: 'application/json' } });
  } catch {
    throw new ApiFailure(0, 'network_error', t('networkError'));
  }
  return readAnswer(res);
}

/** The page's session: the token goes to the server once and stays there. */
async function signIn(candidate) {
  let res;
  try {
    res = await fetch('/demo/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept-Language': lang, Accept: 'application/json' },
      body: JSON.stringify({ token: candidate }),
    });
  } catch {
    throw new ApiFailure(0, 'network_error', t('networkError'));
  }
  return readAnswer(res);
}

async function readAnswer(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const error = body && typeof body === 'object' ? body.error : undefined;
    throw new ApiFailure(
      res.status,
      error?.code ?? 'http_error',
      typeof error?.message === 'string' ? error.message : t('httpError', { status: res.status }),
      res.headers.get('X-Demo-Session') === 'none',
    );
  }
  return body;
}

/** A contact ref (ID, phone:+52…, email:…) as one path segment. */
function refPath(ref) {
  return encodeURIComponent(ref).replace(/%3A/gi, ':').replace(/%2B/gi, '+').replace(/%40/gi, '@');
}

async function channelNames() {
  const { data } = await api('/api/v1/channels');
  return new Map(data.map((channel) => [channel.id, channel.name]));
}

// ---- layout ----

const root = document.getElementById('app');
let main = null;

function languageToggle() {
  const choose = (next) => () => {
    if (next === lang) return;
    lang = next;
    store(LANG_KEY, next);
    start();
  };
  return h(
    'div',
    { class: 'hd-lang', role: 'group', 'aria-label': t('language') },
    ['es', 'en'].map((code) =>
      h(
        'button',
        {
          type: 'button',
          class: 'hd-lang-option',
          lang: code,
          'aria-pressed': String(code === lang),
          onclick: choose(code),
        },
        code.toUpperCase(),
      ),
    ),
  );
}

function header(page) {
  const nav = [
    ['/demo/', t('navBroadcasts'), ['broadcasts', 'broadcast']],
    ['/demo/failed-messages', t('navFailed'), ['failed']],
    ['/demo/contacts', t('navContacts'), ['contacts', 'contact']],
  ];
  return h(
    'header',
    { class: 'hd-header' },
    h('a', { class: 'hd-brand', href: '/demo/' }, t('brand')),
    signedIn
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
      signedIn && workspaceName ? h('span', { class: 'hd-workspace' }, workspaceName) : null,
      languageToggle(),
      signedIn
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

function layout(page) {
  document.documentElement.lang = lang;
  main = h('main', { class: 'hd-main', id: 'hd-main' });
  root.replaceChildren(header(page), main);
  return main;
}

function loading() {
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(h('p', { class: 'hd-loading' }, t('loading')));
}

function show(...children) {
  main.removeAttribute('aria-busy');
  main.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined));
}

/** What a page renderer answers: the document title and the content of <main>. */
function view(title, ...nodes) {
  return { title, nodes };
}

async function signOut() {
  signedIn = false;
  workspaceName = '';
  try {
    await fetch('/demo/session', { method: 'DELETE' });
  } catch {
    // the server is away: the next page load asks again
  }
  start();
}

// ---- routing ----

function route(pathname) {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/demo') return { page: 'broadcasts' };
  if (path === '/demo/failed-messages') return { page: 'failed' };
  if (path === '/demo/contacts') return { page: 'contacts' };
  let match = /^\/demo\/broadcasts\/([^/]+)$/.exec(path);
  if (match) return { page: 'broadcast', id: safeDecode(match[1]) };
  match = /^\/demo\/contacts\/([^/]+)$/.exec(path);
  if (match) return { page: 'contact', ref: safeDecode(match[1]) };
  return { page: 'unknown' };
}

function safeDecode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const pages = {
  broadcasts: renderBroadcasts,
  broadcast: renderBroadcast,
  failed: renderFailedMessages,
  contacts: renderContacts,
  contact: renderContact,
  unknown: renderUnknown,
};

// ---- sign in ----

function renderSignIn(message) {
  layout('signin');
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
          const me = await signIn(candidate);
          signedIn = true;
          workspaceName = me.workspace.name;
          start();
        } catch (error) {
          button.disabled = false;
          status.replaceChildren(errorBox(error.message));
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

// ---- broadcasts ----

async function renderBroadcasts() {
  const [names, broadcasts] = await Promise.all([channelNames(), allBroadcasts()]);
  const rows = broadcasts.items.map((b) =>
    h(
      'tr',
      { class: 'hd-row', 'data-broadcast-id': b.id },
      h('td', { class: 'hd-broadcast-name' }, link(`/demo/broadcasts/${b.id}`, b.name)),
      h('td', { class: 'hd-channel' }, names.get(b.channelId) ?? `#${b.channelId}`),
      h('td', { class: 'hd-status-cell' }, statusBadge(b.status)),
      h('td', { class: 'hd-num' }, formatNumber(b.targetCount)),
      h('td', { class: 'hd-num' }, formatNumber(b.completedCount)),
      h('td', { class: 'hd-date' }, timeEl(b.startedAt ?? b.scheduledAt)),
    ),
  );
  return view(
    t('broadcastsTitle'),
    h('div', { class: 'hd-page-head' }, h('h1', { class: 'hd-title' }, t('broadcastsTitle'))),
    rows.length
      ? h(
          'div',
          { class: 'hd-table-wrap' },
          h(
            'table',
            { class: 'hd-table', 'data-list': 'broadcasts' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                [t('colName'), t('colChannel'), t('colStatus'), t('colTarget'), t('colCompleted'), t('colDate')].map(
                  (text, index) => h('th', { scope: 'col', class: index === 3 || index === 4 ? 'hd-num' : null }, text),
                ),
              ),
            ),
            h('tbody', null, rows),
          ),
        )
      : h('p', { class: 'hd-empty' }, t('noBroadcasts')),
    broadcasts.more
      ? h('p', { class: 'hd-muted' }, t('moreBroadcasts', { count: formatNumber(BROADCAST_LIMIT) }))
      : null,
  );
}

async function allBroadcasts() {
  const items = [];
  let cursor;
  do {
    const page = await api('/api/v1/broadcasts', { limit: 100, cursor });
    items.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor && items.length < BROADCAST_LIMIT);
  return { items: items.slice(0, BROADCAST_LIMIT), more: Boolean(cursor) || items.length > BROADCAST_LIMIT };
}

function statusBadge(status) {
  return h('span', { class: `hd-status hd-status-${status}`, 'data-status': status }, t('status')[status] ?? status);
}

function field(label, value, ddClass) {
  return [h('dt', null, label), h('dd', { class: ddClass ?? null }, value)];
}

async function renderBroadcast({ id }) {
  if (!/^\d+$/.test(id)) throw new ApiFailure(404, 'not_found', t('pageNotFound'));
  const [broadcast, names] = await Promise.all([api(`/api/v1/broadcasts/${id}`), channelNames()]);
  const counts = broadcast.counts ?? {};
  const template = broadcast.content.template;
  return view(
    broadcast.name,
    h(
      'div',
      { class: 'hd-page-head' },
      h('h1', { class: 'hd-title hd-broadcast-title' }, broadcast.name),
      link(`/demo/failed-messages?broadcastId=${broadcast.id}`, t('seeFailed'), { class: 'hd-button' }),
    ),
    h(
      'dl',
      { class: 'hd-dl hd-broadcast-details', 'data-broadcast-id': broadcast.id },
      field(t('channel'), names.get(broadcast.channelId) ?? `#${broadcast.channelId}`, 'hd-broadcast-channel'),
      field(t('state'), statusBadge(broadcast.status), 'hd-broadcast-status'),
      field(t('target'), formatNumber(broadcast.targetCount), 'hd-num-value'),
      field(t('completed'), formatNumber(broadcast.completedCount), 'hd-num-value'),
      field(t('sent'), formatNumber(counts.sent ?? 0), 'hd-num-value'),
      field(t('delivered'), formatNumber(counts.delivered ?? 0), 'hd-num-value'),
      field(t('failed'), formatNumber(counts.failed ?? 0), 'hd-num-value'),
      field(t('createdAt'), timeEl(broadcast.createdAt)),
      field(t('scheduledAt'), timeEl(broadcast.scheduledAt)),
      field(t('startedAt'), timeEl(broadcast.startedAt)),
      field(t('finishedAt'), timeEl(broadcast.finishedAt)),
    ),
    h(
      'section',
      { class: 'hd-message', 'aria-labelledby': 'hd-message-title' },
      h('h2', { class: 'hd-subtitle', id: 'hd-message-title' }, t('message')),
      h('p', { class: 'hd-message-text' }, broadcast.content.text),
      template ? h('p', { class: 'hd-muted' }, `${t('template')}: ${template.name} (${template.language})`) : null,
    ),
  );
}

// ---- failed messages ----

async function renderFailedMessages() {
  const broadcastIds = new URLSearchParams(location.search).getAll('broadcastId').filter((id) => /^\d+$/.test(id));
  const [page, filterName] = await Promise.all([
    api('/api/v1/failed-messages', { broadcastId: broadcastIds, limit: PAGE_SIZE }),
    broadcastIds.length === 1
      ? api(`/api/v1/broadcasts/${broadcastIds[0]}`).then(
          (b) => b.name,
          () => `#${broadcastIds[0]}`,
        )
      : Promise.resolve(broadcastIds.map((id) => `#${id}`).join(', ')),
  ]);
  const tbody = h('tbody', null, page.data.map(failedRow));
  const table = h(
    'div',
    { class: 'hd-table-wrap' },
    h(
      'table',
      { class: 'hd-table', 'data-list': 'failed-messages' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [
            t('colBroadcast'),
            t('colContact'),
            t('colIdentifier'),
            t('colReason'),
            t('colProviderError'),
            t('colTime'),
          ].map((text) => h('th', { scope: 'col' }, text)),
        ),
      ),
      tbody,
    ),
  );
  const empty = h('p', { class: 'hd-empty' }, t('noFailed'));
  return view(
    t('failedTitle'),
    h('div', { class: 'hd-page-head' }, h('h1', { class: 'hd-title' }, t('failedTitle'))),
    broadcastIds.length
      ? h(
          'p',
          { class: 'hd-filter' },
          h('span', { class: 'hd-chip' }, t('failedFor', { name: filterName })),
          ' ',
          link('/demo/failed-messages', t('showAll')),
        )
      : null,
    page.data.length ? table : empty,
    loadMoreButton(page.nextCursor, (cursor) =>
      api('/api/v1/failed-messages', { broadcastId: broadcastIds, limit: PAGE_SIZE, cursor }).then((next) => {
        tbody.append(...next.data.map(failedRow));
        return next.nextCursor;
      }),
    ),
  );
}

function failedRow(item) {
  const name = item.contact.name || item.contact.identifier || t('noName');
  return h(
    'tr',
    { class: 'hd-row', 'data-message-id': item.messageId, 'data-broadcast-id': item.sender.id },
    h('td', { class: 'hd-broadcast-name' }, link(`/demo/broadcasts/${item.sender.id}`, item.sender.name)),
    h(
      'td',
      { class: 'hd-contact-cell' },
      item.contact.id !== null ? link(`/demo/contacts/${item.contact.id}`, name, { class: 'hd-contact-link' }) : name,
    ),
    h('td', { class: 'hd-identifier' }, item.contact.identifier ?? '—'),
    h('td', { class: 'hd-reason', 'data-reason': item.reason.code }, item.reason.title),
    h(
      'td',
      { class: 'hd-provider-error' },
      item.providerCode ? h('code', { class: 'hd-code' }, item.providerCode) : null,
      item.providerCode && item.providerMessage ? ' ' : null,
      item.providerMessage ?? (item.providerCode ? null : '—'),
    ),
    h('td', { class: 'hd-date' }, timeEl(item.failedAt)),
  );
}

/** A "load more" button that calls more(cursor) and hides itself on the last page. */
function loadMoreButton(firstCursor, more) {
  if (!firstCursor) return null;
  let cursor = firstCursor;
  const status = h('span', { class: 'hd-form-status', 'aria-live': 'polite' });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'hd-button hd-load-more',
      onclick: async () => {
        button.disabled = true;
        status.replaceChildren();
        try {
          cursor = await more(cursor);
          if (cursor) button.disabled = false;
          else wrap.remove();
        } catch (error) {
          button.disabled = false;
          status.replaceChildren(errorBox(error.message));
        }
      },
    },
    t('loadMore'),
  );
  const wrap = h('div', { class: 'hd-more' }, button, status);
  return wrap;
}

// ---- contacts ----

async function renderContacts() {
  const q = (new URLSearchParams(location.search).get('q') ?? '').trim();
  const page = await api('/api/v1/contacts', { q, limit: PAGE_SIZE });
  const tbody = h('tbody', null, page.data.map(contactRow));
  return view(
    t('contactsTitle'),
    h('div', { class: 'hd-page-head' }, h('h1', { class: 'hd-title' }, t('contactsTitle'))),
    h(
      'form',
      { class: 'hd-search', role: 'search', method: 'get', action: '/demo/contacts' },
      h('label', { for: 'hd-q', class: 'hd-visually-hidden' }, t('search')),
      h('input', {
        id: 'hd-q',
        name: 'q',
        type: 'search',
        class: 'hd-input',
        value: q,
        placeholder: t('searchPlaceholder'),
        maxlength: 200,
      }),
      h('button', { type: 'submit', class: 'hd-button' }, t('search')),
    ),
    page.data.length
      ? h(
          'div',
          { class: 'hd-table-wrap' },
          h(
            'table',
            { class: 'hd-table', 'data-list': 'contacts' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                [t('colName'), t('colPhone'), t('colEmail'), t('colTags')].map((text) =>
                  h('th', { scope: 'col' }, text),
                ),
              ),
            ),
            tbody,
          ),
        )
      : h('p', { class: 'hd-empty' }, t('noContacts')),
    loadMoreButton(page.nextCursor, (cursor) =>
      api('/api/v1/contacts', { q, limit: PAGE_SIZE, cursor }).then((next) => {
        tbody.append(...next.data.map(contactRow));
        return next.nextCursor;
      }),
    ),
  );
}

function contactRow(contact) {
  return h(
    'tr',
    { class: 'hd-row', 'data-contact-id': contact.id },
    h(
      'td',
      { class: 'hd-contact-cell' },
      link(`/demo/contacts/${contact.id}`, contactName(contact) || t('noName'), { class: 'hd-contact-link' }),
    ),
    h('td', { class: 'hd-phone' }, contact.phone ?? '—'),
    h('td', { class: 'hd-email' }, contact.email ?? '—'),
    h('td', { class: 'hd-tags-cell' }, tagList(contact.tags)),
  );
}

function tagList(tags) {
  return tags.length
    ? h(
        'ul',
        { class: 'hd-tags' },
        tags.map((tag) => h('li', { class: 'hd-tag' }, tag)),
      )
    : null;
}

async function renderContact({ ref }) {
  const [contact, names] = await Promise.all([api(`/api/v1/contacts/${refPath(ref)}`), channelNames()]);
  const name = contactName(contact) || t('noName');
  const custom = Object.entries(contact.customFields ?? {});
  return view(
    name,
    h('div', { class: 'hd-page-head' }, h('h1', { class: 'hd-title hd-contact-name' }, name)),
    h(
      'dl',
      { class: 'hd-dl hd-contact-details', 'data-contact-id': contact.id },
      field(t('contactId'), String(contact.id), 'hd-contact-id'),
      field(t('phone'), contact.phone ?? '', 'hd-contact-phone'),
      contact.phone && contact.phoneValid === false
        ? h('dd', { class: 'hd-note' }, h('span', { class: 'hd-warning' }, t('phoneInvalid')))
        : null,
      field(t('email'), contact.email ?? '', 'hd-contact-email'),
      field(t('contactLanguage'), contact.language ?? '', 'hd-contact-language'),
      field(t('tags'), tagList(contact.tags) ?? h('span', { class: 'hd-muted' }, t('noTags')), 'hd-contact-tags'),
      contact.identifiers.length
        ? field(
            t('identifiers'),
            h(
              'ul',
              { class: 'hd-plain-list' },
              contact.identifiers.map((item) =>
                h('li', null, `${names.get(item.channelId) ?? `#${item.channelId}`}: ${item.identifier}`),
              ),
            ),
            'hd-contact-identifiers',
          )
        : null,
      field(t('contactCreated'), timeEl(contact.createdAt)),
    ),
    h(
      'section',
      { class: 'hd-section', 'aria-labelledby': 'hd-custom-title' },
      h('h2', { class: 'hd-subtitle', id: 'hd-custom-title' }, t('customFields')),
      custom.length
        ? h(
            'dl',
            { class: 'hd-dl hd-custom-fields' },
            custom.map(([key, value]) => [
              h('dt', null, key),
              h('dd', { class: 'hd-custom-field', 'data-key': key }, value),
            ]),
          )
        : h('p', { class: 'hd-muted' }, t('noCustomFields')),
    ),
  );
}

async function renderUnknown() {
  return view(t('pageNotFound'), errorBox(t('pageNotFound')), h('p', null, link('/demo/', t('backHome'))));
}

// ---- start ----

/** A link with #token=rb_… signs in (the tests and the demo use it); the token leaves the address bar at once. */
async function takeTokenFromFragment() {
  if (!location.hash.startsWith('#')) return undefined;
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has('token')) return undefined;
  const value = (params.get('token') ?? '').trim();
  // The token never stays in the address bar (or in the history).
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  if (!/^rb_\S+$/.test(value)) return undefined;
  try {
    const me = await signIn(value);
    signedIn = true;
    workspaceName = me.workspace.name;
    return undefined;
  } catch (error) {
    return error instanceof ApiFailure ? error.message : String(error?.message ?? error);
  }
}

let generation = 0;

async function start(signInError) {
  const current = ++generation;
  const where = route(location.pathname);
  if (signInError) {
    renderSignIn(signInError);
    return;
  }
  layout(where.page);
  loading();
  try {
    if (!workspaceName) {
      const me = await api('/api/v1/me');
      if (current !== generation) return;
      signedIn = true;
      workspaceName = me.workspace.name;
      layout(where.page);
      loading();
    }
    const page = await pages[where.page](where);
    if (current !== generation) return;
    setTitle(page.title);
    show(page.nodes);
  } catch (error) {
    if (current !== generation) return;
    if (error instanceof ApiFailure && error.status === 401) {
      signedIn = false;
      workspaceName = '';
      renderSignIn(error.signedOut ? undefined : error.message);
      return;
    }
    setTitle(null);
    show(
      errorBox(error instanceof ApiFailure ? error.message : String(error?.message ?? error)),
      h('p', null, link('/demo/', t('backHome'))),
    );
  }
}

takeTokenFromFragment().then(start);
// A #token=… link followed on a page already open reloads nothing: sign in all the same.
window.addEventListener('hashchange', () => {
  if (new URLSearchParams(location.hash.slice(1)).has('token')) takeTokenFromFragment().then(start);
});
