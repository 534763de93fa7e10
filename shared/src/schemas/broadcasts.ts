import { z } from 'zod';

/** WhatsApp template: name, language and body parameters, as Meta's Cloud API takes them. */
export const WhatsAppTemplateSchema = z.object({
  name: z.string().min(1).max(512),
  language: z.string().min(2).max(15).meta({ example: 'es_AR' }),
  parameters: z.array(z.string().max(1024)).max(20).default([]),
});

export const MESSENGER_TAGS = ['CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE', 'HUMAN_AGENT'] as const;

/** What a broadcast sends. Text is always there: it is the preview and the SMS/Telegram body. */
export const BroadcastContentSchema = z
  .object({
    text: z.string().trim().min(1).max(4096),
    template: WhatsAppTemplateSchema.optional().meta({ description: 'WhatsApp only: needed outside the 24 h window.' }),
    messengerTag: z.enum(MESSENGER_TAGS).optional().meta({ description: 'Messenger only: needed outside the 24 h window.' }),
  })
  .meta({ example: { text: '¡Black Friday! 30% de descuento hoy.' } });
export type BroadcastContent = z.infer<typeof BroadcastContentSchema>;
