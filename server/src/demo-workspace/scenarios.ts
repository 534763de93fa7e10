/**
 * The demo workspace reproduces S1-S10 of the reference scenarios through Rebound's own API (the same
 * validation and services an integrator gets), against the provider simulators. Seeding happens once;
 * later starts only point the channels at the fresh simulators and script them again.
 */
import type { App } from '../app';
import { WEBHOOK_PATHS } from '../channels';
import { type DemoPerson, person } from './people';
import { DEMO_CREDENTIALS, type DemoSimulators } from './simulators';

const TEMPLATE = {
  text: '¡Black Friday! 30% de descuento en toda la tienda',
  template: { name: 'black_friday', language: 'es_AR', parameters: ['30%'] },
};

/** Phone-number blocks, one per scenario, so scripts can name a scenario's people. */
const BLOCK = { s1: 0, s2: 1, s3: 2, s6: 3, s7: 4, s10: 5, mixed: 6 } as const;

type Json = Record<string, unknown>;

const FIRST_SEEDED = 'Black Friday';
const LAST_SEEDED = 'Confirmación por SMS';

interface DemoApi {
  call<T = Json>(method: string, path: string, body?: unknown): Promise<T>;
}

function demoApi(app: App, token: string): DemoApi {
  return {
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const init: RequestInit = {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Accept-Language': 'es' },
      };
      if (body instanceof FormData) init.body = body;
      else if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
      }
      const res = await app.request(path, init);
      const text = await res.text();
      if (res.status >= 300) throw new Error(`demo: ${method} ${path} → ${res.status} ${text}`);
      return (text ? JSON.parse(text) : {}) as T;
    },
  };
}

interface ChannelSpec {
  name: string;
  type: string;
  sim?: keyof Omit<DemoSimulators, 'stop'>;
  credentials?: Json;
  limits?: Json;
}

const CHANNELS: ChannelSpec[] = [
  {
    name: 'WhatsApp ventas',
    type: 'whatsapp',
    sim: 'whatsappVentas',
    credentials: DEMO_CREDENTIALS.whatsappVentas,
    // The daily quota is S1's point; a high throughput tier keeps the demo's first start short.
    limits: { dailyQuota: 1000, messagesPerSecond: 500 },
  },
  {
    name: 'WhatsApp soporte',
    type: 'whatsapp',
    sim: 'whatsappSoporte',
    credentials: DEMO_CREDENTIALS.whatsappSoporte,
    limits: { dailyQuota: 10000, messagesPerSecond: 20 },
  },
  { name: 'Telegram novedades', type: 'telegram', sim: 'telegram', credentials: DEMO_CREDENTIALS.telegram },
  {
    name: 'SMS Twilio',
    type: 'twilio_sms',
    sim: 'twilio',
    credentials: DEMO_CREDENTIALS.twilio,
    // A toll-free sender's 10/s rather than a long code's 1/s: the demo's texts go out in seconds.
    limits: { messagesPerSecond: 10 },
  },
  { name: 'Messenger tienda', type: 'messenger', sim: 'messenger', credentials: DEMO_CREDENTIALS.messenger },
  // S5: channels that cannot broadcast; the demo shows them refused.
  { name: 'Instagram tienda', type: 'instagram' },
  { name: 'Chat del sitio', type: 'webchat' },
];

export interface DemoSeedResult {
  /** false when the demo was already there (a second start). */
  seeded: boolean;
  channels: Record<string, number>;
  /** Broadcasts the seeding started, to wait for. */
  sending: number[];
}

/**
 * Makes the demo whole: channels on the simulators, simulator scripts, and (once) the scenarios.
 * Idempotent: the last broadcast seeded marks a whole demo.
 */
