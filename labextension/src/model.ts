import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { EnvModAPIError, getSite, SERVER_EXTENSION_MISSING } from './api';
import { ISiteInfo, SiteState } from './tokens';
import { VERSION } from './version';

/**
 * The shortest auto-refresh interval, in seconds; shorter non-zero settings
 * are raised to it so that a typo cannot flood the server.
 */
export const MIN_AUTO_REFRESH_SECONDS = 5;

/**
 * The site information as known to the front end, and the state of the
 * connection to the jupyter_envmod server extension.
 */
export class SiteModel implements IDisposable {
  constructor(options: SiteModel.IOptions = {}) {
    this._serverSettings = options.serverSettings;
    this._frontendVersion = options.frontendVersion ?? VERSION;
    this._fetchSite =
      options.fetchSite ??
      ((refresh: boolean) => getSite(refresh, this._serverSettings));
  }

  /**
   * Emitted whenever the state, the information, the error or `busy` change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The state of the model.
   */
  get state(): SiteState {
    return this._state;
  }

  /**
   * The site information, or `null` if there is none (yet).
   *
   * It is also set in the `version-mismatch` state.
   */
  get info(): ISiteInfo | null {
    return this._info;
  }

  /**
   * The error of the last refresh, in the `server-missing` and `error` states.
   */
  get error(): EnvModAPIError | null {
    return this._error;
  }

  /**
   * Whether a refresh is under way.
   */
  get busy(): boolean {
    return this._pending > 0;
  }

  /**
   * The version of this front end.
   */
  get frontendVersion(): string {
    return this._frontendVersion;
  }

  /**
   * The version of the server extension, once it answered.
   */
  get serverVersion(): string | null {
    return this._info?.version ?? null;
  }

  /**
   * Re-read the site information every so many seconds; 0 turns it off.
   */
  get autoRefreshSeconds(): number {
    return this._autoRefreshSeconds;
  }
  set autoRefreshSeconds(value: number) {
    let seconds = Number.isFinite(value) && value > 0 ? value : 0;
    if (seconds > 0 && seconds < MIN_AUTO_REFRESH_SECONDS) {
      seconds = MIN_AUTO_REFRESH_SECONDS;
    }
    if (seconds === this._autoRefreshSeconds || this.isDisposed) {
      return;
    }
    this._autoRefreshSeconds = seconds;
    this._poll?.dispose();
    this._poll = null;
    if (seconds > 0) {
      const interval = seconds * 1000;
      this._poll = new Poll({
        auto: false,
        factory: () => this.refresh(true),
        frequency: { interval, backoff: false },
        name: 'jupyter-envmod:site',
        standby: 'when-hidden'
      });
      // The model was just read or is being read: the first tick waits.
      void this._poll.schedule({ interval, phase: 'started' });
    }
  }

  /**
   * Whether the model is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Read the site information from the server.
   *
   * @param force - Ask the server to detect the site again.
   * @returns A promise that resolves when the model is updated; it never
   *   rejects: failures become the `server-missing` or `error` state.
   */
  async refresh(force = false): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    const request = ++this._requests;
    this._pending++;
    this._changed.emit();
    let info: ISiteInfo | null = null;
    let error: EnvModAPIError | null = null;
    try {
      info = await this._fetchSite(force);
    } catch (reason) {
      error = Private.toAPIError(reason);
    }
    this._pending--;
    if (this.isDisposed) {
      return;
    }
    // An older request that answers late does not overwrite a newer one.
    if (request !== this._requests) {
      this._changed.emit();
      return;
    }
    if (info !== null && !Private.isSiteInfo(info)) {
      error = new EnvModAPIError({
        message: 'The server answered with incomplete site information.',
        status: 200,
        reason: 'invalid-response'
      });
      info = null;
    }
    if (error) {
      this._info = null;
      this._error = error;
      this._state =
        error.reason === SERVER_EXTENSION_MISSING ? 'server-missing' : 'error';
    } else {
      this._info = info;
      this._error = null;
      this._state =
        info !== null && versionsMatch(info.version, this._frontendVersion)
          ? 'ready'
          : 'version-mismatch';
    }
    this._changed.emit();
  }

  /**
   * Dispose of the model and stop auto-refreshing.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll?.dispose();
    this._poll = null;
    Signal.clearData(this);
  }

  private _autoRefreshSeconds = 0;
  private _changed = new Signal<this, void>(this);
  private _error: EnvModAPIError | null = null;
  private _fetchSite: (refresh: boolean) => Promise<ISiteInfo>;
  private _frontendVersion: string;
  private _info: ISiteInfo | null = null;
  private _isDisposed = false;
  private _pending = 0;
  private _poll: Poll | null = null;
  private _requests = 0;
  private _serverSettings: ServerConnection.ISettings | undefined;
  private _state: SiteState = 'loading';
}

/**
 * The namespace for `SiteModel` statics.
 */
