/**
 * Building the DOM. Every text from the API reaches it through textContent / text nodes (see h()), never
 * as HTML: provider error texts can hold markup.
 */
import { formatDate, t } from './state';

/** An attribute's value; null, undefined and false leave the attribute out, true sets it empty. */
type AttrValue = string | number | boolean | null | undefined | ((event: Event) => unknown);
export type Attrs = Record<string, AttrValue>;
/** What h() takes as children: nothing (null, undefined, false) is skipped, arrays are flattened. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

/**
 * Builds an element. Attributes are set with setAttribute, event handlers (onclick, onsubmit, …) with
 * addEventListener, and children (strings, numbers, nodes, arrays) are added as text nodes or nodes:
 * nothing is ever parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) {
      if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      el.className = String(value);
    } else if (name === 'text') {
      el.textContent = String(value);
    } else if (name !== 'style') {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  el.append(...nodes(children));
  return el;
}

/** The children as nodes, arrays flattened, with nothing (null, undefined, false) left out. */
export function nodes(children: readonly Child[]): Node[] {
  const out: Node[] = [];
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) out.push(...nodes(child));
    else out.push(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return out;
}

export function link(href: string, text: Child, attrs: Attrs = {}) {
  return h('a', { href, ...attrs }, text);
}

export function timeEl(iso: string | null) {
  return iso ? h('time', { datetime: iso }, formatDate(iso)) : '—';
}

export function errorBox(message: string) {
  return h('div', { class: 'hd-error', role: 'alert' }, message);
}

export function setTitle(text: string | null) {
  document.title = text ? `${text} · ${t('brand')}` : t('brand');
}

/** A term and its value in a <dl>. */
export function field(label: string, value: Child, ddClass?: string) {
  return [h('dt', null, label), h('dd', { class: ddClass ?? null }, value)];
}

export function tagList(tags: readonly string[]) {
  return tags.length
    ? h(
        'ul',
        { class: 'hd-tags' },
        tags.map((tag) => h('li', { class: 'hd-tag' }, tag)),
      )
    : null;
}

/** A "load more" button that calls more(cursor) and hides itself on the last page. */
export function loadMoreButton(firstCursor: string | null, more: (cursor: string) => Promise<string | null>) {
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
          const next = await more(cursor);
          if (next) {
            cursor = next;
            button.disabled = false;
          } else wrap.remove();
        } catch (error) {
          button.disabled = false;
          status.replaceChildren(errorBox(error instanceof Error ? error.message : String(error)));
        }
      },
    },
    t('loadMore'),
  );
  const wrap = h('div', { class: 'hd-more' }, button, status);
  return wrap;
}
