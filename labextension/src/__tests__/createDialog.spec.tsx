import { Dialog } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { EnvModClient } from '../api';
import { ISiteInfo, ITask, TRANSLATION_DOMAIN } from '../tokens';
import {
  CreateController,
  CreateDialog,
  CreateFormWidget,
  PackageCompleter,
  showCreateDialog,
  wordAt
} from '../widgets/CreateDialog';
import {
  fakeFetch,
  jsonResponse,
  makeSettings,
  makeSiteInfo,
  waitFor
} from './fixtures';

const trans = nullTranslator.load(TRANSLATION_DOMAIN);

/**
 * A task as the server answers a create with 202.
 */
function makeTask(name: string): ITask {
  return {
    id: 'task-1',
    kind: 'create',
    environment: { path: `/home/alice/envs/${name}`, name, id: 'env-1' },
    state: 'queued',
    phase: 'queued',
    progress: null,
    created: 1700000000,
    started: null,
    finished: null,
    log: [],
    next_offset: 0,
    result: null,
    error: null
  };
}

/**
 * What the fake server answers to `POST /environments`.
 */
type CreateAnswer = (body: { [key: string]: unknown }) => Response;

/**
 * A fake jupyter_envmod server: the requests it got, and a client for it.
 */
function makeServer(
  options: {
    create?: CreateAnswer;
    names?: string[];
    complete?: boolean;
  } = {}
): {
  client: EnvModClient;
  fetch: jest.Mock<Promise<Response>, [Request]>;
  creates: { [key: string]: unknown }[];
  searches: URL[];
} {
  const creates: { [key: string]: unknown }[] = [];
  const searches: URL[] = [];
  const fetch = fakeFetch(async request => {
    const url = new URL(request.url);
    if (url.pathname.endsWith('/envmod/environments')) {
      const body = JSON.parse(await request.text());
      creates.push(body);
      return options.create
        ? options.create(body)
        : jsonResponse(makeTask(String(body.name)), 202);
    }
    if (url.pathname.endsWith('/envmod/packages/search')) {
      searches.push(url);
      const query = (url.searchParams.get('q') ?? '').toLowerCase();
      const names = (
        options.names ?? ['numpy', 'numpy-base', 'numpydoc', 'numba', 'scipy']
      ).filter(name => name.includes(query));
      return jsonResponse({
        query,
        engine: url.searchParams.get('engine'),
        names,
        complete: options.complete ?? true
      });
    }
    if (url.pathname.endsWith('/envmod/modules/available')) {
      return jsonResponse({
        loaded: ['gcc/12.2.0', 'openmpi/4.1.5'],
        available: ['cuda/12.2', 'gcc/12.2.0', 'openmpi/4.1.5', 'python/3.11']
      });
    }
    return jsonResponse({ message: 'Not Found', reason: '', details: {} }, 404);
  });
  return {
    client: new EnvModClient(makeSettings(fetch)),
    fetch,
    creates,
    searches
  };
}

/**
 * The options of the dialog and the controller.
 */
function makeOptions(
  client: EnvModClient,
  overrides: Partial<CreateDialog.IOptions> = {}
): CreateController.IOptions {
  return {
    client,
    site: makeSiteInfo(),
    trans,
    existingNames: ['old'],
    defaults: {
      engine: '',
      python: '',
      kernel: true,
      modules: false,
      root: ''
    },
    searchDelay: 10,
    ...overrides
  };
}

/**
 * The control a visible label names (like getByLabelText).
 */
function byLabel<T extends HTMLElement = HTMLInputElement>(
  root: HTMLElement,
  text: string
): T {
  const labels = Array.from(root.querySelectorAll('label')).filter(
    label => (label.textContent ?? '').trim() === text
  );
  if (labels.length !== 1) {
    throw new Error(`${labels.length} labels "${text}"`);
  }
  const label = labels[0];
  const control = label.htmlFor
    ? root.ownerDocument.getElementById(label.htmlFor)
    : label.querySelector('input, select, textarea');
  if (!control) {
    throw new Error(`The label "${text}" names no control.`);
  }
  return control as T;
}

/**
 * A button by its accessible name (its aria-label, else its text).
 */
function button(root: HTMLElement, name: string): HTMLButtonElement {
  const found = Array.from(root.querySelectorAll('button')).find(
    node =>
      (node.getAttribute('aria-label') ?? node.textContent ?? '').trim() ===
      name
  );
  if (!found) {
    throw new Error(`No button "${name}".`);
  }
  return found;
}