export namespace SiteModel {
  /**
   * The options to create a site model.
   */
  export interface IOptions {
    /**
     * The server connection settings; defaults to the page's.
     */
    serverSettings?: ServerConnection.ISettings;
    /**
     * The version of the front end; defaults to the one in package.json.
     */
    frontendVersion?: string;
    /**
     * Reads the site information; defaults to `getSite`.
     */
    fetchSite?: (refresh: boolean) => Promise<ISiteInfo>;
  }
}

/**
 * Bring a version to a comparable form.
 *
 * The Python package and the npm package carry the same version written two
 * ways (PEP 440 "0.2.0rc1" and semver "0.2.0-rc.1"); both become "0.2.0rc1".
 */
export function normalizeVersion(version: string): string {
  const v = version.trim().toLowerCase().replace(/^v/, '').split('+')[0];
  const match = /^(\d+(?:\.\d+)*)(.*)$/.exec(v);
  if (!match) {
    return v;
  }
  // "1.0" and "1.0.0" are the same release.
  const release = match[1].split('.').map(part => String(Number(part)));
  while (release.length > 1 && release[release.length - 1] === '0') {
    release.pop();
  }
  let out = release.join('.');
  let rest = match[2];
  const pre = /^[-_.]?(alpha|a|beta|b|rc|c|preview|pre)[-_.]?(\d*)/.exec(rest);
  if (pre) {
    const label = pre[1].startsWith('a')
      ? 'a'
      : pre[1].startsWith('b')
        ? 'b'
        : 'rc';
    out += `${label}${Number(pre[2] || '0')}`;
    rest = rest.slice(pre[0].length);
  }
  const post = /^[-_.]?(post|rev)[-_.]?(\d*)/.exec(rest);
  if (post) {
    out += `.post${Number(post[2] || '0')}`;
    rest = rest.slice(post[0].length);
  }
  const dev = /^[-_.]?dev[-_.]?(\d*)/.exec(rest);
  if (dev) {
    out += `.dev${Number(dev[1] || '0')}`;
    rest = rest.slice(dev[0].length);
  }
  return out + rest;
}

/**
 * Whether a server version and a front-end version are the same release.
 */
export function versionsMatch(server: string, frontend: string): boolean {
  return normalizeVersion(server) === normalizeVersion(frontend);
}

/**
 * A namespace for private module data.
 */
namespace Private {
  /**
   * Turn anything thrown into an API error.
   */
  export function toAPIError(reason: unknown): EnvModAPIError {
    if (reason instanceof EnvModAPIError) {
      return reason;
    }
    return new EnvModAPIError({
      message: reason instanceof Error ? reason.message : String(reason),
      status: null,
      reason: 'unexpected-error'
    });
  }

  /**
   * Check the parts of the answer the panel relies on.
   */
  export function isSiteInfo(info: unknown): info is ISiteInfo {
    if (info === null || typeof info !== 'object') {
      return false;
    }
    const record = info as { [key: string]: unknown };
    return (
      typeof record.version === 'string' &&
      record.config !== null &&
      typeof record.config === 'object' &&
      record.engines !== null &&
      typeof record.engines === 'object' &&
      record.module_system !== null &&
      typeof record.module_system === 'object'
    );
  }
}
