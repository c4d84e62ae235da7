import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE, IErrorBody, ISiteInfo } from './tokens';

/**
 * The reason of an error raised when the server extension cannot be reached:
 * the URL is unknown to the server (404), or the request failed altogether.
 */
export const SERVER_EXTENSION_MISSING = 'server-extension-missing';

/**
 * The reason of an error raised when a successful answer is not JSON.
 */
export const INVALID_RESPONSE = 'invalid-response';

/**
 * The reason of an error answer that carries no reason of its own.
 */
export const HTTP_ERROR = 'http-error';

/**
 * An error of the jupyter_envmod server API.
 */
export class EnvModAPIError extends Error {
  constructor(options: EnvModAPIError.IOptions) {
    super(options.message);
    this.name = 'EnvModAPIError';
    this.status = options.status;
    this.reason = options.reason;
    this.details = options.details ?? {};
  }

  /**
   * The HTTP status of the answer, or `null` when there was no answer.
   */
  readonly status: number | null;

  /**
   * A stable code for the error, e.g. "invalid-configuration".
   */
  readonly reason: string;

  /**
   * Structured details sent by the server.
   */
  readonly details: { [key: string]: unknown };
}

/**
 * The namespace for `EnvModAPIError` statics.
 */
export namespace EnvModAPIError {
  /**
   * The options to create an error.
   */
  export interface IOptions {
    message: string;
    status: number | null;
    reason: string;
    details?: { [key: string]: unknown };
  }
}

/**
 * Call the jupyter_envmod server API.
 *
 * @param endPoint - The path below `<baseUrl>/envmod/`, with an optional query.
 * @param init - The request options.
 * @param settings - The server connection settings; defaults to the page's.
 * @returns The parsed JSON answer (`undefined` for an empty answer).
 * @throws {EnvModAPIError} When the server cannot be reached or answers
 *   with an error.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new EnvModAPIError({
      message: `Could not reach ${url}: ${String(error)}`,
      status: null,
      reason: SERVER_EXTENSION_MISSING,
      details: { url }
    });
  }

  const text = await response.text();
  let data: unknown = undefined;
  let parsed = false;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
      parsed = true;
    } catch {
      // Not JSON: handled below.
    }
  }

  if (response.ok) {
    if (text.length > 0 && !parsed) {
      throw new EnvModAPIError({
        message: `The answer of ${url} is not JSON.`,
        status: response.status,
        reason: INVALID_RESPONSE,
        details: { url, body: text.slice(0, 500) }
      });
    }
    return data as T;
  }

  const body = Private.asErrorBody(data);
  // A 404 that does not come from the extension (no reason of its own, e.g.
  // the server's HTML "page not found") means the URL is not served at all.
  if (response.status === 404 && !body.reason) {
    throw new EnvModAPIError({
      message:
        body.message ||
        `${url} was not found: the jupyter_envmod server extension is not running.`,
      status: 404,
      reason: SERVER_EXTENSION_MISSING,
      details: { url, ...body.details }
    });
  }
  throw new EnvModAPIError({
    message:
      body.message ||
      `${response.status} ${response.statusText}`.trim() ||
      `Request to ${url} failed.`,
    status: response.status,
    reason: body.reason || HTTP_ERROR,
    details: body.details
  });
}

/**
 * Read the site information.
 *
 * @param refresh - Ask the server to detect the site again instead of
 *   answering from what it found before.
 * @param settings - The server connection settings; defaults to the page's.
 */
export function getSite(
  refresh = false,
  settings?: ServerConnection.ISettings
): Promise<ISiteInfo> {
  return requestAPI<ISiteInfo>(
    refresh ? 'site?refresh=1' : 'site',
    { method: 'GET' },
    settings
  );
}

/**
 * A namespace for private module data.
 */
namespace Private {
  /**
   * Read an error body tolerantly: any field may be missing.
   */
  export function asErrorBody(data: unknown): IErrorBody {
    const body: IErrorBody = { message: '', reason: '', details: {} };
    if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
      const record = data as { [key: string]: unknown };
      if (typeof record.message === 'string') {
        body.message = record.message;
      }
      if (typeof record.reason === 'string') {
        body.reason = record.reason;
      }
      if (
        record.details !== null &&
        typeof record.details === 'object' &&
        !Array.isArray(record.details)
      ) {
        body.details = record.details as { [key: string]: unknown };
      }
    }
    return body;
  }
}