/**
 * Type a value into a box as a user does (React sees an input event).
 */
function type(
  element: HTMLInputElement | HTMLTextAreaElement,
  value: string
): void {
  const prototype =
    element instanceof HTMLTextAreaElement
      ? HTMLTextAreaElement.prototype
      : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(prototype, 'value')!.set!.call(
    element,
    value
  );
  element.setSelectionRange(value.length, value.length);
  element.dispatchEvent(new Event('input', { bubbles: true }));
}

/**
 * Choose an option of a select.
 */
function choose(element: HTMLSelectElement, value: string): void {
  Object.getOwnPropertyDescriptor(
    HTMLSelectElement.prototype,
    'value'
  )!.set!.call(element, value);
  element.dispatchEvent(new Event('change', { bubbles: true }));
}

/**
 * Press a key in an element.
 */
function press(element: HTMLElement, key: string): void {
  element.dispatchEvent(
    new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true })
  );
}

/**
 * The message shown for a control (through aria-describedby).
 */
function messageOf(control: HTMLElement): string | null {
  const ids = (control.getAttribute('aria-describedby') ?? '').split(' ');
  for (const id of ids) {
    const node = id ? control.ownerDocument.getElementById(id) : null;
    if (node?.getAttribute('role') === 'alert') {
      return node.textContent;
    }
  }
  return null;
}

