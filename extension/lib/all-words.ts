/** Registers every language's words (lib/words.ts) for a surface that bundles them: not the content script. */
import { setRegion } from '@rebound/shared/i18n';
import { setWords } from './i18n';
import { words } from './words';

setWords('es', words.es);
setWords('en', words.en);
setWords('pt', words.pt);
// Numbers and dates as the browser's region writes them (es-MX: 1,500; es-AR: 1.500).
setRegion(globalThis.navigator?.language);
