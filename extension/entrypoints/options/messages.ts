/**
 * The options page's own words: kept apart from lib/i18n.ts so that the content script, which every
 * helpdesk page loads, does not carry them.
 */
import type { Language } from '@rebound/shared/i18n';
import { withOwnWords } from '../../lib/i18n';

const messages = {
  es: {
    optionsTitle: 'Opciones de Rebound',
    backendUrl: 'URL del servidor de Rebound',
    token: 'Token de API',
    check: 'Comprobar y guardar',
    checking: 'Comprobando…',
    connected: 'Conectado a «{workspace}» como {role}.',
    sites: 'Páginas del helpdesk donde mostrar Rebound',
    sitesHelp: 'Un patrón por línea, por ejemplo https://app.suhelpdesk.com/*. El navegador le pedirá permiso.',
    addSite: 'Agregar',
    removeSite: 'Quitar',
    sitePlaceholder: 'https://app.suhelpdesk.com/*',
    badPattern: 'El patrón «{pattern}» no es válido: use http(s)://dominio/ruta con * como comodín.',
    permissionDenied: 'El navegador no dio permiso para {what}.',
    language: 'Idioma',
    languageAuto: 'Automático',
    notifications: 'Avisarme cuando',
    notifyFailedOption: 'una transmisión falla',
    notifyPartialOption: 'una transmisión falla en parte',
    notifyResendOption: 'un reenvío termina',
    saved: 'Guardado.',
    roleAgent: 'agente',
    roleManager: 'gerente',
    roleOwner: 'propietario',
  },
  en: {
    optionsTitle: 'Rebound options',
    backendUrl: 'Rebound server URL',
    token: 'API token',
    check: 'Check and save',
    checking: 'Checking…',
    connected: 'Connected to "{workspace}" as {role}.',
    sites: 'Helpdesk pages where Rebound shows',
    sitesHelp: 'One pattern per line, for example https://app.yourhelpdesk.com/*. The browser will ask for permission.',
    addSite: 'Add',
    removeSite: 'Remove',
    sitePlaceholder: 'https://app.yourhelpdesk.com/*',
    badPattern: 'The pattern "{pattern}" is not valid: use http(s)://host/path with * as a wildcard.',
    permissionDenied: 'The browser did not grant permission for {what}.',
    language: 'Language',
    languageAuto: 'Automatic',
    notifications: 'Tell me when',
    notifyFailedOption: 'a broadcast fails',
    notifyPartialOption: 'a broadcast partly fails',
    notifyResendOption: 'a re-send finishes',
    saved: 'Saved.',
    roleAgent: 'agent',
    roleManager: 'manager',
    roleOwner: 'owner',
  },
  pt: {
    optionsTitle: 'Opções do Rebound',
    backendUrl: 'URL do servidor do Rebound',
    token: 'Token de API',
    check: 'Verificar e salvar',
    checking: 'Verificando…',
    connected: 'Conectado a “{workspace}” como {role}.',
    sites: 'Páginas do helpdesk onde mostrar o Rebound',
    sitesHelp: 'Um padrão por linha, por exemplo https://app.seuhelpdesk.com/*. O navegador pedirá sua permissão.',
    addSite: 'Adicionar',
    removeSite: 'Remover',
    sitePlaceholder: 'https://app.seuhelpdesk.com/*',
    badPattern: 'O padrão “{pattern}” não é válido: use http(s)://domínio/caminho com * como curinga.',
    permissionDenied: 'O navegador não deu permissão para {what}.',
    language: 'Idioma',
    languageAuto: 'Automático',
    notifications: 'Avisar quando',
    notifyFailedOption: 'uma transmissão falhar',
    notifyPartialOption: 'uma transmissão falhar em parte',
    notifyResendOption: 'um reenvio terminar',
    saved: 'Salvo.',
    roleAgent: 'agente',
    roleManager: 'gerente',
    roleOwner: 'proprietário',
  },
};

/** A word of the options page, or one the whole extension shares. */
export const optionsText = withOwnWords(messages);

export function roleLabel(language: Language, role: string): string {
  const key = ({ agent: 'roleAgent', manager: 'roleManager', owner: 'roleOwner' } as const)[role as 'agent'];
  return key ? optionsText(language, key) : role;
}
