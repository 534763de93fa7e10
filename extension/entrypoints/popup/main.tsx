import { render } from 'preact';
import '../../lib/all-words';
import '../../components/card.css';
import './popup.css';
import { ask, sendMessage } from '../../lib/messaging';
import { App } from './App';

// Opened from a notification's "see reasons" as popup.html?broadcast=<id>, in a tab.
const requested = new URLSearchParams(location.search).get('broadcast');
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
