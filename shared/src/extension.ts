/**
 * The extension's identity. The manifest's public key fixes its ID, so the server can allow exactly this
 * origin (CORS) and tests can open its pages. Only the public half is here; nothing is signed with it.
 */
export const EXTENSION_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzid5RuUygFeGSJ7QusTl2BBsop3j7Vuzn2slRCtcK7smzMRCpj9k5ZTc99duF59kj8bqV4MyWUwRTs45IDHxhnS0Y0nKEiTdD/3KHGOJT0X1Q9U8jG2GaqCVi232MkLXnNsDsRUTct5xlmTGnaLVabf/xVbstEMoaknolVxJB4yEaTxnNp3FprypwBEoVS2j0nWp46MtTLMEpzBXDhvx9yUMWKw2R94isNS+++glAeBVwtDdUPgsLAJzcCitT4gBUi8GjNzaiNAqEjPHVJary6LZ8ItJvx0/MmrtZDURleTgUxAdwg97REx9qWaOVe5uO31RtZkRYOiHoRCMZpweXQIDAQAB';

/** chrome-extension://<this>: derived from the key (the first 128 bits of its SHA-256, as letters a-p). */
export const EXTENSION_ID = 'jbnehngmiioembidhppmaliinadhbaco';

export const EXTENSION_ORIGIN = `chrome-extension://${EXTENSION_ID}`;