describe('CreateForm', () => {
  let widget: CreateFormWidget | null = null;
  let controller: CreateController | null = null;

  afterEach(() => {
    widget?.dispose();
    controller?.dispose();
    widget = null;
    controller = null;
  });

  /**
   * Render the form for a fake server.
   */
  async function render(
    server: ReturnType<typeof makeServer>,
    overrides: Partial<CreateDialog.IOptions> = {}
  ): Promise<HTMLElement> {
    controller = new CreateController(makeOptions(server.client, overrides));
    widget = new CreateFormWidget({ controller, autoFocus: false });
    Widget.attach(widget, document.body);
    const node = widget.node;
    await waitFor(
      () => node.querySelector('form') !== null,
      'the form to render'
    );
    return node;
  }

  it('labels every control', async () => {
    const node = await render(makeServer());
    for (const label of [
      'Name',
      'Location',
      'Engine',
      'Python version',
      'Packages',
      'pip packages',
      'Channels',
      'From file',
      'Create Jupyter kernel',
      'Display name',
      'Create module files',
      'Module dependencies'
    ]) {
      expect(byLabel(node, label)).toBeTruthy();
    }
    expect(button(node, 'Advanced').getAttribute('aria-expanded')).toBe(
      'false'
    );
    expect(byLabel(node, 'From file').getAttribute('accept')).toBe(
      '.yml,.yaml,.txt,.lock'
    );
    // The kernel is on by default, the module files are not.
    expect(byLabel(node, 'Create Jupyter kernel').checked).toBe(true);
    expect(byLabel(node, 'Create module files').checked).toBe(false);
    expect(byLabel(node, 'Display name').placeholder).toBe('Python (name)');
    expect(byLabel(node, 'Python version').placeholder).toBe('3.12');
    expect(byLabel(node, 'Channels').placeholder).toBe('conda-forge');
  });

  it('offers the roots and another path', async () => {
    const node = await render(makeServer());
    const location = byLabel<HTMLSelectElement>(node, 'Location');
    expect(Array.from(location.options).map(option => option.text)).toEqual([
      '/home/alice/envs (default)',
      '/shared/envs',
      '/shared (shared)',
      'Other path…'
    ]);
    type(byLabel(node, 'Name'), 'analysis');
    await waitFor(() =>
      (node.textContent ?? '').includes(
        'The environment goes to /home/alice/envs/analysis.'
      )
    );

    choose(location, '__custom__');
    await waitFor(() => node.querySelector('input[required]') !== null);
    expect(() => byLabel(node, 'Name')).toThrow();
    const path = byLabel(node, 'Path');
    expect(path.required).toBe(true);
    type(path, 'envs/rel');
    await waitFor(() => path.getAttribute('aria-invalid') === 'true');
    expect(messageOf(path)).toBe(
      "'envs/rel' is relative: give an absolute path or one starting with ~."
    );
  });

  it('disables the engines that are not available and says why', async () => {
    const node = await render(makeServer());
    const engine = byLabel<HTMLSelectElement>(node, 'Engine');
    const options = Array.from(engine.options);
    expect(options.map(option => [option.value, option.disabled])).toEqual([
      ['rattler', false],
      ['conda', true],
      ['venv', false]
    ]);
    expect(options[1].text).toBe('conda (not available)');
    expect(engine.value).toBe('rattler');
    expect(node.textContent).toContain(
      "conda is not available: conda executable 'conda' not found on PATH"
    );
  });

  it('shows the problem of a bad name at the name box', async () => {
    const node = await render(makeServer());
    const name = byLabel(node, 'Name');
    // Empty at first: invalid, but nothing said yet.
    expect(name.required).toBe(true);
    expect(name.getAttribute('aria-invalid')).toBeNull();
    expect(node.querySelector('[role="alert"]')).toBeNull();
    expect(controller!.canSubmit).toBe(false);

    type(name, '.hidden');
    await waitFor(() => name.getAttribute('aria-invalid') === 'true');
    expect(name.classList.contains('jp-mod-error')).toBe(true);
    expect(messageOf(name)).toBe(
      "Invalid environment name '.hidden'; use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'."
    );

    type(name, 'old');
    await waitFor(() => (messageOf(name) ?? '').includes('already exists'));
    expect(messageOf(name)).toBe(
      'An environment called old already exists in /home/alice/envs. Choose another name.'
    );

    type(name, 'fresh');
    await waitFor(() => name.getAttribute('aria-invalid') === null);
    expect(name.classList.contains('jp-mod-error')).toBe(false);
    expect(messageOf(name)).toBeNull();
    expect(controller!.canSubmit).toBe(true);
  });

  it('sends nothing while the form is invalid', async () => {
    const server = makeServer();
    const node = await render(server);
    expect(await controller!.submit()).toBeNull();
    expect(server.creates).toHaveLength(0);
    const name = byLabel(node, 'Name');
    await waitFor(() => messageOf(name) !== null);
    expect(messageOf(name)).toBe('Give the environment a name.');
  });

  it('sends the request and answers with the task', async () => {
    const server = makeServer();
    const node = await render(server);
    type(byLabel(node, 'Name'), 'analysis');
    type(byLabel(node, 'Python version'), '3.11');
    type(byLabel<HTMLTextAreaElement>(node, 'Packages'), 'numpy scipy');
    type(byLabel<HTMLTextAreaElement>(node, 'pip packages'), 'requests');
    byLabel(node, 'Create module files').click();
    await waitFor(() => node.querySelector('fieldset') !== null);
    byLabel(node, 'tcl').click();
    await waitFor(() => controller!.form.formats.includes('tcl'));

    const task = await controller!.submit();
    expect(task?.id).toBe('task-1');
    expect(server.creates).toEqual([
      {
        name: 'analysis',
        engine: 'rattler',
        python: '3.11',
        packages: ['numpy', 'scipy'],
        pip_packages: ['requests'],
        kernel: { create: true },
        module: { create: true, formats: ['lua', 'tcl'] }
      }
    ]);
  });

  it("shows the server's message at the field it names", async () => {
    const server = makeServer({
      create: () =>
        jsonResponse(
          {
            message:
              "python: invalid Python version '3.99'; no such Python on conda-forge",
            reason: 'invalid-input',
            details: { field: 'python' }
          },
          400
        )
    });
    const node = await render(server);
    type(byLabel(node, 'Name'), 'analysis');
    const python = byLabel(node, 'Python version');
    type(python, '3.99');
    type(byLabel<HTMLTextAreaElement>(node, 'Packages'), 'numpy');

    expect(await controller!.submit()).toBeNull();
    expect(server.creates).toHaveLength(1);
    await waitFor(() => python.getAttribute('aria-invalid') === 'true');
    expect(messageOf(python)).toBe(
      "python: invalid Python version '3.99'; no such Python on conda-forge"
    );
    expect(python.classList.contains('jp-mod-error')).toBe(true);
    // Only there, and what was typed stays.
    expect(node.querySelectorAll('[role="alert"]')).toHaveLength(1);
    expect(byLabel(node, 'Name').value).toBe('analysis');
    expect(python.value).toBe('3.99');
    expect(byLabel<HTMLTextAreaElement>(node, 'Packages').value).toBe('numpy');
    // The same request would fail again: not before the field changes.
    expect(controller!.canSubmit).toBe(false);
    type(python, '3.12');
    await waitFor(() => python.getAttribute('aria-invalid') === null);
    expect(controller!.canSubmit).toBe(true);
  });

  it('shows a spec file error at "From file"', async () => {
    const server = makeServer({
      create: () =>
        jsonResponse(
          {
            message: "environment.yml, line 3: unknown key 'dependences'",
            reason: 'invalid-input',
            details: { file: 'environment.yml', line: 3 }
          },
          400
        )
    });
    const node = await render(server, {
      spec: { filename: 'environment.yml', content: 'name: fromfile\n' }
    });
    // The file's name fills the name box; the file shows in "Advanced".
    expect(byLabel(node, 'Name').value).toBe('fromfile');
    expect(button(node, 'Advanced').getAttribute('aria-expanded')).toBe('true');
    expect(node.querySelector('.jp-EnvMod-createFileName')?.textContent).toBe(
      'environment.yml'
    );
    expect(await controller!.submit()).toBeNull();
    const remove = button(node, 'Remove file');
    await waitFor(() => messageOf(remove) !== null);
    expect(messageOf(remove)).toBe(
      "environment.yml, line 3: unknown key 'dependences'"
    );
    remove.click();
    await waitFor(
      () => node.querySelector('.jp-EnvMod-createFileName') === null
    );
    expect(controller!.form.spec).toBeNull();
    expect(node.querySelector('[role="alert"]')).toBeNull();
  });

  it('reads a chosen file', async () => {
    const node = await render(makeServer());
    button(node, 'Advanced').click();
    const input = byLabel(node, 'From file');
    const file = new File(['name: picked\ndependencies: [numpy]\n'], 'env.yml');
    Object.defineProperty(input, 'files', { value: [file] });
    input.dispatchEvent(new Event('change', { bubbles: true }));
    await waitFor(() => controller!.form.spec !== null, 'the file');
    expect(controller!.form.spec).toEqual({
      filename: 'env.yml',
      content: 'name: picked\ndependencies: [numpy]\n'
    });
    await waitFor(
      () => node.querySelector('.jp-EnvMod-createFileName') !== null
    );
    expect(byLabel(node, 'Name').value).toBe('picked');
  });

  it('shows an error about the whole request at the top', async () => {
    const server = makeServer({
      create: () =>
        jsonResponse(
          {
            message: '/home/alice/envs/analysis is busy: another task runs.',
            reason: 'busy',
            details: {}
          },
          409
        )
    });
    const node = await render(server);
    type(byLabel(node, 'Name'), 'analysis');
    expect(await controller!.submit()).toBeNull();
    await waitFor(() => node.querySelector('.jp-EnvMod-formError') !== null);
    const alert = node.querySelector('.jp-EnvMod-formError')!;
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toBe(
      '/home/alice/envs/analysis is busy: another task runs.'
    );
    expect(node.querySelector('form')!.firstElementChild).toBe(alert);
    // It may be tried again.
    expect(controller!.canSubmit).toBe(true);
  });

  it('suggests package names as the user types', async () => {
    const server = makeServer();
    const node = await render(server);
    const packages = byLabel<HTMLTextAreaElement>(node, 'Packages');
    type(packages, 'scipy nump');
    // Typing is never blocked.
    expect(packages.value).toBe('scipy nump');
    await waitFor(
      () => node.querySelector('[role="listbox"]') !== null,
      'the suggestions'
    );
    expect(server.searches).toHaveLength(1);
    const url = server.searches[0];
    expect(url.pathname).toBe('/user/alice/envmod/packages/search');
    expect(url.searchParams.get('q')).toBe('nump');
    expect(url.searchParams.get('engine')).toBe('rattler');

    const listbox = node.querySelector('[role="listbox"]')!;
    expect(listbox.getAttribute('aria-label')).toBe('Package suggestions');
    expect(packages.getAttribute('aria-controls')).toBe(listbox.id);
    const options = Array.from(listbox.querySelectorAll('[role="option"]'));
    expect(options.map(option => option.textContent)).toEqual([
      'numpy',
      'numpy-base',
      'numpydoc'
    ]);

    press(packages, 'ArrowDown');
    press(packages, 'ArrowDown');
    await waitFor(
      () => packages.getAttribute('aria-activedescendant') === options[1].id
    );
    expect(options[1].getAttribute('aria-selected')).toBe('true');
    press(packages, 'Enter');
    await waitFor(() => packages.value === 'scipy numpy-base');
    expect(node.querySelector('[role="listbox"]')).toBeNull();
    expect(controller!.form.packages).toBe('scipy numpy-base');
  });

  it('searches pip names for pip packages', async () => {
    const server = makeServer({ names: ['requests', 'requests-oauthlib'] });
    const node = await render(server);
    type(byLabel<HTMLTextAreaElement>(node, 'pip packages'), 'req');
    await waitFor(() => node.querySelector('[role="listbox"]') !== null);
    expect(server.searches[0].searchParams.get('engine')).toBe('venv');
    expect(
      node.querySelector('[role="listbox"]')!.getAttribute('aria-label')
    ).toBe('pip package suggestions');
  });

  it('picks module dependencies', async () => {
    const server = makeServer();
    const node = await render(server);
    await waitFor(
      () =>
        Array.from(node.querySelectorAll('button')).some(
          b => b.textContent === 'Add loaded modules'
        ),
      'the modules'
    );
    const input = byLabel(node, 'Module dependencies');
    const list = node.ownerDocument.getElementById(input.getAttribute('list')!);
    // Loaded modules are offered first.
    expect(
      Array.from(list!.querySelectorAll('option')).map(option => option.value)
    ).toEqual(['gcc/12.2.0', 'openmpi/4.1.5', 'cuda/12.2', 'python/3.11']);

    button(node, 'Add loaded modules').click();
    await waitFor(
      () => node.querySelectorAll('.jp-EnvMod-createChip').length === 2
    );
    expect(button(node, 'Add loaded modules').disabled).toBe(true);

    type(input, 'cuda/12.2');
    press(input, 'Enter');
    await waitFor(
      () => node.querySelectorAll('.jp-EnvMod-createChip').length === 3
    );
    expect(input.value).toBe('');

    button(node, 'Remove openmpi/4.1.5').click();
    await waitFor(
      () => node.querySelectorAll('.jp-EnvMod-createChip').length === 2
    );
    expect(controller!.form.dependencies).toEqual(['gcc/12.2.0', 'cuda/12.2']);

    type(input, 'gcc/');
    await waitFor(() => !button(node, 'Add module').disabled);
    button(node, 'Add module').click();
    await waitFor(() => input.getAttribute('aria-invalid') === 'true');
    expect(messageOf(input)).toBe(
      "'gcc/' is not a module name; give names as 'module list' shows them, e.g. 'gcc/12.2.0' (letters, digits and . _ + - / : @ % =)."
    );
    expect(controller!.canSubmit).toBe(false);
  });

  it('requires a module file format', async () => {
    const node = await render(makeServer(), {
      defaults: {
        engine: '',
        python: '',
        kernel: false,
        modules: true,
        root: ''
      }
    });
    const formats = node.querySelector('fieldset')!;
    expect(formats.querySelector('legend')?.textContent).toBe(
      'Module file formats'
    );
    const lua = byLabel(node, 'lua');
    expect(lua.checked).toBe(true);
    lua.click();
    await waitFor(() => formats.getAttribute('aria-invalid') === 'true');
    expect(formats.classList.contains('jp-mod-error')).toBe(true);
    expect(messageOf(formats)).toBe('Choose at least one module file format.');
  });
});

