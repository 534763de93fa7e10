import type { JSX } from 'preact';

/**
 * A button of the card: never a form's submit (the card has no form), it acts by its onClick. One
 * place for type="button", which every helpdesk page otherwise downloads once per button.
 */
export function Button(props: JSX.ButtonHTMLAttributes<HTMLButtonElement>) {
  return <button type="button" {...props} />;
}
