/**
 * Data and fakes shared by the tests.
 *
 * The jupyter_envmod server extension cannot run inside jest, so the tests
 * give `ServerConnection.makeSettings` a fake `fetch` that answers like it.
 */
import { ServerConnection } from '@jupyterlab/services';

import { ISiteInfo } from '../tokens';
import { VERSION } from '../version';

export const BASE_URL = 'http://localhost:8888/user/alice/';

/**
 * A complete site answer, as the server extension sends it.
 */
export function makeSiteInfo(overrides: Partial<ISiteInfo> = {}): ISiteInfo {
  return {
    version: VERSION,
    user: 'alice',
    arch: 'x86_64',
    config: {
      env_dirs: ['/home/alice/envs', '/shared/envs'],
      allowed_roots: ['/home/alice', '/shared'],
      default_engine: 'rattler',
      conda_executable: 'conda',
      channels: ['conda-forge'],
      channel_priority: 'strict',
      pip_index_url: '',
      default_python: '3.12',
      kernel_dir: '/home/alice/.local/share/jupyter/kernels',
      kernel_name_template: 'envmod-{name}',
      kernel_display_name_template: 'Python ({name})',
      kernel_env: { OMP_NUM_THREADS: '1' },
      thread_variables: ['OMP_NUM_THREADS', 'MKL_NUM_THREADS'],
      module_dir: '/home/alice/modulefiles',
      module_app: 'envmod',
      module_name_template: '{name}/{version}',
      module_formats: ['lua'],
      template_dirs: [],
      shared_roots: ['/shared'],
      shared_group: 'hpcusers',
      shared_umask: '0002'
    },
    engines: {
      rattler: {
        available: true,
        version: '0.13.8',
        path: '/opt/bin/uv',
        detail: 'uv 0.13.8 at /opt/bin/uv'
      },
      conda: {
        available: false,
        version: null,
        path: null,
        detail: "conda executable 'conda' not found on PATH"
      },
      venv: {
        available: true,
        version: '3.12.1',
        path: '/usr/bin/python3',
        detail: 'Python 3.12.1 at /usr/bin/python3'
      }
    },
    module_system: {
      kind: 'lmod',
      version: '8.7.32',
      command: '/usr/share/lmod/lmod/libexec/lmod',
      detail: 'Lmod 8.7.32'
    },
    ...overrides
  };
}

/**
 * A JSON answer.
 */
export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

/**
 * A fake `fetch` answering every request with the result of `answer`, and
 * remembering the requests.
 */
export function fakeFetch(
  answer: (request: Request) => Response | Promise<Response>
): jest.Mock<Promise<Response>, [Request]> {
  return jest.fn(async (request: Request) => answer(request));
}

/**
 * Server settings whose requests go to `fetch`.
 */
export function makeSettings(
  fetch: (request: Request) => Promise<Response>
): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: BASE_URL,
    fetch: fetch as unknown as typeof window.fetch
  });
}

/**
 * Wait until `probe` answers something truthy, and return it.
 */
export async function waitFor<T>(
  probe: () => T | null | undefined | false,
  what = 'the condition',
  timeout = 4000
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = probe();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}.`);
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

/**
 * The open JupyterLab dialog, once its body is rendered.
 */
export function openDialog(): Promise<HTMLElement> {
  return waitFor(
    () =>
      document.querySelector('.jp-Dialog .jp-Dialog-body > *') &&
      document.querySelector<HTMLElement>('.jp-Dialog'),
    'a dialog'
  );
}

/**
 * The one button of the open dialog with this label.
 */
export function dialogButton(
  dialog: HTMLElement,
  label: string
): HTMLButtonElement {
  const found = Array.from(
    dialog.querySelectorAll<HTMLButtonElement>('.jp-Dialog-footer button')
  ).filter(
    b =>
      b.querySelector('.jp-Dialog-buttonLabel')?.textContent?.trim() === label
  );
  if (found.length !== 1) {
    throw new Error(`${found.length} dialog buttons "${label}"`);
  }
  return found[0];
}