export async function seedDemo(options: {
  app: App;
  managerToken: string;
  /** Points the channels at this start's simulators: only the owner may move a channel's base URL. */
  ownerToken: string;
  publicUrl: string;
  sims: DemoSimulators;
}): Promise<DemoSeedResult> {
  const api = demoApi(options.app, options.managerToken);
  const owner = demoApi(options.app, options.ownerToken);
  const existing = await api.call<{ data: { id: number; name: string }[] }>('GET', '/api/v1/channels');
  const channels: Record<string, number> = {};
  for (const spec of CHANNELS) {
    const sim = spec.sim ? options.sims[spec.sim] : undefined;
    const found = existing.data.find((c) => c.name === spec.name);
    const id = found
      ? found.id
      : (
          await api.call<{ id: number }>('POST', '/api/v1/channels', {
            name: spec.name,
            type: spec.type,
            ...(spec.credentials && { credentials: spec.credentials }),
            ...(spec.limits && { limits: spec.limits }),
            ...(sim && { baseUrl: sim.baseUrl }),
          })
        ).id;
    // A new base URL forgets the stored credentials unless they come with it.
    if (found && sim)
      await owner.call('PATCH', `/api/v1/channels/${id}`, {
        baseUrl: sim.baseUrl,
        ...(spec.credentials && { credentials: spec.credentials }),
      });
    if (sim)
      sim.webhookUrl = `${options.publicUrl}/webhooks/${WEBHOOK_PATHS[spec.type as keyof typeof WEBHOOK_PATHS]}/${id}`;
    channels[spec.name] = id;
  }
  scriptSimulators(options.sims);

  // The first broadcast seeded and the last: both there is a whole demo; only the first, an interrupted one.
  const query = new URLSearchParams([
    ['name', FIRST_SEEDED],
    ['name', LAST_SEEDED],
  ]);
  const found = (await api.call<{ data: { name: string }[] }>('GET', `/api/v1/broadcasts?${query}`)).data;
  const names = new Set(found.map((b) => b.name));
  if (names.has(LAST_SEEDED)) return { seeded: false, channels, sending: [] };
  if (names.has(FIRST_SEEDED))
    throw new Error(
      'The demo workspace was left half-built by an interrupted first start. Delete the data/ folder (the demo ' +
        'database and demo-credentials.json) and run npm start again.',
    );
  return { seeded: true, channels, sending: await seedScenarios(api, channels) };
}

const chatId = (n: number) => String(800_000_000 + n);
const psid = (n: number) => `demo-psid-${n}`;
const digits = (p: DemoPerson) => p.phone.slice(1);

/** What each provider does to whom; in memory in the simulators, so applied at every start. */
function scriptSimulators(sims: DemoSimulators): void {
  // S1's channel reports as WhatsApp does: every message taken is delivered, and 60 % of them read
  // (signed status webhooks), so the demo shows the delivery funnel as it fills.
  sims.whatsappVentas.setDefault({ kind: 'deliverLater', delayMs: 300, readShare: 0.6 });
  // S6: the contact who blocked the business, on every channel.
  const blocker = person(0, BLOCK.s6);
  sims.telegram.script(chatId(0), { kind: 'fail', code: '403', message: 'Forbidden: bot was blocked by the user' });
  sims.messenger.script(psid(0), { kind: 'fail', code: '551' });
  sims.twilio.script(blocker.phone, { kind: 'fail', code: '21610' });
  sims.whatsappSoporte.script(digits(blocker), { kind: 'fail', code: '131050' });
  // S7: throttled by WhatsApp (130429), retried and sent.
  for (const n of [1, 2, 3]) sims.whatsappSoporte.script(digits(person(n, BLOCK.s7)), { kind: 'throttle', times: 1 });
  // S10: accepted now, failed later by the provider's signed callback.
  sims.whatsappSoporte.script(digits(person(0, BLOCK.s10)), { kind: 'failLater', code: '131049', delayMs: 500 });
  sims.whatsappSoporte.script(digits(person(1, BLOCK.s10)), { kind: 'failLater', code: '131026', delayMs: 700 });
  sims.twilio.script(person(2, BLOCK.s10).phone, { kind: 'failLater', code: '30003', delayMs: 500 });
  sims.twilio.script(person(3, BLOCK.s10).phone, { kind: 'failLater', code: '30007', delayMs: 700 });
  // A broadcast that fails for several reasons, each with its own useful re-send time: 131049 (the
  // person's marketing limit: in 24 h), 131000 (WhatsApp's error: now), 131026 (not on WhatsApp:
  // never), 131050 (stopped marketing messages: an opt-out, left out of every later broadcast).
  const mixed = (n: number) => digits(person(n, BLOCK.mixed));
  sims.whatsappSoporte.script(mixed(0), { kind: 'fail', code: '131049' });
  sims.whatsappSoporte.script(mixed(1), { kind: 'fail', code: '131049' });
  sims.whatsappSoporte.script(mixed(2), { kind: 'fail', code: '131000' });
  sims.whatsappSoporte.script(mixed(3), { kind: 'fail', code: '131026' });
  sims.whatsappSoporte.script(mixed(4), { kind: 'fail', code: '131050' });
  // A provider's error text holding HTML: the log, the export and the extension must show it as text.
  sims.twilio.script(person(4, BLOCK.s10).phone, {
    kind: 'fail',
    code: '21211',
    message: "The 'To' number <b>+5491145000004</b> is not a valid phone number.",
  });
}

