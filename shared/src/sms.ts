/**
 * How an SMS body is billed: GSM-7 when every character is in the GSM 03.38 alphabet (160 characters in
 * one segment, 153 a segment when split), otherwise UCS-2 (70, and 67 when split). Characters of the
 * GSM extension table (€ [ ] { } \ ~ ^ |) take two places. UCS-2 counts UTF-16 code units, so an emoji
 * takes two. One accent outside GSM-7 ("ó" is not in it; "é" is) turns the whole message UCS-2.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';

export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  /** Places the text takes in its encoding. */
  units: number;
  segments: number;
}

export function smsSegments(text: string): SmsSegments {
  let units = 0;
  let gsm = true;
  for (const char of text) {
    if (GSM_BASIC.includes(char)) units += 1;
    else if (GSM_EXTENDED.includes(char)) units += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return { encoding: 'GSM-7', units, segments: units <= 160 ? 1 : Math.ceil(units / 153) };
  const ucs = text.length;
  return { encoding: 'UCS-2', units: ucs, segments: ucs <= 70 ? 1 : Math.ceil(ucs / 67) };
}
