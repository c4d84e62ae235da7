import { Clipboard, Dialog } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { EnvModClient } from '../api';
import { EnvironmentsModel } from '../environments';
import {
  IChange,
  IEnvironmentDetails,
  IOutdated,
  IPackage,
  IRevision,
  IShare,
  ITask,
  TRANSLATION_DOMAIN
} from '../tokens';
import { confirmDelete } from '../widgets/dialogs';
import { EnvironmentDetail } from '../widgets/EnvironmentDetail';
import {
  BASE_URL,
  dialogButton,
  jsonResponse,
  makeSettings,
  openDialog,
  waitFor
} from './fixtures';

const trans = nullTranslator.load(TRANSLATION_DOMAIN);

const ENV_ID = 'env-analysis';

/**
 * The details of a conda environment, as the server sends them.
 */
function makeDetails(
  overrides: Partial<IEnvironmentDetails> = {}
): IEnvironmentDetails {
  return {
    id: ENV_ID,
    name: 'analysis',
    path: '/home/alice/envs/analysis',
    engine: 'rattler',
    type: 'conda',
    python_version: '3.12.4',
    managed: true,
    created: 1_700_000_000,
    modified: 1_700_000_500,
    state: 'ready',
    operation: null,
    kernel: '/home/alice/.local/share/jupyter/kernels/envmod-analysis',
    modules: ['/home/alice/modulefiles/envmod/analysis.lua'],
    module: 'envmod/analysis',
    module_deps: [],
    packages: 3,
    requested: { conda: ['python=3.12', 'numpy'], pip: ['rich'] },
    channels: ['conda-forge'],
    variables: {},
    kernels: [
      {
        name: 'envmod-analysis',
        dir: '/home/alice/.local/share/jupyter/kernels/envmod-analysis',
        display_name: 'Python (analysis)',
        env_path: '/home/alice/envs/analysis',
        env_name: 'analysis',
        engine: 'rattler',
        created: '2024-01-01T00:00:00Z',
        modules: [],
        orphan: null
      }
    ],
    module_files: [
      {
        format: 'lua',
        path: '/home/alice/modulefiles/envmod/analysis.lua',
        env_path: '/home/alice/envs/analysis',
        module: 'envmod/analysis',
        orphan: null
      }
    ],
    usage: [
      '# Load it in a terminal or a batch script:',
      'module use /home/alice/modulefiles',
      'module load envmod/analysis'
    ],
    ...overrides
  };
}

/**
 * An installed package.
 */
function pkg(
  name: string,
  version: string,
  source: 'conda' | 'pypi',
  requested = false
): IPackage {
  return {
    name,
    version,
    source,
    build: source === 'conda' ? 'py312_0' : '',
    channel: source === 'conda' ? 'conda-forge' : '',
    requested,
    url: '',
    sha256: ''
  };
}

const PACKAGES: IPackage[] = [
  pkg('python', '3.12.4', 'conda', true),
  pkg('numpy', '1.26.4', 'conda', true),
  pkg('rich', '13.7.1', 'pypi', true),
  pkg('libzlib', '1.3.1', 'conda')
];

const HISTORY: IRevision[] = [
  {
    rev: 0,
    action: 'create',
    time: 1_700_000_000,
    request: {},
    requested_conda: ['python=3.12', 'numpy'],
    requested_pip: [],
    diff: {
      added: [
        { name: 'python', source: 'conda', new: '3.12.4' },
        { name: 'numpy', source: 'conda', new: '1.26.4' }
      ]
    },
    user: 'alice',
    packages: 3
  },
  {
    rev: 1,
    action: 'install',
    time: 1_700_000_200,
    request: { install: ['rich'] },
    requested_conda: ['python=3.12', 'numpy'],
    requested_pip: ['rich'],
    diff: { added: [{ name: 'rich', source: 'pypi', new: '13.7.1' }] },
    user: 'alice',
    packages: 4
  },
  {
    rev: 2,
    action: 'update',
    time: 1_700_000_400,
    request: { update: ['numpy'] },
    requested_conda: ['python=3.12', 'numpy'],
    requested_pip: ['rich'],
    diff: {
      changed: [
        { name: 'numpy', source: 'conda', old: '1.26.3', new: '1.26.4' }
      ]
    },
    user: 'bob',
    packages: 4
  }
];