async function seedScenarios(api: DemoApi, ch: Record<string, number>): Promise<number[]> {
  const sending: number[] = [];
  const id = (name: string) => ch[name] as number;

  async function importPeople(people: DemoPerson[], tags: string[]): Promise<void> {
    const csv = ['first_name,last_name,phone', ...people.map((p) => `${p.firstName},${p.lastName},${p.phone}`)];
    const form = new FormData();
    form.set('file', new Blob([csv.join('\n')], { type: 'text/csv' }), 'demo.csv');
    form.set('mode', 'add');
    form.set('identifier', 'phone');
    form.set('tags', tags.join(','));
    await api.call('POST', '/api/v1/imports/contacts', form);
  }
  const contact = (body: Json) => api.call<{ id: number }>('POST', '/api/v1/contacts', body);
  const segment = (name: string, tag: string) =>
    api.call<{ id: number }>('POST', '/api/v1/segments', {
      name,
      filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: [tag] }] }] },
    });
  async function broadcast(body: Json, at?: string): Promise<number> {
    const created = await api.call<{ id: number }>('POST', '/api/v1/broadcasts', body);
    await api.call('POST', `/api/v1/broadcasts/${created.id}/schedule`, at ? { at } : {});
    if (!at) sending.push(created.id);
    return created.id;
  }
  const range = (count: number, block: number) => Array.from({ length: count }, (_, n) => person(n, block));

  // S1: 1,500 contacts, a WhatsApp channel limited to 1,000 a day: 1,000 sent, 500 wait for the quota.
  await importPeople(range(1500, BLOCK.s1), ['black friday']);
  const s1 = await segment('Black Friday', 'black friday');
  await broadcast({ name: 'Black Friday', channelId: id('WhatsApp ventas'), segmentId: s1.id, content: TEMPLATE });

  // S2: scheduled two days ahead to 100; then 5 enter the segment and 2 leave it.
  await importPeople(range(100, BLOCK.s2), ['aniversario']);
  const s2 = await segment('Aniversario', 'aniversario');
  const inTwoDays = new Date(Date.now() + 2 * 86_400_000).toISOString();
  await broadcast(
    { name: 'Promo aniversario', channelId: id('WhatsApp soporte'), segmentId: s2.id, content: TEMPLATE },
    inTwoDays,
  );
  await importPeople(
    Array.from({ length: 5 }, (_, n) => person(100 + n, BLOCK.s2)),
    ['aniversario'],
  );
  for (const n of [0, 1]) {
    await api.call('DELETE', `/api/v1/contacts/phone:${encodeURIComponent(person(n, BLOCK.s2).phone)}/tags`, {
      tags: ['aniversario'],
    });
  }

  // S3 and S4 on SMS: a duplicate phone (two contacts, one message) and a malformed number (not attempted).
  await importPeople(range(20, BLOCK.s3), ['recordatorio']);
  const twin = person(0, BLOCK.s3);
  await contact({
    firstName: twin.firstName,
    lastName: `${twin.lastName} (duplicado)`,
    phone: twin.phone,
    tags: ['recordatorio'],
  });
  await contact({ firstName: 'Pedro', lastName: 'Número Roto', phone: '11 5555', tags: ['recordatorio'] });
  const s3 = await segment('Recordatorio de turno', 'recordatorio');
  await broadcast({
    name: 'Recordatorio de turno',
    channelId: id('SMS Twilio'),
    segmentId: s3.id,
    content: { text: 'Le recordamos su turno de mañana. Responda STOP para no recibir más mensajes.' },
  });

  // S6: the same contacts on Telegram, Messenger, SMS and WhatsApp; one of them blocked the business.
  const s6People = range(10, BLOCK.s6);
  for (const [n, p] of s6People.entries()) {
    await contact({
      ...p,
      tags: ['novedades'],
      identifiers: [
        { channelId: id('Telegram novedades'), identifier: chatId(n) },
        { channelId: id('Messenger tienda'), identifier: psid(n) },
      ],
    });
  }
  const s6 = await segment('Novedades', 'novedades');
  await broadcast({
    name: 'Novedades de la semana',
    channelId: id('Telegram novedades'),
    segmentId: s6.id,
    content: { text: 'Novedades de la semana: llegaron los nuevos modelos.' },
  });
  await broadcast({
    name: 'Estado de su cuenta',
    channelId: id('Messenger tienda'),
    segmentId: s6.id,
    content: { text: 'Su cuenta fue actualizada.', messengerTag: 'ACCOUNT_UPDATE' },
  });
  await broadcast({
    name: 'Novedades por SMS',
    channelId: id('SMS Twilio'),
    segmentId: s6.id,
    content: { text: 'Novedades' },
  });

  // S7: a send rate above the channel's 20/s: warned, never exceeded; WhatsApp's 130429 retried, not failed.
  await importPeople(range(60, BLOCK.s7), ['encuesta']);
  const s7 = await segment('Encuesta', 'encuesta');
  await broadcast({
    name: 'Encuesta de satisfacción',
    channelId: id('WhatsApp soporte'),
    segmentId: s7.id,
    content: TEMPLATE,
    sendRate: 50,
  });

  // S8: the reference page's segment errors: an empty target, and a target deleted after scheduling.
  const empty = await segment('Clientes inactivos', 'nadie tiene esta etiqueta');
  await broadcast({ name: 'Reactivación', channelId: id('WhatsApp soporte'), segmentId: empty.id, content: TEMPLATE });
  const temporary = await segment('Segmento temporal', 'encuesta');
  await broadcast(
    { name: 'Campaña temporal', channelId: id('WhatsApp soporte'), segmentId: temporary.id, content: TEMPLATE },
    new Date(Date.now() + 3_000).toISOString(),
  );
  await api.call('DELETE', `/api/v1/segments/${temporary.id}`);

  // S10: accepted, then failed by the provider's callback (WhatsApp 131049 / 131026, Twilio 30003 / 30007).
  await importPeople(range(12, BLOCK.s10), ['confirmacion']);
  const s10 = await segment('Confirmación de pedido', 'confirmacion');
  await broadcast({
    name: 'Confirmación de pedido',
    channelId: id('WhatsApp soporte'),
    segmentId: s10.id,
    content: TEMPLATE,
  });
  await broadcast({
    name: 'Confirmación por SMS',
    channelId: id('SMS Twilio'),
    segmentId: s10.id,
    content: { text: 'Su pedido fue confirmado.' },
  });
  // Mixed reasons: the one-click re-send splits them by useful time ("1 ahora, 2 mañana 10:21").
  await importPeople(range(12, BLOCK.mixed), ['liquidacion']);
  const mixed = await segment('Liquidación', 'liquidacion');
  await broadcast({
    name: 'Liquidación de invierno',
    channelId: id('WhatsApp soporte'),
    segmentId: mixed.id,
    content: TEMPLATE,
  });
  // S5 (Instagram, website chat) and S9 (export, filter, re-import, segment, re-send) need no seeding:
  // the refused channels exist, and S1's failures are there to export.
  return sending;
}
