import { defineBackground } from 'wxt/utils/define-background';

export default defineBackground(() => {
  // The event stream, alarms and notifications arrive with the extension issue.
});
