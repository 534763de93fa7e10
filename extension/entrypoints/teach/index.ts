/**
 * "Enseñar esta página": run in a helpdesk tab by the background when the agent asks (never bundled
 * with the overlay, which loads on every page). The agent clicks one broadcast name; Rebound shows
 * what its derived selector finds and, once the agent agrees, saves it as this site's adapter.
 */
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { startTeaching } from './teach';

export default defineUnlistedScript(() => {
  void startTeaching(window);
});
