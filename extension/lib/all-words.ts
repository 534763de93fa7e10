/** Registers every language's words (lib/words.ts) for a surface that bundles them: not the content script. */
import { setWords } from './i18n';
import { words } from './words';

setWords('es', words.es);
setWords('en', words.en);
