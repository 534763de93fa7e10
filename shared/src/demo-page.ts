/**
 * The demo helpdesk's page contract: what the page at /demo (server/src/routes/demo/client) renders and the
 * extension's site adapter (extension/lib/site-adapters.ts) reads. Both import these, so they cannot drift.
 * Plain string constants: a bundler inlines them, and the content script's size budget stays as it is.
 */

/** The attribute naming what a table lists, and its values. */
export const DEMO_LIST_ATTRIBUTE = 'data-list';
export const DEMO_BROADCAST_LIST = 'broadcasts';
export const DEMO_FAILED_MESSAGE_LIST = 'failed-messages';
export const DEMO_CONTACT_LIST = 'contacts';

/** A table cell whose text is a broadcast's name, holding a link to /demo/broadcasts/<id>. */
export const DEMO_BROADCAST_NAME = 'hd-broadcast-name';
/** The h1 of a broadcast's page: its name. */
export const DEMO_BROADCAST_TITLE = 'hd-broadcast-title';
/** A contact page's phone and e-mail. */
export const DEMO_CONTACT_PHONE = 'hd-contact-phone';
export const DEMO_CONTACT_EMAIL = 'hd-contact-email';
