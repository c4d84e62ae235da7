import {
  EnvModAPIError,
  getSite,
  HTTP_ERROR,
  INVALID_RESPONSE,
  requestAPI,
  SERVER_EXTENSION_MISSING
} from '../api';
import {
  fakeFetch,
  jsonResponse,
  makeSettings,
  makeSiteInfo
} from './fixtures';

/**
 * Run `promise`, expecting it to fail with an `EnvModAPIError`.
 */
async function apiError(promise: Promise<unknown>): Promise<EnvModAPIError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EnvModAPIError);
    return error as EnvModAPIError;
  }
  throw new Error('The request did not fail.');
}

describe('requestAPI', () => {
  it('requests <baseUrl>/envmod/<endPoint>', async () => {
    const fetch = fakeFetch(() => jsonResponse({ ok: true }));
    await requestAPI('some/thing', {}, makeSettings(fetch));
    expect(fetch).toHaveBeenCalledTimes(1);
    const url = new URL(fetch.mock.calls[0][0].url);
    expect(url.origin).toBe('http://localhost:8888');
    expect(url.pathname).toBe('/user/alice/envmod/some/thing');
  });

  it('passes the request options on', async () => {
    const fetch = fakeFetch(() => jsonResponse({}));
    await requestAPI(
      'site',
      { method: 'POST', body: JSON.stringify({ a: 1 }) },
      makeSettings(fetch)
    );
    const request = fetch.mock.calls[0][0];
    expect(request.method).toBe('POST');
    expect(await request.json()).toEqual({ a: 1 });
  });

  it('parses the JSON answer', async () => {
    const fetch = fakeFetch(() => jsonResponse({ answer: 42, list: [1, 2] }));
    const data = await requestAPI<{ answer: number; list: number[] }>(
      'x',
      {},
      makeSettings(fetch)
    );
    expect(data).toEqual({ answer: 42, list: [1, 2] });
  });

  it('answers undefined for an empty answer', async () => {
    const fetch = fakeFetch(() => new Response(null, { status: 204 }));
    await expect(
      requestAPI('x', { method: 'DELETE' }, makeSettings(fetch))
    ).resolves.toBeUndefined();
  });

  it('turns a JSON error body into an EnvModAPIError', async () => {
    const fetch = fakeFetch(() =>
      jsonResponse(
        {
          message: "EnvMod.channel_priority: 'sometimes' is not allowed",
          reason: 'invalid-configuration',
          details: { trait: 'channel_priority', value: 'sometimes' }
        },
        500
      )
    );
    const error = await apiError(requestAPI('site', {}, makeSettings(fetch)));
    expect(error.status).toBe(500);
    expect(error.reason).toBe('invalid-configuration');
    expect(error.message).toBe(
      "EnvMod.channel_priority: 'sometimes' is not allowed"
    );
    expect(error.details).toEqual({
      trait: 'channel_priority',
      value: 'sometimes'
    });
  });

  it('turns a 404 into server-extension-missing', async () => {
    const fetch = fakeFetch(
      () =>
        new Response('<html><body>404 : Not Found</body></html>', {
          status: 404,
          statusText: 'Not Found',
          headers: { 'Content-Type': 'text/html' }
        })
    );
    const error = await apiError(requestAPI('site', {}, makeSettings(fetch)));
    expect(error.status).toBe(404);
    expect(error.reason).toBe(SERVER_EXTENSION_MISSING);
  });

  it('turns a 404 JSON answer without a reason into server-extension-missing', async () => {
    const fetch = fakeFetch(() =>
      jsonResponse({ message: 'Not Found', reason: null }, 404)
    );
    const error = await apiError(requestAPI('site', {}, makeSettings(fetch)));
    expect(error.reason).toBe(SERVER_EXTENSION_MISSING);
  });

  it('keeps the reason of a 404 sent by the extension itself', async () => {
    const fetch = fakeFetch(() =>
      jsonResponse(
        {
          message: 'No environment named "x".',
          reason: 'environment-not-found',
          details: { name: 'x' }
        },
        404
      )
    );
    const error = await apiError(requestAPI('envs/x', {}, makeSettings(fetch)));
    expect(error.status).toBe(404);
    expect(error.reason).toBe('environment-not-found');
    expect(error.details).toEqual({ name: 'x' });
  });

  it('turns a network failure into server-extension-missing', async () => {
    const fetch = fakeFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const error = await apiError(requestAPI('site', {}, makeSettings(fetch)));
    expect(error.status).toBeNull();
    expect(error.reason).toBe(SERVER_EXTENSION_MISSING);
    expect(error.message).toContain('Failed to fetch');
  });

  it('reports an error answer that is not JSON', async () => {
    const fetch = fakeFetch(
      () =>
        new Response('Bad gateway', { status: 502, statusText: 'Bad Gateway' })
    );
    const error = await apiError(requestAPI('site', {}, makeSettings(fetch)));
    expect(error.status).toBe(502);
    expect(error.reason).toBe(HTTP_ERROR);
    expect(error.message).toBe('502 Bad Gateway');
  });

  it('reports a successful answer that is not JSON', async () => {
    const fetch = fakeFetch(() => new Response('<html></html>'));
    const error = await apiError(requestAPI('site', {}, makeSettings(fetch)));
    expect(error.status).toBe(200);
    expect(error.reason).toBe(INVALID_RESPONSE);
  });
});

describe('getSite', () => {
  it('reads <baseUrl>/envmod/site', async () => {
    const info = makeSiteInfo();
    const fetch = fakeFetch(() => jsonResponse(info));
    await expect(getSite(false, makeSettings(fetch))).resolves.toEqual(info);
    const request = fetch.mock.calls[0][0];
    const url = new URL(request.url);
    expect(request.method).toBe('GET');
    expect(url.pathname).toBe('/user/alice/envmod/site');
    expect(url.searchParams.has('refresh')).toBe(false);
  });

  it('asks for a new detection with refresh=1', async () => {
    const fetch = fakeFetch(() => jsonResponse(makeSiteInfo()));
    await getSite(true, makeSettings(fetch));
    const url = new URL(fetch.mock.calls[0][0].url);
    expect(url.pathname).toBe('/user/alice/envmod/site');
    expect(url.searchParams.get('refresh')).toBe('1');
  });
});
