import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { EnvModAPIError, SERVER_EXTENSION_MISSING } from '../api';
import { SiteModel } from '../model';
import { ISiteInfo, PANEL_ID } from '../tokens';
import { EnvironmentsPanel } from '../widgets/EnvironmentsPanel';
import { makeSiteInfo } from './fixtures';

/**
 * Render the panel's view now and wait until React shows the model's state.
 */
async function render(panel: EnvironmentsPanel): Promise<void> {
  MessageLoop.sendMessage(panel.view, Widget.Msg.UpdateRequest);
  await panel.view.renderPromise;
  const rendered = (): boolean => {
    const root = panel.view.node.querySelector<HTMLElement>(
      '.jp-EnvMod-siteInfo'
    );
    return (
      root?.dataset.state === panel.model.state &&
      root?.dataset.showConfiguration === String(panel.showConfiguration) &&
      panel.toolbar.node.querySelector('[aria-label]') !== null
    );
  };
  const deadline = Date.now() + 5000;
  while (!rendered()) {
    if (Date.now() > deadline) {
      throw new Error('The panel did not render.');
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

/**
 * A panel attached to the document, showing a model fed by `fetchSite`.
 */
async function makePanel(
  fetchSite: (refresh: boolean) => Promise<ISiteInfo>,
  showConfiguration = true
): Promise<EnvironmentsPanel> {
  const model = new SiteModel({ fetchSite, frontendVersion: '0.1.0' });
  const panel = new EnvironmentsPanel({ model, showConfiguration });
  Widget.attach(panel, document.body);
  await model.refresh();
  await render(panel);
  return panel;
}

/**
 * The text of the headings of a node.
 */
function headings(node: HTMLElement): string[] {
  return Array.from(node.querySelectorAll('h2, h3')).map(
    heading => heading.textContent ?? ''
  );
}

describe('EnvironmentsPanel', () => {
  let panel: EnvironmentsPanel | null = null;

  afterEach(() => {
    if (panel) {
      panel.model.dispose();
      panel.dispose();
      panel = null;
    }
  });

  it('identifies itself as the Environments panel', async () => {
    panel = await makePanel(async () => makeSiteInfo({ version: '0.1.0' }));
    expect(panel.id).toBe(PANEL_ID);
    expect(panel.title.caption).toBe('Environments');
    expect(panel.title.icon).toBeTruthy();
    expect(panel.node.getAttribute('aria-label')).toBe('Environments');
    expect(panel.node.querySelector('h2')?.textContent).toBe('Environments');
  });

  it('says it is loading before the first answer', async () => {
    const model = new SiteModel({ fetchSite: () => new Promise(() => {}) });
    panel = new EnvironmentsPanel({ model });
    Widget.attach(panel, document.body);
    void model.refresh();
    await render(panel);
    expect(panel.node.textContent).toContain('Loading site information');
  });

  it('lists the engines', async () => {
    panel = await makePanel(async () => makeSiteInfo({ version: '0.1.0' }));
    const rows = Array.from(
      panel.node.querySelectorAll<HTMLElement>('[data-engine]')
    );
    expect(rows.map(row => row.dataset.engine)).toEqual([
      'rattler',
      'conda',
      'venv'
    ]);
    expect(rows.map(row => row.dataset.available)).toEqual([
      'true',
      'false',
      'true'
    ]);
    expect(rows[0].textContent).toContain('(default)');
    expect(rows[0].textContent).toContain('uv 0.13.8 at /opt/bin/uv');
    expect(rows[1].textContent).not.toContain('(default)');
    expect(rows[1].textContent).toContain('not available');
    expect(rows[1].textContent).toContain(
      "conda executable 'conda' not found on PATH"
    );
  });

  it('shows the sections and the server version', async () => {
    panel = await makePanel(async () => makeSiteInfo({ version: '0.1.0' }));
    expect(headings(panel.node)).toEqual([
      'Environments',
      'Site',
      'Engines',
      'Where environments go',
      'Module system',
      'Configuration'
    ]);
    const dirs = Array.from(panel.node.querySelectorAll('.jp-EnvMod-envDir'));
    expect(dirs).toHaveLength(2);
    expect(dirs[0].textContent).toContain('/home/alice/envs');
    expect(dirs[0].textContent).toContain('new environments go here');
    expect(dirs[1].textContent).not.toContain('new environments go here');
    expect(panel.node.textContent).toContain('/home/alice/modulefiles');
    expect(panel.node.textContent).toContain('Lmod 8.7.32');
    const version = panel.node.querySelector('.jp-EnvMod-serverVersion');
    expect(version?.textContent).toBe('jupyter_envmod 0.1.0');
    const umask = panel.node.querySelector('[data-config-key="shared_umask"]');
    expect(umask?.textContent).toBe('0002');
    // Shown in "Where environments go", not again in "Configuration".
    expect(panel.node.querySelector('[data-config-key="env_dirs"]')).toBeNull();
  });

  it('hides the configuration when asked to', async () => {
    panel = await makePanel(
      async () => makeSiteInfo({ version: '0.1.0' }),
      false
    );
    expect(headings(panel.node)).not.toContain('Configuration');
    panel.showConfiguration = true;
    await render(panel);
    expect(headings(panel.node)).toContain('Configuration');
  });

  it('says when no module system was found', async () => {
    panel = await makePanel(async () =>
      makeSiteInfo({
        version: '0.1.0',
        module_system: {
          kind: null,
          version: null,
          command: null,
          detail: 'Neither lmod nor modulecmd found'
        }
      })
    );
    expect(panel.node.textContent).toContain('No module system found');
    expect(panel.node.textContent).toContain(
      'Neither lmod nor modulecmd found'
    );
  });

  it('explains how to install a missing server extension', async () => {
    panel = await makePanel(async () => {
      throw new EnvModAPIError({
        message: 'Not Found',
        status: 404,
        reason: SERVER_EXTENSION_MISSING
      });
    });
    const text = panel.node.textContent ?? '';
    expect(text).toContain('not installed or not enabled');
    expect(text).toContain('pip install jupyter_envmod');
    expect(text).toContain('jupyter server extension enable jupyter_envmod');
    expect(text).toContain('restart');
    expect(panel.node.querySelector('[data-engine]')).toBeNull();
  });

  it('shows the message of a server error', async () => {
    panel = await makePanel(async () => {
      throw new EnvModAPIError({
        message: "EnvMod.shared_umask: '9999' is not an octal umask",
        status: 500,
        reason: 'invalid-configuration'
      });
    });
    const alert = panel.node.querySelector('[role="alert"]');
    expect(alert?.textContent).toContain(
      "EnvMod.shared_umask: '9999' is not an octal umask"
    );
    expect(panel.node.querySelector('[data-engine]')).toBeNull();
  });

  it('warns about a version mismatch and still shows the site', async () => {
    panel = await makePanel(async () => makeSiteInfo({ version: '0.3.0' }));
    const alert = panel.node.querySelector('[role="alert"]');
    expect(alert?.textContent).toContain('0.1.0');
    expect(alert?.textContent).toContain('0.3.0');
    expect(alert?.textContent).toContain('restart the Jupyter Server');
    expect(panel.node.querySelectorAll('[data-engine]')).toHaveLength(3);
    expect(
      panel.node.querySelector('.jp-EnvMod-serverVersion')?.textContent
    ).toBe('jupyter_envmod 0.3.0');
  });

  it('refreshes with a new detection from its Refresh button', async () => {
    const fetchSite = jest.fn(async () => makeSiteInfo({ version: '0.1.0' }));
    panel = await makePanel(fetchSite);
    const button = panel.toolbar.node.querySelector<HTMLElement>(
      '[aria-label="Refresh site information"]'
    );
    expect(button).not.toBeNull();
    expect(button!.getAttribute('title')).toBe('Refresh site information');
    fetchSite.mockClear();
    button!.click();
    expect(fetchSite).toHaveBeenCalledTimes(1);
    expect(fetchSite).toHaveBeenLastCalledWith(true);
  });
});
