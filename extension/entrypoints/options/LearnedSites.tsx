/** The pages the agent taught Rebound ("enseñar esta página"): what each finds, edited or removed here. */
import { useSignal } from '@preact/signals';
import type { Language } from '@rebound/shared/i18n';
import { useEffect } from 'preact/hooks';
import { type LearnedSite, learnedSiteProblem, selectorWorks } from '../../lib/learned-sites';
import { learnedSitesItem } from '../../lib/settings';
import { learnedText } from './learned-messages';

type Draft = Pick<LearnedSite, 'path' | 'names'> & { linkId: string };

export function LearnedSites({ language }: { language: Language }) {
  const t = (key: Parameters<typeof learnedText>[1], params?: Record<string, string | number>) =>
    learnedText(language, key, params);
  const sites = useSignal<LearnedSite[]>([]);
  const editing = useSignal<{ id: string; draft: Draft } | null>(null);
  const status = useSignal<{ tone: 'ok' | 'error'; text: string } | null>(null);
  useEffect(() => {
    void learnedSitesItem.getValue().then((value) => {
      sites.value = value;
    });
    // Taught in a tab while the options are open: the list follows.
    return learnedSitesItem.watch((value) => {
      sites.value = value ?? [];
    });
  }, []);

  async function saveEdit(site: LearnedSite, draft: Draft) {
    const next = { path: draft.path.trim(), names: draft.names.trim(), linkId: draft.linkId.trim() || undefined };
    const problem = learnedSiteProblem(next, (selector) => selectorWorks(document, selector));
    if (problem) {
      status.value = { tone: 'error', text: t(`learnedBad_${problem}`) };
      return;
    }
    const { linkId: _dropped, list, ...rest } = site;
    const updated: LearnedSite = {
      ...rest,
      path: next.path,
      names: next.names,
      ...(next.linkId && { linkId: next.linkId }),
      // The names or the pages edited by hand: the list they were rows of may be another now.
      ...(list && next.names === site.names && next.path === site.path && { list }),
    };
    await learnedSitesItem.setValue((await learnedSitesItem.getValue()).map((s) => (s.id === site.id ? updated : s)));
    editing.value = null;
    status.value = { tone: 'ok', text: t('learnedSaved', { origin: site.origin }) };
  }

  async function remove(site: LearnedSite) {
    await learnedSitesItem.setValue((await learnedSitesItem.getValue()).filter((s) => s.id !== site.id));
    status.value = { tone: 'ok', text: t('learnedRemoved', { origin: site.origin }) };
  }

  const field = (name: keyof Draft, label: string) => {
    const current = editing.value;
    if (!current) return null;
    return (
      <label class="rb-field">
        <span>{label}</span>
        <input
          class="rb-input"
          name={`learned-${name}`}
          value={current.draft[name]}
          spellcheck={false}
          onInput={(e) => {
            editing.value = {
              ...current,
              draft: { ...current.draft, [name]: (e.currentTarget as HTMLInputElement).value },
            };
          }}
        />
      </label>
    );
  };

  return (
    <fieldset data-testid="learned-sites">
      <legend>{t('learnedHeading')}</legend>
      <p class="rb-help">{t('learnedHelp')}</p>
      {sites.value.length === 0 && <p class="rb-help">{t('learnedNone')}</p>}
      <ul class="rb-sites">
        {sites.value.map((site) => (
          <li key={site.id} data-origin={site.origin}>
            <div>
              <strong>{site.origin}</strong> <code>{site.path}</code>
              {site.sample.length > 0 && (
                <p class="rb-help">{t('learnedSample', { names: site.sample.join(' · ') })}</p>
              )}
            </div>
            {editing.value?.id === site.id ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  const current = editing.value;
                  if (current) void saveEdit(site, current.draft);
                }}
              >
                {field('names', t('learnedNames'))}
                {field('path', t('learnedPath'))}
                {field('linkId', t('learnedLinkId'))}
                <button type="submit" class="rb-secondary">
                  {t('learnedSave')}
                </button>{' '}
                <button type="button" class="rb-link" onClick={() => (editing.value = null)}>
                  {t('learnedCancel')}
                </button>
              </form>
            ) : (
              <span>
                <button
                  type="button"
                  class="rb-link"
                  onClick={() =>
                    (editing.value = {
                      id: site.id,
                      draft: { path: site.path, names: site.names, linkId: site.linkId ?? '' },
                    })
                  }
                >
                  {t('learnedEdit')}
                </button>{' '}
                <button type="button" class="rb-link" onClick={() => void remove(site)}>
                  {t('learnedRemove')}
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      {status.value && (
        <p role="status" class={status.value.tone === 'error' ? 'rb-error' : 'rb-ok'}>
          {status.value.text}
        </p>
      )}
    </fieldset>
  );
}
