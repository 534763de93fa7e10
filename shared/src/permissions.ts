/**
 * Who may do what. A role includes every permission of the roles below it (agent < manager < owner).
 * Agents live in the helpdesk: they read failures, tag contacts and re-send failed messages.
 * Managers run the sending: channel settings, segments and broadcasts. Owners also manage tokens.
 */
export const ROLES = ['agent', 'manager', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export const permissions = {
  'contacts:read': 'agent',
  'contacts:write': 'agent',
  'contacts:tag': 'agent',
  'contacts:merge': 'manager',
  'channels:read': 'agent',
  'channels:write': 'manager',
  'segments:read': 'agent',
  'segments:write': 'manager',
  'broadcasts:read': 'agent',
  'broadcasts:write': 'manager',
  'failures:read': 'agent',
  'failures:resend': 'agent',
  'tokens:manage': 'owner',
} as const satisfies Record<string, Role>;
export type Permission = keyof typeof permissions;

export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(permissions[permission]);
}
