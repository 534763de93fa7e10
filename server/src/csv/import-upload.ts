/**
 * The multipart upload of an import, streamed to a file on disk as it arrives (busboy), never held in
 * memory: six 20 MB uploads at once cost six small buffers, not 120 MB plus copies. The form's other
 * fields are small and checked with the shared schema, as every other request body is.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { IMPORT_LIMITS, type ImportForm, ImportFormSchema, type Language } from '@rebound/shared';
import busboy from 'busboy';
import { refuseControlCharacters, validationDetails } from '../lib/body';
import { ApiError } from '../lib/errors';
import { fileTooLarge } from './import-decode';

export interface ReceivedImport {
  form: ImportForm;
  /** The uploaded file on disk; remove `dir` once done with it. */
  path: string;
  dir: string;
}

const malformed = (language: Language) =>
  new ApiError(422, 'validation_failed', {}, [
    {
      path: 'form',
      message: {
        es: 'El cuerpo no es un formulario multipart/form-data válido: envíe el archivo en el campo "file".',
        en: 'The body is not a valid multipart/form-data form: send the file in the "file" field.',
        pt: 'O corpo não é um formulário multipart/form-data válido: envie o arquivo no campo "file".',
      }[language],
    },
  ]);

/** Short fields only: a form with a 1 MB "mode" is no form of ours. */
const FIELD_BYTES = 64 * 1024;

/**
 * Reads the multipart body: the `file` part to a temporary file, the other fields to strings (a field
 * given twice, such as `tags`, to a list). Refuses a file over the limit with 413 while it arrives, and
 * a form the schema refuses with 422 validation_failed, in the request's language.
 */
export async function receiveImportUpload(request: Request, language: Language): Promise<ReceivedImport> {
  const contentType = request.headers.get('content-type') ?? '';
  const dir = await mkdtemp(join(tmpdir(), 'rebound-upload-'));
  const path = join(dir, 'upload.csv');
  try {
    const fields: Record<string, string | string[]> = {};
    let file: { name: string; size: number } | undefined;
    if (/^multipart\/form-data/i.test(contentType) && request.body) {
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: { 'content-type': contentType },
          limits: { files: 5, fields: 50, parts: 60, fieldSize: FIELD_BYTES, fileSize: IMPORT_LIMITS.maxBytes + 1 },
        });
      } catch {
        throw malformed(language);
      }
      const writes: Promise<void>[] = [];
      let tooLarge = false;
      const misplaced: string[] = [];
      // More file parts than the 5 read: still a misplaced field, never a silent drop.
      parser.on('filesLimit', () => misplaced.push('file'));
      parser.on('field', (name, value) => {
        const previous = fields[name];
        fields[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
      });
      parser.on('file', (name, stream, info) => {
        if (name !== 'file' || file) {
          // A form field sent as a file (or a second file) is refused, never silently dropped: a dropped
          // "dryRun" would make a trial a real import.
          misplaced.push(name);
          stream.resume();
          return;
        }
        const received = { name: info.filename ?? '', size: 0 };
        file = received;
        stream.on('data', (chunk: Buffer) => {
          received.size += chunk.length;
        });
        stream.on('limit', () => {
          tooLarge = true;
        });
        writes.push(pipeline(stream, createWriteStream(path)));
      });
      try {
        await pipeline(Readable.fromWeb(request.body as WebReadableStream<Uint8Array>), parser);
        await Promise.all(writes);
      } catch (error) {
        // The body limit cut the stream: the file was over the limit.
        if (error instanceof ApiError) throw error;
        if (tooLarge || /limit|large/i.test(String((error as Error)?.message))) throw fileTooLarge();
        throw malformed(language);
      }
      if (tooLarge) throw fileTooLarge();
      if (misplaced.length)
        throw new ApiError(
          422,
          'validation_failed',
          {},
          misplaced.map((name) => ({
            path: `form.${name}`,
            message:
              name === 'file'
                ? {
                    es: 'Envíe un solo archivo por importación.',
                    en: 'Send one file per import.',
                    pt: 'Envie um único arquivo por importação.',
                  }[language]
                : {
                    es: `Envíe «${name}» como campo de texto, no como archivo.`,
                    en: `Send "${name}" as a text field, not as a file.`,
                    pt: `Envie "${name}" como campo de texto, não como arquivo.`,
                  }[language],
          })),
        );
    }
    const upload = file && {
      name: file.name,
      size: file.size,
      arrayBuffer: async () => {
        throw new Error('the upload is read from disk');
      },
    };
    const input = { ...fields, file: upload };
    const parsed = ImportFormSchema.safeParse(input);
    if (!parsed.success) {
      throw new ApiError(422, 'validation_failed', {}, validationDetails(parsed.error.issues, input, 'form', language));
    }
    const { file: _file, ...rest } = parsed.data;
    refuseControlCharacters({ ...rest, fileName: upload?.name }, 'form', language);
    return { form: parsed.data, path, dir };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
