import { render } from 'preact';
import '../../lib/all-words';
import '../../components/card.css';
import './popup.css';
import { ask, sendMessage } from '../../lib/messaging';
import { connectionItem, connectionKey } from '../../lib/settings';
import { App } from './App';

// Opened from a notification's "see reasons" as popup.html?broadcast=<id>, in a tab.
const requested = new URLSearchParams(location.search).get('broadcast');

// Connected to another server or workspace while this stays open (such a tab can): its broadcast IDs name
// other broadcasts there, so it starts again from the list rather than act on the same number.
void connectionKey().then((opened) =>
  connectionItem.watch(async () => {
    if ((await connectionKey()) !== opened) location.replace(location.pathname);
  }),
);
const root = document.getElementById('app');
void ask(sendMessage('context')).then((context) => {
  document.documentElement.lang = context.language;
  if (root)
    render(
      <App
        language={context.language}
        configured={context.configured}
        initialBroadcast={requested && /^\d+$/.test(requested) ? Number(requested) : null}
      />,
      root,
    );
});
