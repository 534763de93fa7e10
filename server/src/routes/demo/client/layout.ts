/** The page's frame: the header and <main>, and what a page renderer answers. */
import { type Child, h, nodes } from './dom';
import { session, t } from './state';

const root = document.getElementById('app');
let main = h('main', { class: 'hd-main', id: 'hd-main' });

/** Puts a fresh frame in #app under `header`; the page's content then goes into its <main>. */
export function layout(header: Node) {
  document.documentElement.lang = session.lang;
  main = h('main', { class: 'hd-main', id: 'hd-main' });
  root?.replaceChildren(header, main);
  return main;
}

export function loading() {
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(h('p', { class: 'hd-loading' }, t('loading')));
}

export function show(...children: Child[]) {
  main.removeAttribute('aria-busy');
  main.replaceChildren(...nodes(children));
}

/** What a page renderer answers: the document title and the content of <main>. */
export interface View {
  title: string;
  nodes: Child[];
}

export function view(title: string, ...children: Child[]): View {
  return { title, nodes: children };
}