const SHARE: IShare = {
  environment: makeDetails(),
  spec: {
    filename: 'analysis-environment.yml',
    text: 'name: analysis\nchannels:\n  - conda-forge\ndependencies:\n  - numpy\n'
  },
  recreate: ['envmod create --file analysis-environment.yml'],
  use: ['module use /home/alice/modulefiles', 'module load envmod/analysis'],
  notes: ['Shared environments are read-only for others.'],
  sharing: {
    shared_root: null,
    group: 'hpcusers',
    owner: 'alice',
    group_writable: false,
    readable_by_others: true,
    can_change: true
  }
};

/**
 * A task of the fake server.
 */
function makeTask(
  id: string,
  kind: string,
  overrides: Partial<ITask> = {}
): ITask {
  return {
    id,
    kind,
    environment: {
      id: ENV_ID,
      name: 'analysis',
      path: '/home/alice/envs/analysis'
    },
    state: 'queued',
    phase: '',
    progress: null,
    created: 1_700_001_000,
    started: null,
    finished: null,
    log: [],
    next_offset: 0,
    result: null,
    error: null,
    ...overrides
  };
}

/**
 * A finished dry run with its plan.
 */
function dryRunTask(kind: string, changes: IChange[], summary: string): ITask {
  return makeTask(`dry-${kind}`, kind, {
    state: 'succeeded',
    finished: 1_700_001_001,
    result: { dry_run: true, plan: { changes }, summary }
  });
}

/**
 * One request the fake server received.
 */
interface IRecorded {
  method: string;
  path: string;
  query: string;
  body: { [key: string]: unknown } | undefined;
}

/**
 * A fake jupyter_envmod server for one environment.
 */
class FakeServer {
  constructor(details: IEnvironmentDetails = makeDetails()) {
    this.details = details;
  }

  details: IEnvironmentDetails;
  packages: IPackage[] = [...PACKAGES];
  history: IRevision[] = [...HISTORY];
  outdated: IOutdated = {
    outdated: [
      {
        name: 'numpy',
        source: 'conda',
        installed: '1.26.4',
        latest: '2.1.0',
        update: '2.1.0',
        requested: true
      },
      {
        name: 'libzlib',
        source: 'conda',
        installed: '1.3.1',
        latest: '1.4.0',
        update: null,
        requested: false
      }
    ],
    plan: { changes: [] },
    summary: 'update-all would change 1 package',
    task: 'outdated-1'
  };
  requests: IRecorded[] = [];
  /**
   * The tasks started (202), by id; they succeed when read.
   */
  started = new Map<string, ITask>();

  readonly fetch = jest.fn(async (request: Request) => this._answer(request));

  /**
   * The requests with a method and a path ending.
   */
  find(method: string, pathEnd: string): IRecorded[] {
    return this.requests.filter(
      r => r.method === method && r.path.endsWith(pathEnd)
    );
  }

  private _start(task: ITask): Response {
    this.started.set(task.id, task);
    return jsonResponse(task, 202);
  }