describe('wordAt', () => {
  it('finds the package name at the caret', () => {
    expect(wordAt('scipy nump', 10)).toEqual({
      query: 'nump',
      start: 6,
      end: 10
    });
    expect(wordAt('nump scipy', 2)).toEqual({ query: 'nu', start: 0, end: 4 });
    expect(wordAt('conda-forge::nu', 15)).toEqual({
      query: 'nu',
      start: 13,
      end: 15
    });
    expect(wordAt('numpy>=1', 8)).toBeNull();
    expect(wordAt('numpy ', 6)).toBeNull();
  });
});

describe('PackageCompleter', () => {
  it('drops answers to words no longer typed', async () => {
    const answers: { [query: string]: (names: string[]) => void } = {};
    const completer = new PackageCompleter({
      delay: 0,
      search: query =>
        new Promise(resolve => {
          answers[query] = names =>
            resolve({ query, engine: 'rattler', names, complete: true });
        })
    });
    completer.update('nu', 2);
    await waitFor(() => answers.nu !== undefined);
    completer.update('sci', 3);
    await waitFor(() => answers.sci !== undefined);
    answers.nu(['numpy']);
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(completer.names).toEqual([]);
    answers.sci(['scipy']);
    await waitFor(() => completer.open);
    expect(completer.names).toEqual(['scipy']);
    expect(completer.accept('sci', 0)).toEqual({ text: 'scipy', caret: 5 });
    expect(completer.open).toBe(false);
    completer.dispose();
  });
});

