/**
 * The teaching bar: picking mode (a box follows the pointer; a click picks instead of following the
 * page's link), then what the derived selector finds, then saving it through the background.
 */
import { signal } from '@preact/signals';
import { setRegion } from '@rebound/shared/i18n';
import { render } from 'preact';
import cardCss from '../../components/card.css?inline';
import shadowHostCss from '../../components/shadow-host.css?inline';
import { setWords } from '../../lib/i18n';
import { ask, sendMessage } from '../../lib/messaging';
import { linkIdIn, textOf } from '../../lib/site-adapters';
import {
  type DerivedSelector,
  deriveNameSelector,
  linkIdPatternOf,
  nameElementOf,
  pathPatternOf,
} from '../../lib/teach';
import { onlyTheAgent } from '../../lib/trust';
import { teachText } from './messages';
import teachCss from './teach.css?inline';

type Step =
  | { kind: 'picking' }
  | { kind: 'found'; derived: DerivedSelector; linkId: string | undefined; matches: Element[] }
  | { kind: 'none' }
  | { kind: 'saved' }
  | { kind: 'error'; message: string };

const HOST = 'data-rebound';
const SHOWN_NAMES = 5;
const MAX_BOXES = 60;

export async function startTeaching(win: Window): Promise<void> {
  const doc = win.document;
  // A second click on "enseñar" while teaching: the bar already there keeps going.
  if (doc.querySelector(`[${HOST}="teach"]`)) return;
  const context = await ask(sendMessage('context'));
  setWords(context.language, context.words);
  setRegion(win.navigator.language);
  const language = context.language;
  const t = (key: Parameters<typeof teachText>[1], params?: Record<string, string | number>) =>
    teachText(language, key, params);

  const host = doc.createElement('div');
  host.setAttribute(HOST, 'teach');
  const root = host.attachShadow({ mode: 'open' });
  // The page's scripts reach an open root: its Save must be the agent's click, not the page's click().
  onlyTheAgent(root);
  const style = doc.createElement('style');
  style.textContent = `${cardCss}\n${shadowHostCss}\n${teachCss}`;
  root.append(style);
  const mountPoint = doc.createElement('div');
  root.append(mountPoint);
  doc.body.append(host);

  const step = signal<Step>({ kind: 'picking' });
  const hovered = signal<DOMRect | null>(null);

  const ours = (event: Event) => event.composedPath().includes(host);
  /** The check of the last pick's link pattern (rebounds): a save waits for it. */
  let linkCheck: Promise<string | undefined> = Promise.resolve(undefined);
  // Only the agent's own pointer picks: a page's dispatched click would choose what gets learned.
  const onMove = (event: MouseEvent) => {
    if (!event.isTrusted || step.value.kind !== 'picking' || ours(event)) return;
    const target = event.target instanceof Element ? nameElementOf(event.target) : null;
    hovered.value = target ? target.getBoundingClientRect() : null;
  };
  // Captured on the window, before the page's own handlers: picking a name must not follow its link.
  const onClick = (event: MouseEvent) => {
    if (ours(event) || step.value.kind !== 'picking') return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (!event.isTrusted || !(event.target instanceof Element)) return;
    const derived = deriveNameSelector(event.target);
    hovered.value = null;
    if (!derived) {
      step.value = { kind: 'none' };
      return;
    }
    const matches = [...doc.querySelectorAll(derived.selector)];
    const found = { kind: 'found' as const, derived, linkId: undefined, matches };
    step.value = found;
    const pattern = linkIdPatternOf(nameElementOf(event.target), matches);
    linkCheck = pattern ? rebounds(pattern, matches) : Promise.resolve(undefined);
    void linkCheck.then((linkId) => {
      // Said only once checked, and only if the agent is still looking at this pick.
      if (linkId && step.value === found) step.value = { ...found, linkId };
    });
  };
  const swallow = (event: Event) => {
    if (!ours(event) && step.value.kind === 'picking') {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') finish();
  };
  win.addEventListener('mousemove', onMove, true);
  win.addEventListener('click', onClick, true);
  for (const type of ['mousedown', 'mouseup', 'pointerdown', 'pointerup', 'auxclick'] as const)
    win.addEventListener(type, swallow, true);
  win.addEventListener('keydown', onKey, true);

  function finish() {
    win.removeEventListener('mousemove', onMove, true);
    win.removeEventListener('click', onClick, true);
    for (const type of ['mousedown', 'mouseup', 'pointerdown', 'pointerup', 'auxclick'] as const)
      win.removeEventListener(type, swallow, true);
    win.removeEventListener('keydown', onKey, true);
    render(null, mountPoint);
    host.remove();
  }

  /**
   * The link pattern, when its numbers are Rebound's broadcasts: a helpdesk's links carry its own IDs,
   * which name other broadcasts in Rebound (or none). Kept when Rebound knows some of them, each by the
   * name on its row; otherwise the names alone find the broadcasts.
   */
  async function rebounds(pattern: string, names: Element[]): Promise<string | undefined> {
    const rows = names.map((element) => ({ id: linkIdIn(element, pattern), name: textOf(element) }));
    try {
      const ids = rows.flatMap((row) => (row.id === undefined ? [] : [row.id])).slice(0, 100);
      const known = await ask(sendMessage('findBroadcasts', { names: [], ids }));
      const agrees = known.every((b) => rows.some((row) => row.id === b.id && row.name === b.name));
      return known.length > 0 && agrees ? pattern : undefined;
    } catch {
      return undefined;
    }
  }

  async function save(found: Extract<Step, { kind: 'found' }>) {
    try {
      const linkId = await linkCheck;
      await ask(
        sendMessage('learnSite', {
          path: pathPatternOf(win.location.pathname),
          names: found.derived.selector,
          ...(linkId && { linkId }),
          ...(found.derived.list && { list: found.derived.list }),
          sample: found.derived.names.slice(0, SHOWN_NAMES),
        }),
      );
      step.value = { kind: 'saved' };
    } catch (error) {
      step.value = { kind: 'error', message: (error as Error).message };
    }
  }

  function Bar() {
    const current = step.value;
    const boxes =
      current.kind === 'found'
        ? current.matches.slice(0, MAX_BOXES).map((element) => element.getBoundingClientRect())
        : hovered.value
          ? [hovered.value]
          : [];
    return (
      <>
        {boxes.map((box, i) => (
          <div
            key={i}
            class="rb-teach-box"
            style={{ top: `${box.top}px`, left: `${box.left}px`, width: `${box.width}px`, height: `${box.height}px` }}
          />
        ))}
        <section class="rb-card rb-teach" role="dialog" aria-label={t('teachTitle')} data-testid="rebound-teach">
          <h2 class="rb-title">{t('teachTitle')}</h2>
          {current.kind === 'picking' && (
            <>
              <p aria-live="polite">{t('teachPick')}</p>
              <p class="rb-muted">{t('teachPickHint')}</p>
            </>
          )}
          {current.kind === 'none' && (
            <p role="alert" class="rb-error">
              {t('teachNone')}
            </p>
          )}
          {current.kind === 'found' && (
            <>
              <p aria-live="polite" data-testid="teach-found">
                {t('teachFound', { count: current.derived.names.length })}
              </p>
              <ul class="rb-teach-names">
                {current.derived.names.slice(0, SHOWN_NAMES).map((name, i) => (
                  <li key={i}>{name}</li>
                ))}
                {current.derived.names.length > SHOWN_NAMES && (
                  <li class="rb-muted">{t('teachMore', { count: current.derived.names.length - SHOWN_NAMES })}</li>
                )}
              </ul>
              {current.linkId && <p class="rb-muted">{t('teachFoundLinked')}</p>}
            </>
          )}
          {current.kind === 'saved' && <p aria-live="polite">{t('teachSaved')}</p>}
          {current.kind === 'error' && (
            <p role="alert" class="rb-error">
              {current.message}
            </p>
          )}
          <p class="rb-actions">
            {current.kind === 'found' && (
              <button type="button" class="rb-primary" onClick={() => void save(current)}>
                {t('teachSave', { origin: win.location.host })}
              </button>
            )}
            {(current.kind === 'found' || current.kind === 'none' || current.kind === 'error') && (
              <button type="button" class="rb-secondary" onClick={() => (step.value = { kind: 'picking' })}>
                {t('teachAgain')}
              </button>
            )}
            <button type="button" class="rb-link" onClick={finish}>
              {t(current.kind === 'saved' ? 'teachClose' : 'teachCancel')}
            </button>
          </p>
        </section>
      </>
    );
  }
  render(<Bar />, mountPoint);
}
