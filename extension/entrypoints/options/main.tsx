import { render } from 'preact';
import '../../lib/all-words';
import '../../components/card.css';
import './options.css';
import { resolveLanguage } from '../../lib/i18n';
import { connectionItem, settingsItem } from '../../lib/settings';
import { App } from './App';

const root = document.getElementById('app');
void Promise.all([settingsItem.getValue(), connectionItem.getValue()]).then(([settings, connection]) => {
  const language = resolveLanguage(settings.language, navigator.language, connection?.workspace.language);
  document.documentElement.lang = language;
  if (root) render(<App initialSettings={settings} initialConnection={connection} />, root);
});