describe('showCreateDialog', () => {
  afterEach(() => {
    Dialog.flush();
  });

  /**
   * The open dialog, once its form is shown.
   */
  async function openDialog(): Promise<HTMLElement> {
    await waitFor(
      () =>
        document.querySelector('.jp-EnvMod-createDialog form input') !== null,
      'the dialog'
    );
    return document.querySelector<HTMLElement>('.jp-EnvMod-createDialog')!;
  }

  /**
   * The accept button of the dialog.
   */
  function createButton(dialog: HTMLElement): HTMLButtonElement {
    const node = dialog.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    )!;
    expect(node.textContent).toBe('Create');
    return node;
  }

  it('creates and resolves with the task', async () => {
    const server = makeServer();
    const result = showCreateDialog(makeOptions(server.client));
    const dialog = await openDialog();
    expect(dialog.getAttribute('aria-label')).toBe('New environment');
    expect(dialog.querySelector('.jp-Dialog-header')?.textContent).toContain(
      'New environment'
    );
    const create = createButton(dialog);
    // An empty name keeps "Create" disabled.
    await waitFor(() => create.disabled, 'Create to be disabled');

    type(byLabel(dialog, 'Name'), '-bad');
    await waitFor(() => messageOf(byLabel(dialog, 'Name')) !== null);
    expect(create.disabled).toBe(true);

    type(byLabel(dialog, 'Name'), 'analysis');
    await waitFor(() => !create.disabled, 'Create to be enabled');
    create.click();
    const task = await result;
    expect(task?.environment.name).toBe('analysis');
    expect(server.creates).toHaveLength(1);
    expect(server.creates[0].name).toBe('analysis');
    expect(document.querySelector('.jp-EnvMod-createDialog')).toBeNull();
  });

  it('stays open with the message when the server refuses', async () => {
    let refuse = true;
    const server = makeServer({
      create: body =>
        refuse
          ? jsonResponse(
              {
                message:
                  '/home/alice/envs/analysis already exists. Choose another name or path, or delete that environment first.',
                reason: 'invalid-input',
                details: { field: 'name' }
              },
              400
            )
          : jsonResponse(makeTask(String(body.name)), 202)
    });
    const result = showCreateDialog(makeOptions(server.client));
    const dialog = await openDialog();
    const name = byLabel(dialog, 'Name');
    type(name, 'analysis');
    const create = createButton(dialog);
    await waitFor(() => !create.disabled);
    // Enter in the name box submits.
    name.focus();
    press(name, 'Enter');
    await waitFor(() => server.creates.length === 1, 'the request');
    await waitFor(() => messageOf(name) !== null);
    expect(messageOf(name)).toContain('already exists');
    expect(document.querySelector('.jp-EnvMod-createDialog')).not.toBeNull();
    expect(name.value).toBe('analysis');
    await waitFor(() => create.disabled);

    refuse = false;
    type(name, 'analysis2');
    await waitFor(() => !create.disabled);
    create.click();
    expect((await result)?.environment.name).toBe('analysis2');
  });

  it('resolves with null on cancel and sends nothing', async () => {
    const server = makeServer();
    const result = showCreateDialog(makeOptions(server.client));
    const dialog = await openDialog();
    type(byLabel(dialog, 'Name'), 'analysis');
    dialog
      .querySelector<HTMLButtonElement>('.jp-Dialog-button.jp-mod-reject')!
      .click();
    expect(await result).toBeNull();
    expect(server.creates).toHaveLength(0);
  });

  it('works without site information', async () => {
    const server = makeServer();
    const result = showCreateDialog(
      makeOptions(server.client, { site: null as ISiteInfo | null })
    );
    const dialog = await openDialog();
    expect(
      Array.from(byLabel<HTMLSelectElement>(dialog, 'Engine').options).map(
        option => option.value
      )
    ).toEqual(['rattler', 'conda', 'venv']);
    type(byLabel(dialog, 'Name'), 'x');
    const create = createButton(dialog);
    await waitFor(() => !create.disabled);
    create.click();
    expect(await result).not.toBeNull();
    expect(server.creates[0]).toMatchObject({ name: 'x', engine: 'rattler' });
  });
});