  private async _answer(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const prefix = new URL(BASE_URL).pathname + 'envmod/';
    const path = decodeURIComponent(url.pathname.slice(prefix.length));
    const text = await request.text();
    const body = text ? JSON.parse(text) : undefined;
    const method = request.method;
    this.requests.push({ method, path, query: url.search, body });

    const env = `environments/${ENV_ID}`;
    const route = `${method} ${path}`;
    if (route === 'GET environments') {
      const { packages, requested, channels, ...listed } = this.details;
      void packages;
      void requested;
      void channels;
      return jsonResponse([listed]);
    }
    if (route === 'GET tasks') {
      return jsonResponse([]);
    }
    if (method === 'GET' && path.startsWith('tasks/')) {
      const id = path.slice('tasks/'.length);
      const task = this.started.get(id);
      if (!task) {
        return jsonResponse(
          { message: 'no such task', reason: 'not-found', details: {} },
          404
        );
      }
      return jsonResponse({
        ...task,
        state: 'succeeded',
        finished: 1_700_002_000
      });
    }
    switch (route) {
      case `GET ${env}`:
        return jsonResponse(this.details);
      case `DELETE ${env}`:
        return this._start(makeTask('t-delete', 'delete'));
      case `GET ${env}/packages`:
        return jsonResponse(this.packages);
      case `POST ${env}/packages`: {
        const install = (body?.install ?? []) as string[];
        if (install.includes('impossible')) {
          return jsonResponse(
            {
              message: 'nothing provides impossible needed by the request',
              reason: 'unsatisfiable',
              details: {}
            },
            422
          );
        }
        if (body?.dry_run) {
          if (install.length > 0) {
            return jsonResponse(
              dryRunTask(
                'install',
                install.map(name => ({
                  name,
                  source: 'conda',
                  old: null,
                  new: '1.14.1',
                  kind: 'add'
                })),
                `install ${install.length} package(s)`
              )
            );
          }
          if (body.update_all) {
            return jsonResponse(dryRunTask('update-all', [], 'nothing to do'));
          }
          const removed = (body.remove ?? []) as string[];
          return jsonResponse(
            dryRunTask(
              'remove',
              removed.map(name => ({
                name,
                source: 'conda',
                old: '1.26.4',
                new: null,
                kind: 'remove'
              })),
              `remove ${removed.length} package(s)`
            )
          );
        }
        const kind = install.length > 0 ? 'install' : 'remove';
        return this._start(makeTask(`t-${kind}`, kind));
      }
      case `GET ${env}/history`:
        return jsonResponse(this.history);
      case `GET ${env}/outdated`:
        return jsonResponse(this.outdated);
      case `GET ${env}/share`:
        return jsonResponse(SHARE);
      case `PUT ${env}/kernel`:
        return this._start(makeTask('t-kernel', 'kernel'));
      case `PUT ${env}/module`:
        return this._start(makeTask('t-module', 'module'));
      case `GET ${env}/export`: {
        const format = url.searchParams.get('format');
        return new Response(`exported as ${format}\n`, {
          status: 200,
          headers: {
            'Content-Type': 'text/plain',
            'Content-Disposition': `attachment; filename="analysis-${format}.txt"`
          }
        });
      }
      default:
        break;
    }
    const restore = /^environments\/[^/]+\/history\/(\d+)\/restore$/.exec(path);
    if (method === 'POST' && restore) {
      if (body?.dry_run) {
        return jsonResponse(
          dryRunTask(
            'restore',
            [
              {
                name: 'numpy',
                source: 'conda',
                old: '1.26.4',
                new: '1.26.3',
                kind: 'change'
              }
            ],
            `restore revision ${restore[1]}`
          )
        );
      }
      return this._start(makeTask('t-restore', 'restore'));
    }
    return jsonResponse(
      { message: `no route ${route}`, reason: 'not-found', details: {} },
      404
    );
  }
}

/**
 * The accessible name of an element, as far as these tests need it.
 */
function accessibleName(element: Element): string {
  const label = element.getAttribute('aria-label');
  if (label) {
    return label;
  }
  const labelledBy = element.getAttribute('aria-labelledby');
  if (labelledBy) {
    return document.getElementById(labelledBy)?.textContent?.trim() ?? '';
  }
  const id = element.getAttribute('id');
  if (id) {
    const labels = Array.from(document.querySelectorAll('label')).filter(
      l => l.htmlFor === id
    );
    if (labels.length > 0) {
      return labels[0].textContent?.trim() ?? '';
    }
  }
  return element.textContent?.trim() ?? '';
}

/**
 * The visible buttons below `root` named `name`.
 */
function buttons(root: ParentNode, name: string): HTMLButtonElement[] {
  return Array.from(root.querySelectorAll('button')).filter(
    button => accessibleName(button) === name && !button.closest('[hidden]')
  );
}

/**
 * The one visible button named `name`.
 */
function button(root: ParentNode, name: string): HTMLButtonElement {
  const found = buttons(root, name);
  if (found.length !== 1) {
    throw new Error(`${found.length} buttons named "${name}"`);
  }
  return found[0];
}

/**
 * Wait for an enabled button named `name`.
 */
function enabledButton(
  root: ParentNode,
  name: string
): Promise<HTMLButtonElement> {
  return waitFor(
    () => buttons(root, name).find(b => !b.disabled),
    `an enabled "${name}" button`
  );
}

/**
 * The visible input, select or textarea named `name`.
 */
