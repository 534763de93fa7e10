import { defineContentScript } from 'wxt/utils/define-content-script';
import cardCss from '../../components/card.css?inline';
import shadowHostCss from '../../components/shadow-host.css?inline';
import { mountOverlay } from '../../overlay/mount';
import overlayCss from '../../overlay/overlay.css?inline';

export default defineContentScript({
  // Registered by the background for the helpdesk sites the agent allowed in the options. These matches are
  // the local server's own pages (the demo helpdesk), granted at install.
  registration: 'runtime',
  matches: ['http://127.0.0.1/*', 'http://localhost/*'],
  main(ctx) {
    void mountOverlay(window, `${cardCss}\n${shadowHostCss}\n${overlayCss}`).then((overlay) => {
      if (overlay) ctx.onInvalidated(() => overlay.destroy());
    });
  },
});
