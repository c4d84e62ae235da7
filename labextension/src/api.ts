import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  API_NAMESPACE,
  IAvailableModules,
  ICreateRequest,
  IDoctorFixReport,
  IDoctorReport,
  IEnvironment,
  IEnvironmentDetails,
  IErrorBody,
  IKernelOptions,
  IKernelSpec,
  IModuleFile,
  IRevisionDetails,
  IModuleOptions,
  IOutdated,
  IPackage,
  IPackagesRequest,
  IRevision,
  IShare,
  ISearchResult,
  ISiteInfo,
  ITask,
  ExportFormat,
  EngineName
} from './tokens';

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
  const { url, response, text } = await Private.send(endPoint, init, settings);
  if (text.length === 0) {
    return undefined as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new EnvModAPIError({
      message: `The answer of ${url} is not JSON.`,
      status: response.status,
      reason: INVALID_RESPONSE,
      details: { url, body: text.slice(0, 500) }
    });
  }
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
 * A JSON request body.
 */
function post(body: unknown, method = 'POST'): RequestInit {
  return { method, body: JSON.stringify(body) };
}

/**
 * The URL part of an environment.
 */
function env(id: string, rest = ''): string {
  return `environments/${encodeURIComponent(id)}${rest}`;
}

/**
 * The calls of the jupyter_envmod REST API, bound to one server.
 *
 * Every method throws {@link EnvModAPIError} on failure; `details.field`
 * names the request field a 400 is about.
 */
export class EnvModClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  private _call<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }

  site(refresh = false): Promise<ISiteInfo> {
    return getSite(refresh, this.serverSettings);
  }

  environments(): Promise<IEnvironment[]> {
    return this._call('environments');
  }

  environment(id: string): Promise<IEnvironmentDetails> {
    return this._call(env(id));
  }

  /**
   * Start a create (202 with the task) or, with `dry_run`, wait for its plan.
   */
  create(request: ICreateRequest): Promise<ITask> {
    return this._call('environments', post(request));
  }

  adopt(request: {
    path: string;
    kernel?: IKernelOptions;
    module?: IModuleOptions;
  }): Promise<ITask> {
    return this._call('environments/adopt', post(request));
  }

  remove(id: string): Promise<ITask> {
    return this._call(env(id), { method: 'DELETE' });
  }

  clone(id: string, target: { name?: string; path?: string }): Promise<ITask> {
    return this._call(env(id, '/clone'), post(target));
  }

  retry(id: string): Promise<ITask> {
    return this._call(env(id, '/retry'), post({}));
  }

  packages(id: string): Promise<IPackage[]> {
    return this._call(env(id, '/packages'));
  }

  /**
   * Install, update, remove or update all (202 with the task), or with
   * `dry_run` wait for the plan (the finished task).
   */
  changePackages(id: string, request: IPackagesRequest): Promise<ITask> {
    return this._call(env(id, '/packages'), post(request));
  }

  history(id: string): Promise<IRevision[]> {
    return this._call(env(id, '/history'));
  }

  restore(id: string, rev: number, dryRun = false): Promise<ITask> {
    return this._call(
      env(id, `/history/${rev}/restore`),
      post({ dry_run: dryRun })
    );
  }

  outdated(id: string): Promise<IOutdated> {
    return this._call(env(id, '/outdated'));
  }

  share(id: string): Promise<IShare> {
    return this._call(env(id, '/share'));
  }

  writeKernel(
    id: string,
    options: { display_name?: string; dependencies?: string[] } = {}
  ): Promise<ITask> {
    return this._call(env(id, '/kernel'), post(options, 'PUT'));
  }

  removeKernel(id: string): Promise<ITask> {
    return this._call(env(id, '/kernel'), { method: 'DELETE' });
  }

  writeModule(
    id: string,
    options: { formats?: string[]; dependencies?: string[] } = {}
  ): Promise<ITask> {
    return this._call(env(id, '/module'), post(options, 'PUT'));
  }

  removeModule(id: string): Promise<ITask> {
    return this._call(env(id, '/module'), { method: 'DELETE' });
  }

  /**
   * The URL that downloads an export (a file with its own name).
   */
  exportUrl(id: string, format: ExportFormat): string {
    return URLExt.join(
      this.serverSettings.baseUrl,
      API_NAMESPACE,
      env(id, `/export?format=${format}`)
    );
  }

  /**
   * An export's text and the file name the server gives it.
   */
  async exportText(
    id: string,
    format: ExportFormat
  ): Promise<{ filename: string; text: string }> {
    const { response, text } = await Private.send(
      env(id, `/export?format=${format}`),
      { method: 'GET' },
      this.serverSettings
    );
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const match = /filename="?([^";]+)"?/.exec(disposition);
    return { filename: match ? match[1] : `environment-${format}`, text };
  }

  tasks(environment?: string): Promise<ITask[]> {
    return this._call(
      environment
        ? `tasks?environment=${encodeURIComponent(environment)}`
        : 'tasks'
    );
  }

  task(tid: string, since = 0): Promise<ITask> {
    return this._call(`tasks/${encodeURIComponent(tid)}?since=${since}`);
  }

  cancel(tid: string): Promise<ITask> {
    return this._call(`tasks/${encodeURIComponent(tid)}`, {
      method: 'DELETE'
    });
  }

  /**
   * The kernelspecs this extension wrote, orphans flagged.
   */
  kernels(): Promise<IKernelSpec[]> {
    return this._call('kernels');
  }

  /**
   * The module files and activation scripts this extension wrote.
   */
  moduleFiles(): Promise<IModuleFile[]> {
    return this._call('modules');
  }

  /**
   * One revision with its exact packages.
   */
  revision(id: string, rev: number): Promise<IRevisionDetails> {
    return this._call(env(id, `/history/${rev}`));
  }

  availableModules(refresh = false): Promise<IAvailableModules> {
    return this._call(
      refresh ? 'modules/available?refresh=1' : 'modules/available'
    );
  }

  /**
   * Run the setup checks (takes a few seconds: it sizes the caches).
   */
  doctor(): Promise<IDoctorReport> {
    return this._call('doctor');
  }

  /**
   * Apply the fixes of the checks `ids` (a 400 names an unknown or missing
   * id), then answer each fix's outcome and the checks run again.
   */
  doctorFix(ids: string[]): Promise<IDoctorFixReport> {
    return this._call('doctor/fix', post({ checks: ids }));
  }

  search(
    query: string,
    options: { engine?: EngineName; channels?: string[]; limit?: number } = {}
  ): Promise<ISearchResult> {
    const params = new URLSearchParams({ q: query });
    if (options.engine) {
      params.set('engine', options.engine);
    }
    for (const channel of options.channels ?? []) {
      params.append('channel', channel);
    }
    if (options.limit) {
      params.set('limit', String(options.limit));
    }
    return this._call(`packages/search?${params.toString()}`);
  }
}

/**
 * A namespace for private module data.
 */
namespace Private {
  /**
   * Send a request to the API; answer the response and its text when it
   * succeeded, else throw the matching {@link EnvModAPIError}.
   */
  export async function send(
    endPoint: string,
    init: RequestInit,
    settings: ServerConnection.ISettings
  ): Promise<{ url: string; response: Response; text: string }> {
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
    if (response.ok) {
      return { url, response, text };
    }
    let data: unknown = undefined;
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON: an error without a body of ours.
    }
    const body = asErrorBody(data);
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