function field(root: ParentNode, name: string): HTMLInputElement {
  const found = Array.from(
    root.querySelectorAll<HTMLInputElement>('input, select, textarea')
  ).filter(
    element => accessibleName(element) === name && !element.closest('[hidden]')
  );
  if (found.length !== 1) {
    throw new Error(`${found.length} fields named "${name}"`);
  }
  return found[0];
}

/**
 * Type into an input as a user would (React listens to "input").
 */
function typeInto(input: HTMLInputElement, value: string): void {
  const setter = Object.getOwnPropertyDescriptor(
    HTMLInputElement.prototype,
    'value'
  )!.set!;
  setter.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

/**
 * The labels of the buttons of the open dialog.
 */
function dialogButtonLabels(dialog: HTMLElement): string[] {
  return Array.from(dialog.querySelectorAll('.jp-Dialog-buttonLabel')).map(
    label => label.textContent?.trim() ?? ''
  );
}

/**
 * Wait until no dialog is open.
 */
function dialogClosed(): Promise<boolean> {
  return waitFor(
    () => document.querySelector('.jp-Dialog') === null,
    'the dialog to close'
  );
}

/**
 * The detail view of the fake server's environment, attached to the page.
 */
async function renderDetail(
  server: FakeServer,
  options: { openNotebook?: (kernel: string) => void } = {}
): Promise<{
  widget: Widget;
  model: EnvironmentsModel;
  onClose: jest.Mock;
}> {
  const model = new EnvironmentsModel({
    client: new EnvModClient(makeSettings(server.fetch)),
    taskInterval: 200
  });
  await model.refresh();
  const onClose = jest.fn();
  const widget = ReactWidget.create(
    <EnvironmentDetail
      model={model}
      envId={ENV_ID}
      trans={trans}
      onClose={onClose}
      openNotebook={options.openNotebook}
    />
  );
  Widget.attach(widget, document.body);
  MessageLoop.sendMessage(widget, Widget.Msg.UpdateRequest);
  await waitFor(
    () => widget.node.querySelector('[data-section="kernel"]'),
    'the overview'
  );
  return { widget, model, onClose };
}

/**
 * Select a tab by clicking it; answer its panel.
 */
async function openTab(root: HTMLElement, name: string): Promise<HTMLElement> {
  const tab = Array.from(
    root.querySelectorAll<HTMLElement>('[role="tab"]')
  ).find(t => t.textContent === name);
  if (!tab) {
    throw new Error(`No tab "${name}"`);
  }
  tab.click();
  return waitFor(() => {
    const panel = document.getElementById(
      tab.getAttribute('aria-controls') ?? ''
    );
    return panel && !panel.hidden ? panel : null;
  }, `the ${name} panel`);
}

/**
 * The names of the packages in the table.
 */
function tableNames(panel: HTMLElement): string[] {
  return Array.from(
    panel.querySelectorAll<HTMLElement>('tbody tr[data-package]')
  ).map(row => row.dataset.package ?? '');
}

describe('EnvironmentDetail', () => {
  let rendered: { widget: Widget; model: EnvironmentsModel } | null = null;

  afterEach(() => {
    Dialog.flush();
    if (rendered) {
      rendered.widget.dispose();
      rendered.model.dispose();
      rendered = null;
    }
    jest.restoreAllMocks();
  });

  it('shows the header and switches tabs with the keyboard', async () => {
    const server = new FakeServer();
    const view = await renderDetail(server);
    rendered = view;
    const node = view.widget.node;

    expect(node.querySelector('h3')?.textContent).toBe('analysis');
    const facts = node.querySelector('.jp-EnvMod-detailFacts')!.textContent;
    expect(facts).toContain('rattler');
    expect(facts).toContain('3.12.4');
    expect(facts).toContain('ready');
    expect(facts).toContain('/home/alice/envs/analysis');

    button(node, 'Back to environments').click();
    expect(view.onClose).toHaveBeenCalledTimes(1);

    const tabs = Array.from(node.querySelectorAll<HTMLElement>('[role="tab"]'));
    expect(tabs.map(tab => tab.textContent)).toEqual([
      'Overview',
      'Packages',
      'History',
      'Share'
    ]);
    expect(tabs[0].getAttribute('aria-selected')).toBe('true');
    expect(node.querySelector('[role="tablist"]')).not.toBeNull();

    tabs[0].focus();
    tabs[0].dispatchEvent(
      new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true })
    );
    await waitFor(
      () => tabs[1].getAttribute('aria-selected') === 'true',
      'Packages to be selected'
    );
    expect(document.activeElement).toBe(tabs[1]);
    expect(tabs[0].getAttribute('tabindex')).toBe('-1');
    tabs[1].dispatchEvent(
      new KeyboardEvent('keydown', { key: 'End', bubbles: true })
    );
    await waitFor(
      () => tabs[3].getAttribute('aria-selected') === 'true',
      'Share to be selected'
    );
    const panel = document.getElementById(
      tabs[3].getAttribute('aria-controls')!
    )!;
    expect(panel.getAttribute('role')).toBe('tabpanel');
    expect(panel.hidden).toBe(false);
  });

  it('shows the kernel, the module files and how to use it', async () => {
    const server = new FakeServer();
    const openNotebook = jest.fn();
    const view = await renderDetail(server, { openNotebook });
    rendered = view;
    const node = view.widget.node;

    const kernel = node.querySelector('[data-section="kernel"]')!;
    expect(kernel.textContent).toContain('Python (analysis)');
    expect(buttons(kernel, 'Create kernel')).toHaveLength(0);
    expect(buttons(kernel, 'Remove kernel')).toHaveLength(1);
    button(kernel, 'Open notebook with this kernel').click();
    expect(openNotebook).toHaveBeenCalledWith('envmod-analysis');

    const modules = node.querySelector('[data-section="module"]')!;
    expect(modules.textContent).toContain(
      '/home/alice/modulefiles/envmod/analysis.lua'
    );
    expect(buttons(modules, 'Regenerate module files')).toHaveLength(1);

    const usage = node.querySelector('[data-section="usage"]')!;
    expect(usage.querySelector('.jp-EnvMod-commandNote')?.textContent).toBe(
      'Load it in a terminal or a batch script:'
    );
    const copy = jest
      .spyOn(Clipboard, 'copyToSystem')
      .mockImplementation(() => undefined);
    button(usage, 'Copy: module load envmod/analysis').click();
    expect(copy).toHaveBeenCalledWith('module load envmod/analysis');

    button(kernel, 'Repair kernel').click();
    await waitFor(() => view.model.task('t-kernel'), 'the kernel task');
    expect(server.find('PUT', '/kernel')).toHaveLength(1);
  });

  it('offers to create a kernel when there is none', async () => {
    const server = new FakeServer(makeDetails({ kernels: [], kernel: null }));
    const view = await renderDetail(server, { openNotebook: jest.fn() });
    rendered = view;
    const kernel = view.widget.node.querySelector('[data-section="kernel"]')!;
    expect(buttons(kernel, 'Create kernel')).toHaveLength(1);
    expect(buttons(kernel, 'Remove kernel')).toHaveLength(0);
    expect(buttons(kernel, 'Open notebook with this kernel')).toHaveLength(0);
  });

  it('disables the actions that change a busy environment', async () => {
    const server = new FakeServer(makeDetails({ state: 'busy' }));
    const view = await renderDetail(server);
    rendered = view;
    const node = view.widget.node;
    await waitFor(
      () => node.querySelector('[data-state="busy"]'),
      'the busy state'
    );
    expect(button(node, 'Repair kernel').disabled).toBe(true);
    expect(button(node, 'Delete environment…').disabled).toBe(true);
    expect(button(node, 'Download environment.yml').disabled).toBe(false);
    const packages = await openTab(node, 'Packages');
    await waitFor(() => tableNames(packages).length > 0, 'the packages');
    expect(button(packages, 'Remove numpy').disabled).toBe(true);
  });

  it('exports through a download link, and offers the explicit list only for conda', async () => {
    const server = new FakeServer();
    const view = await renderDetail(server);
    rendered = view;
    const node = view.widget.node;
    const exportSection = node.querySelector('[data-section="export"]')!;
    expect(buttons(exportSection, 'Download explicit list')).toHaveLength(1);

    const createObjectURL = jest.fn((blob: Blob) => 'blob:fake');
    const revokeObjectURL = jest.fn();
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    const clicks: { download: string; href: string }[] = [];
    jest
      .spyOn(HTMLAnchorElement.prototype, 'click')
      .mockImplementation(function (this: HTMLAnchorElement) {
        clicks.push({ download: this.download, href: this.href });
      });
    button(exportSection, 'Download requirements.txt').click();
    await waitFor(() => clicks.length > 0, 'the download');
    expect(clicks[0]).toEqual({
      download: 'analysis-requirements.txt',
      href: 'blob:fake'
    });
    const blob = createObjectURL.mock.calls[0][0];
    const content = await new Promise<string>(resolve => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.readAsText(blob);
    });
    expect(content).toBe('exported as requirements\n');
    const query = new URLSearchParams(server.find('GET', '/export')[0].query);
    expect(query.get('format')).toBe('requirements');
  });

  it('has no explicit export for a venv', async () => {
    const server = new FakeServer(makeDetails({ type: 'venv' }));
    const view = await renderDetail(server);
    rendered = view;
    const node = view.widget.node;
    const exportSection = node.querySelector('[data-section="export"]')!;
    expect(buttons(exportSection, 'Download environment.yml')).toHaveLength(1);
    expect(buttons(exportSection, 'Download requirements.txt')).toHaveLength(1);
    expect(buttons(exportSection, 'Download explicit list')).toHaveLength(0);

    const packages = await openTab(node, 'Packages');
    const manager = field(packages, 'Package manager');
    expect(
      Array.from(manager.querySelectorAll('option')).map(o => o.value)
    ).toEqual(['pip']);
  });

  it('lists the packages and filters them', async () => {
    const server = new FakeServer();
    const view = await renderDetail(server);
    rendered = view;
    const packages = await openTab(view.widget.node, 'Packages');
    await waitFor(() => tableNames(packages).length > 0, 'the packages');
    expect(tableNames(packages)).toEqual([
      'libzlib',
      'numpy',
      'python',
      'rich'
    ]);
    const numpy = packages.querySelector('tr[data-package="numpy"]')!;
    expect(numpy.textContent).toContain('1.26.4');
    expect(numpy.textContent).toContain('conda');
    expect(numpy.querySelector('.jp-EnvMod-requestedBadge')?.textContent).toBe(
      'requested'
    );
    const zlib = packages.querySelector('tr[data-package="libzlib"]')!;
    expect(zlib.querySelector('.jp-EnvMod-requestedBadge')).toBeNull();
    expect(
      packages.querySelector('tr[data-package="rich"]')!.textContent
    ).toContain('pypi');
    expect(buttons(packages, 'Update numpy')).toHaveLength(1);
    expect(buttons(packages, 'Remove numpy')).toHaveLength(1);

    typeInto(field(packages, 'Filter packages'), 'NUM');
    await waitFor(() => tableNames(packages).length === 1, 'the filter');
    expect(tableNames(packages)).toEqual(['numpy']);
    expect(packages.textContent).toContain('1 of 4 packages');

    typeInto(field(packages, 'Filter packages'), 'nothing-like-it');
    await waitFor(() => tableNames(packages).length === 0, 'the filter');
    expect(packages.textContent).toContain('No package matches');
  });

  it('previews an install, applies it and reloads when it ends', async () => {
    const server = new FakeServer();
    const view = await renderDetail(server);
    rendered = view;
    const packages = await openTab(view.widget.node, 'Packages');
    await waitFor(() => tableNames(packages).length > 0, 'the packages');
    const reads = server.find('GET', '/packages').length;

    typeInto(field(packages, 'Packages to install'), 'scipy, ');
    (await enabledButton(packages, 'Preview install')).click();

    const dialog = await openDialog();
    const dryRuns = server.find('POST', '/packages');
    expect(dryRuns).toHaveLength(1);
    expect(dryRuns[0].body).toEqual({
      install: ['scipy'],
      manager: 'conda',
      dry_run: true
    });
    expect(dialog.textContent).toContain('Install into analysis');
    expect(dialog.textContent).toContain('install 1 package(s)');
    const change = dialog.querySelector('[data-name="scipy"]')!;
    expect(change.closest('[data-kind="add"]')).not.toBeNull();
    expect(change.textContent).toContain('1.14.1');
    expect(change.textContent).toContain('conda');
    expect(dialog.textContent).toContain('Added (1)');
    expect(dialogButtonLabels(dialog)).toEqual(['Cancel', 'Apply']);

    dialogButton(dialog, 'Apply').click();
    await dialogClosed();
    await waitFor(() => view.model.task('t-install'), 'the install task');
    const posts = server.find('POST', '/packages');
    expect(posts).toHaveLength(2);
    expect(posts[1].body).toEqual({ install: ['scipy'], manager: 'conda' });
    expect(posts[1].body).not.toHaveProperty('dry_run');
    // The install input is cleared once the change started.
    await waitFor(
      () => field(packages, 'Packages to install').value === '',
      'the input to be cleared'
    );
    // The task ends (the fake server says it succeeded): packages are read again.
    await waitFor(
      () => server.find('GET', '/packages').length > reads,
      'the packages to be read again'
    );
  });

  it('sends nothing when the plan is cancelled', async () => {
    const server = new FakeServer();
    const view = await renderDetail(server);
    rendered = view;
    const packages = await openTab(view.widget.node, 'Packages');
    await waitFor(() => tableNames(packages).length > 0, 'the packages');

    button(packages, 'Remove numpy').click();
    const dialog = await openDialog();
    expect(server.find('POST', '/packages')[0].body).toEqual({
      remove: ['numpy'],
      manager: 'conda',
      dry_run: true
    });
    expect(dialog.querySelector('[data-kind="remove"]')?.textContent).toContain(
      'numpy'
    );
    dialogButton(dialog, 'Cancel').click();
    await dialogClosed();
    await enabledButton(packages, 'Remove numpy');
    expect(server.find('POST', '/packages')).toHaveLength(1);
    expect(view.model.tasks).toHaveLength(0);

    // A pip package is changed with pip.
    button(packages, 'Remove rich').click();
    await openDialog();
    expect(server.find('POST', '/packages')[1].body).toEqual({
      remove: ['rich'],
      manager: 'pip',
      dry_run: true
    });
  });

  it('shows an unsatisfiable request where the user acted', async () => {
    const server = new FakeServer();
    const view = await renderDetail(server);
    rendered = view;
    const packages = await openTab(view.widget.node, 'Packages');
    typeInto(field(packages, 'Packages to install'), 'impossible');
    (await enabledButton(packages, 'Preview install')).click();
    const form = packages.querySelector('form')!;
    const alert = await waitFor(
      () => form.querySelector('[role="alert"]'),
      'the error'
    );
    expect(alert.textContent).toContain(
      'nothing provides impossible needed by the request'
    );
    expect(document.querySelector('.jp-Dialog')).toBeNull();
    expect(field(packages, 'Packages to install').value).toBe('impossible');
  });

  it('checks for updates and previews update all', async () => {
    const server = new FakeServer();
    const view = await renderDetail(server);
    rendered = view;
    const packages = await openTab(view.widget.node, 'Packages');
    button(packages, 'Check for updates').click();
    const list = await waitFor(
      () => packages.querySelector('.jp-EnvMod-outdatedList'),
      'the outdated packages'
    );
    const numpy = list.querySelector('[data-package="numpy"]')!;
    expect(numpy.textContent).toContain('1.26.4');
    expect(numpy.textContent).toContain('2.1.0');
    expect(
      list.querySelector('[data-package="libzlib"]')!.textContent
    ).toContain('held back');

    (await enabledButton(packages, 'Update all')).click();
    const dialog = await openDialog();
    expect(server.find('POST', '/packages')[0].body).toEqual({
      update_all: true,
      dry_run: true
    });
    // Nothing would change: the dialog only says so.
    expect(dialog.textContent).toContain('Nothing would change');
    expect(dialogButtonLabels(dialog)).toEqual(['Close']);
    dialogButton(dialog, 'Close').click();
    await dialogClosed();
    expect(server.find('POST', '/packages')).toHaveLength(1);
  });

  it('lists the history and restores a revision after a preview', async () => {
    const server = new FakeServer();
    const view = await renderDetail(server);
    rendered = view;
    const history = await openTab(view.widget.node, 'History');
    const items = await waitFor(() => {
      const found = Array.from(
        history.querySelectorAll<HTMLElement>('[data-rev]')
      );
      return found.length > 0 ? found : null;
    }, 'the revisions');
    expect(items.map(item => item.dataset.rev)).toEqual(['2', '1', '0']);
    expect(items[0].textContent).toContain('Revision 2');
    expect(items[0].textContent).toContain('current');
    expect(items[0].textContent).toContain('bob');
    expect(items[0].textContent).toContain('1 changed');
    expect(items[0].textContent).toContain('1.26.3 → 1.26.4');
    expect(items[2].textContent).toContain('2 added');
    expect(buttons(items[0], 'Restore revision 2')).toHaveLength(0);
    expect(buttons(items[1], 'Restore revision 1')).toHaveLength(1);

    button(history, 'Restore revision 1').click();
    const dialog = await openDialog();
    const restores = server.find('POST', '/history/1/restore');
    expect(restores).toHaveLength(1);
    expect(restores[0].body).toEqual({ dry_run: true });
    expect(dialog.textContent).toContain('restore revision 1');
    expect(dialog.querySelector('[data-kind="change"]')?.textContent).toContain(
      '1.26.4 → 1.26.3'
    );
    dialogButton(dialog, 'Apply').click();
    await waitFor(() => view.model.task('t-restore'), 'the restore task');
    const all = server.find('POST', '/history/1/restore');
    expect(all).toHaveLength(2);
    expect(all[1].body).toEqual({ dry_run: false });
  });

  it('shows what to share', async () => {
    const server = new FakeServer();
    const view = await renderDetail(server);
    rendered = view;
    const share = await openTab(view.widget.node, 'Share');
    const spec = await waitFor(
      () => share.querySelector('pre'),
      'the specification'
    );
    expect(spec.textContent).toBe(SHARE.spec.text);
    const copy = jest
      .spyOn(Clipboard, 'copyToSystem')
      .mockImplementation(() => undefined);
    button(share, 'Copy spec').click();
    expect(copy).toHaveBeenLastCalledWith(SHARE.spec.text);
    expect(buttons(share, 'Download spec')).toHaveLength(1);
    button(
      share,
      'Copy: envmod create --file analysis-environment.yml'
    ).click();
    expect(copy).toHaveBeenLastCalledWith(
      'envmod create --file analysis-environment.yml'
    );
    expect(buttons(share, 'Copy: module load envmod/analysis')).toHaveLength(1);
    expect(share.textContent).toContain(
      'Shared environments are read-only for others.'
    );
    expect(share.textContent).toContain('Owner: alice');
    expect(share.textContent).toContain('Only the owner can change it.');
    expect(share.textContent).toContain('You can change it.');
  });
});

