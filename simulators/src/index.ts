export * from './base';
export { startMessageBirdSimulator } from './messagebird';
export { startMessengerSimulator } from './messenger';
export { startTelegramSimulator } from './telegram';
export { startTwilioSimulator } from './twilio';
export { startVonageSimulator } from './vonage';
export {
  startWhatsAppSimulator,
  whatsappAccountWebhook,
  whatsappInboundWebhook,
  whatsappUserPreferencesWebhook,
} from './whatsapp';
