import { PromiseDelegate } from '@lumino/coreutils';

import { EnvModAPIError, SERVER_EXTENSION_MISSING } from '../api';
import {
  MIN_AUTO_REFRESH_SECONDS,
  normalizeVersion,
  SiteModel,
  versionsMatch
} from '../model';
import { ISiteInfo } from '../tokens';
import { VERSION } from '../version';
import {
  fakeFetch,
  jsonResponse,
  makeSettings,
  makeSiteInfo
} from './fixtures';

/**
 * A model whose site information comes from `fetchSite`, counting the
 * `changed` signals.
 */
function makeModel(fetchSite: (refresh: boolean) => Promise<ISiteInfo>): {
  model: SiteModel;
  changes: () => number;
} {
  const model = new SiteModel({ fetchSite, frontendVersion: '0.1.0' });
  let count = 0;
  model.changed.connect(() => {
    count++;
  });
  return { model, changes: () => count };
}

describe('SiteModel', () => {
  it('starts loading', () => {
    const model = new SiteModel({ fetchSite: () => new Promise(() => {}) });
    expect(model.state).toBe('loading');
    expect(model.info).toBeNull();
    expect(model.error).toBeNull();
    expect(model.busy).toBe(false);
    expect(model.frontendVersion).toBe(VERSION);
    model.dispose();
  });

  it('is ready when the server answers with the same version', async () => {
    const info = makeSiteInfo({ version: '0.1.0' });
    const { model, changes } = makeModel(async () => info);
    await model.refresh();
    expect(model.state).toBe('ready');
    expect(model.info).toEqual(info);
    expect(model.error).toBeNull();
    expect(model.serverVersion).toBe('0.1.0');
    expect(model.busy).toBe(false);
    // Once when the request starts, once when it ends.
    expect(changes()).toBe(2);
  });

  it('is busy while a request is under way', async () => {
    const answer = new PromiseDelegate<ISiteInfo>();
    const { model } = makeModel(() => answer.promise);
    const done = model.refresh();
    expect(model.busy).toBe(true);
    expect(model.state).toBe('loading');
    answer.resolve(makeSiteInfo({ version: '0.1.0' }));
    await done;
    expect(model.busy).toBe(false);
    expect(model.state).toBe('ready');
  });

  it('asks the server for a new detection when forced', async () => {
    const fetchSite = jest.fn(async () => makeSiteInfo({ version: '0.1.0' }));
    const { model } = makeModel(fetchSite);
    await model.refresh();
    await model.refresh(true);
    expect(fetchSite.mock.calls).toEqual([[false], [true]]);
  });

  it('reports a version mismatch but keeps the information', async () => {
    const info = makeSiteInfo({ version: '0.2.0' });
    const { model, changes } = makeModel(async () => info);
    await model.refresh();
    expect(model.state).toBe('version-mismatch');
    expect(model.info).toEqual(info);
    expect(model.serverVersion).toBe('0.2.0');
    expect(model.frontendVersion).toBe('0.1.0');
    expect(changes()).toBe(2);
  });

  it('reports a missing server extension', async () => {
    const { model } = makeModel(async () => {
      throw new EnvModAPIError({
        message: 'Not Found',
        status: 404,
        reason: SERVER_EXTENSION_MISSING
      });
    });
    await model.refresh();
    expect(model.state).toBe('server-missing');
    expect(model.info).toBeNull();
    expect(model.error?.reason).toBe(SERVER_EXTENSION_MISSING);
  });

  it('reports a server error with its message', async () => {
    const { model, changes } = makeModel(async () => {
      throw new EnvModAPIError({
        message: "EnvMod.default_engine: 'mamba' is not one of the engines",
        status: 500,
        reason: 'invalid-configuration',
        details: { trait: 'default_engine' }
      });
    });
    await model.refresh();
    expect(model.state).toBe('error');
    expect(model.error?.reason).toBe('invalid-configuration');
    expect(model.error?.message).toBe(
      "EnvMod.default_engine: 'mamba' is not one of the engines"
    );
    expect(changes()).toBe(2);
  });

  it('turns any other failure into an error', async () => {
    const { model } = makeModel(async () => {
      throw new Error('boom');
    });
    await model.refresh();
    expect(model.state).toBe('error');
    expect(model.error).toBeInstanceOf(EnvModAPIError);
    expect(model.error?.reason).toBe('unexpected-error');
    expect(model.error?.message).toBe('boom');
  });

  it('rejects an answer without site information', async () => {
    const { model } = makeModel(
      async () => ({ hello: 'world' }) as unknown as ISiteInfo
    );
    await model.refresh();
    expect(model.state).toBe('error');
    expect(model.error?.reason).toBe('invalid-response');
  });

  it('goes from an error back to ready', async () => {
    let fail = true;
    const { model } = makeModel(async () => {
      if (fail) {
        throw new EnvModAPIError({
          message: 'bad',
          status: 500,
          reason: 'invalid-configuration'
        });
      }
      return makeSiteInfo({ version: '0.1.0' });
    });
    await model.refresh();
    expect(model.state).toBe('error');
    fail = false;
    await model.refresh(true);
    expect(model.state).toBe('ready');
    expect(model.error).toBeNull();
  });

  it('ignores an older answer that arrives after a newer one', async () => {
    const first = new PromiseDelegate<ISiteInfo>();
    const second = new PromiseDelegate<ISiteInfo>();
    const answers = [first, second];
    const { model } = makeModel(() => answers.shift()!.promise);
    const one = model.refresh();
    const two = model.refresh(true);
    second.resolve(makeSiteInfo({ version: '0.1.0', user: 'new' }));
    await two;
    first.resolve(makeSiteInfo({ version: '0.1.0', user: 'old' }));
    await one;
    expect(model.info?.user).toBe('new');
    expect(model.busy).toBe(false);
  });

  it('reads the site through the server connection', async () => {
    const fetch = fakeFetch(() => jsonResponse(makeSiteInfo()));
    const model = new SiteModel({ serverSettings: makeSettings(fetch) });
    await model.refresh();
    expect(model.state).toBe('ready');
    expect(new URL(fetch.mock.calls[0][0].url).pathname).toBe(
      '/user/alice/envmod/site'
    );
  });

  it('knows when the server extension is not installed', async () => {
    const fetch = fakeFetch(
      () => new Response('Not Found', { status: 404, statusText: 'Not Found' })
    );
    const model = new SiteModel({ serverSettings: makeSettings(fetch) });
    await model.refresh();
    expect(model.state).toBe('server-missing');
  });

  it('stops changing once disposed', async () => {
    const answer = new PromiseDelegate<ISiteInfo>();
    const { model, changes } = makeModel(() => answer.promise);
    const done = model.refresh();
    model.dispose();
    answer.resolve(makeSiteInfo());
    await done;
    expect(model.isDisposed).toBe(true);
    expect(model.state).toBe('loading');
    expect(changes()).toBe(1);
  });

  describe('autoRefreshSeconds', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });

    afterEach(() => {
      jest.useRealTimers();
    });

    it('re-reads the site periodically', async () => {
      const fetchSite = jest.fn(async () => makeSiteInfo({ version: '0.1.0' }));
      const { model } = makeModel(fetchSite);
      model.autoRefreshSeconds = 10;
      expect(model.autoRefreshSeconds).toBe(10);
      await jest.advanceTimersByTimeAsync(9000);
      expect(fetchSite).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1000);
      expect(fetchSite).toHaveBeenCalledTimes(1);
      expect(fetchSite).toHaveBeenLastCalledWith(true);
      await jest.advanceTimersByTimeAsync(10000);
      expect(fetchSite).toHaveBeenCalledTimes(2);
      expect(model.state).toBe('ready');

      model.autoRefreshSeconds = 0;
      await jest.advanceTimersByTimeAsync(60000);
      expect(fetchSite).toHaveBeenCalledTimes(2);
      model.dispose();
    });

    it('raises short intervals and ignores bad ones', () => {
      const { model } = makeModel(async () => makeSiteInfo());
      model.autoRefreshSeconds = 1;
      expect(model.autoRefreshSeconds).toBe(MIN_AUTO_REFRESH_SECONDS);
      model.autoRefreshSeconds = -3;
      expect(model.autoRefreshSeconds).toBe(0);
      model.autoRefreshSeconds = NaN;
      expect(model.autoRefreshSeconds).toBe(0);
      model.dispose();
    });

    it('stops when the model is disposed', async () => {
      const fetchSite = jest.fn(async () => makeSiteInfo());
      const { model } = makeModel(fetchSite);
      model.autoRefreshSeconds = 5;
      model.dispose();
      await jest.advanceTimersByTimeAsync(30000);
      expect(fetchSite).not.toHaveBeenCalled();
    });
  });
});

describe('versionsMatch', () => {
  it.each([
    ['0.1.0', '0.1.0'],
    ['v0.1.0', '0.1.0'],
    ['0.1', '0.1.0'],
    ['0.2.0rc1', '0.2.0-rc.1'],
    ['0.2.0a1', '0.2.0-alpha.1'],
    ['0.2.0b2', '0.2.0-beta.2'],
    ['1.0.0.dev3', '1.0.0-dev.3'],
    ['1.0.0', '1.0.0+local']
  ])('%s is %s', (server, frontend) => {
    expect(versionsMatch(server, frontend)).toBe(true);
  });

  it.each([
    ['0.1.0', '0.1.1'],
    ['0.2.0rc1', '0.2.0'],
    ['0.2.0a1', '0.2.0b1'],
    ['1.0.0', '10.0.0']
  ])('%s is not %s', (server, frontend) => {
    expect(versionsMatch(server, frontend)).toBe(false);
  });

  it('normalizes to the PEP 440 spelling', () => {
    expect(normalizeVersion('0.2.0-rc.1')).toBe('0.2rc1');
    expect(normalizeVersion('1.2.3')).toBe('1.2.3');
  });
});