describe('confirmDelete', () => {
  let model: EnvironmentsModel | null = null;

  afterEach(() => {
    Dialog.flush();
    model?.dispose();
    model = null;
  });

  it('lists what is removed and deletes only on accept', async () => {
    const server = new FakeServer();
    model = new EnvironmentsModel({
      client: new EnvModClient(makeSettings(server.fetch))
    });
    await model.refresh();

    let result = confirmDelete({ model, envId: ENV_ID, trans });
    let dialog = await openDialog();
    expect(dialog.querySelector('.jp-Dialog-header')?.textContent).toContain(
      'Delete environment'
    );
    const text = dialog.textContent ?? '';
    expect(text).toContain('/home/alice/envs/analysis');
    expect(text).toContain('Python (analysis)');
    expect(text).toContain(
      '/home/alice/.local/share/jupyter/kernels/envmod-analysis'
    );
    expect(text).toContain('/home/alice/modulefiles/envmod/analysis.lua');
    expect(dialogButtonLabels(dialog)).toEqual(['Cancel', 'Delete']);
    const warn = dialogButton(dialog, 'Delete');
    expect(warn.classList.contains('jp-mod-warn')).toBe(true);
    // The button's name comes from its label (aria-label "Delete").
    const warnLabel = warn.querySelector('.jp-Dialog-buttonLabel');
    expect((warnLabel as unknown as { ariaLabel: string }).ariaLabel).toBe(
      'Delete'
    );

    dialogButton(dialog, 'Cancel').click();
    await expect(result).resolves.toBeNull();
    expect(server.find('DELETE', `environments/${ENV_ID}`)).toHaveLength(0);

    result = confirmDelete({ model, envId: ENV_ID, trans });
    dialog = await openDialog();
    dialogButton(dialog, 'Delete').click();
    const task = await result;
    expect(task?.id).toBe('t-delete');
    expect(server.find('DELETE', `environments/${ENV_ID}`)).toHaveLength(1);
    expect(model.task('t-delete')).toBeDefined();
  });
});
