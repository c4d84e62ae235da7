import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { caretDownEmptyIcon, ReactWidget } from '@jupyterlab/ui-components';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { PanelLayout, Widget } from '@lumino/widgets';
import * as React from 'react';

import { EnvModAPIError, EnvModClient } from '../api';
import {
  ENGINE_NAMES,
  EngineName,
  IAvailableModules,
  IEngineInfo,
  ISearchResult,
  ISiteInfo,
  ITask,
  MODULE_FORMATS,
  ModuleFormat
} from '../tokens';
import {
  buildCreateRequest,
  CREATE_FIELDS,
  CreateField,
  CUSTOM_PATH,
  defaultRoot,
  environmentRoots,
  fieldOfError,
  ICreateErrors,
  ICreateForm,
  MAX_SPEC_BYTES,
  sendsName,
  specName,
  splitList,
  targetPath,
  validateCreate
} from '../validate';

/**
 * The delay between a keystroke in a package box and the search it starts.
 */
const SEARCH_DELAY = 250;

/**
 * How many suggestions a package box shows.
 */
const SEARCH_LIMIT = 20;

/**
 * The characters of a package name, as the search accepts them.
 */
const NAME_CHARS = /^[A-Za-z0-9._-]+/;

/**
 * The word a package box completes: the package name the caret is in.
 *
 * @param text - The box's text.
 * @param caret - The caret's offset in `text`.
 * @returns The name typed so far (`query`, from the start of the name to the
 *   caret) and the range `[start, end)` of the whole name, which a chosen
 *   suggestion replaces; null when the caret is not in a package name (e.g.
 *   in a version constraint).
 */
export function wordAt(
  text: string,
  caret: number
): { query: string; start: number; end: number } | null {
  const separator = /[\s,]/;
  let start = caret;
  while (start > 0 && !separator.test(text[start - 1])) {
    start--;
  }
  let end = caret;
  while (end < text.length && !separator.test(text[end])) {
    end++;
  }
  // "conda-forge::numpy": complete the name after the channel.
  const channel = text.slice(start, end).lastIndexOf('::');
  if (channel !== -1) {
    start += channel + 2;
  }
  if (caret <= start) {
    return null;
  }
  const name = NAME_CHARS.exec(text.slice(start, end));
  if (!name || start + name[0].length < caret) {
    return null;
  }
  return {
    query: text.slice(start, caret),
    start,
    end: start + name[0].length
  };
}

/**
 * The name completion of one package box.
 *
 * `update()` is called on every keystroke and never waits: the search runs
 * after a pause in typing, and an answer that arrives once the word changed
 * is dropped.
 */
export class PackageCompleter implements IDisposable {
  constructor(options: PackageCompleter.IOptions) {
    this._search = options.search;
    this._delay = options.delay ?? SEARCH_DELAY;
    this._minLength = options.minLength ?? 2;
  }

  /**
   * Emitted when the suggestions change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The suggested names (empty when the list is closed).
   */
  get names(): ReadonlyArray<string> {
    return this._names;
  }

  /**
   * The index of the highlighted suggestion, or -1.
   */
  get active(): number {
    return this._active;
  }

  /**
   * Whether suggestions are shown.
   */
  get open(): boolean {
    return this._names.length > 0;
  }

  /**
   * The name being completed, or null.
   */
  get query(): string | null {
    return this._word?.query ?? null;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Follow the text of the box: search the word at the caret after a pause.
   */
  update(text: string, caret: number): void {
    window.clearTimeout(this._timer);
    const word = wordAt(text, caret);
    if (!word || word.query.length < this._minLength) {
      this._word = null;
      this._serial++;
      this._set([]);
      return;
    }
    const previous = this._word?.query;
    this._word = word;
    if (previous === word.query) {
      return;
    }
    // Keep the names that still fit while the new answer is on its way.
    const needle = word.query.toLowerCase();
    this._set(
      this._names.filter(name => name.toLowerCase().includes(needle)),
      this._active
    );
    this._retries = 0;
    this._schedule(word.query, this._delay);
  }

  /**
   * Highlight the next (`1`) or previous (`-1`) suggestion.
   */
  move(delta: number): void {
    if (this._names.length === 0) {
      return;
    }
    const count = this._names.length;
    const next =
      this._active === -1
        ? delta > 0
          ? 0
          : count - 1
        : (this._active + delta + count) % count;
    this._set(this._names, next);
  }

  /**
   * Close the suggestions until the next keystroke.
   */
  close(): void {
    window.clearTimeout(this._timer);
    this._serial++;
    this._word = null;
    this._set([]);
  }

  /**
   * Put a suggestion in the text in place of the word being typed.
   *
   * @param text - The box's text.
   * @param index - The suggestion; defaults to the highlighted one.
   * @returns The new text and caret, or null when there is nothing to accept.
   */
  accept(
    text: string,
    index: number = this._active
  ): { text: string; caret: number } | null {
    const name = this._names[index];
    const word = this._word;
    if (name === undefined || word === null) {
      return null;
    }
    this.close();
    return {
      text: text.slice(0, word.start) + name + text.slice(word.end),
      caret: word.start + name.length
    };
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    window.clearTimeout(this._timer);
    this._serial++;
    Signal.clearData(this);
  }

  private _schedule(query: string, delay: number): void {
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => {
      void this._run(query);
    }, delay);
  }

  private async _run(query: string): Promise<void> {
    const serial = ++this._serial;
    let result: ISearchResult;
    try {
      result = await this._search(query);
    } catch {
      // Completion is a help only: a failed search offers nothing.
      if (serial === this._serial) {
        this._set([]);
      }
      return;
    }
    if (
      this._isDisposed ||
      serial !== this._serial ||
      this._word?.query !== query
    ) {
      return;
    }
    this._set(result.names.slice(0, SEARCH_LIMIT));
    // The server is still loading the package index: ask again later.
    if (!result.complete && this._retries < 3) {
      this._retries++;
      this._schedule(query, 1500);
    }
  }

  private _set(names: string[], active = -1): void {
    const same =
      names.length === this._names.length &&
      names.every((name, i) => name === this._names[i]);
    const nextActive = active < names.length ? active : -1;
    if (same && nextActive === this._active) {
      return;
    }
    this._names = names;
    this._active = nextActive;
    this._changed.emit();
  }

  private _active = -1;
  private _changed = new Signal<this, void>(this);
  private _delay: number;
  private _isDisposed = false;
  private _minLength: number;
  private _names: string[] = [];
  private _retries = 0;
  private _search: (query: string) => Promise<ISearchResult>;
  private _serial = 0;
  private _timer = 0;
  private _word: { query: string; start: number; end: number } | null = null;
}

/**
 * The namespace for `PackageCompleter` statics.
 */
export namespace PackageCompleter {
  /**
   * The options to create a completer.
   */
  export interface IOptions {
    /**
     * Search package names starting with or containing `query`.
     */
    search: (query: string) => Promise<ISearchResult>;
    /**
     * The pause in typing before a search, in milliseconds (250).
     */
    delay?: number;
    /**
     * The shortest word searched (2).
     */
    minLength?: number;
  }
}

/**
 * The fields a change of a form key concerns.
 */
const FIELDS_OF_KEY: { [key in keyof ICreateForm]: CreateField[] } = {
  name: ['name'],
  location: ['name', 'path'],
  customPath: ['path'],
  engine: ['engine', 'spec'],
  python: ['python'],
  packages: ['packages'],
  pipPackages: ['pip_packages'],
  channels: ['channels'],
  spec: ['spec'],
  kernel: ['kernel.display_name'],
  displayName: ['kernel.display_name'],
  modules: ['module.formats'],
  formats: ['module.formats'],
  dependencies: ['module.dependencies']
};

/**
 * The state and the actions of the "New environment" form, shared by the
 * dialog and the React form (and used by the tests).
 */
export class CreateController implements IDisposable {
  constructor(options: CreateController.IOptions) {
    this.client = options.client;
    this.site = options.site;
    this.trans = options.trans;
    this.existingNames = options.existingNames;
    this.existingPaths = options.existingPaths;
    this._form = CreateController.initialForm(options);
    this._advanced = options.spec !== undefined;
    this.completers = {
      packages: new PackageCompleter({
        delay: options.searchDelay,
        search: query => {
          const channels = this._validChannels();
          return this.client.search(query, {
            engine: this._form.engine,
            limit: SEARCH_LIMIT,
            ...(channels.length > 0 && this._form.engine !== 'venv'
              ? { channels }
              : {})
          });
        }
      }),
      pip_packages: new PackageCompleter({
        delay: options.searchDelay,
        // pip requirements come from the Python package index, as for venv.
        search: query =>
          this.client.search(query, { engine: 'venv', limit: SEARCH_LIMIT })
      })
    };
  }

  readonly client: EnvModClient;
  readonly site: ISiteInfo | null;
  readonly trans: TranslationBundle;
  readonly existingNames: string[];
  readonly existingPaths: string[] | undefined;

  /**
   * The name completion of the package boxes.
   */
  readonly completers: {
    packages: PackageCompleter;
    pip_packages: PackageCompleter;
  };

  /**
   * Emitted when anything shown changes.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * What the form holds.
   */
  get form(): Readonly<ICreateForm> {
    return this._form;
  }

  /**
   * Every problem of the form now, shown or not.
   */
  get errors(): ICreateErrors {
    const errors = validateCreate(this._form, {
      existingNames: this.existingNames,
      existingPaths: this.existingPaths,
      site: this.site,
      trans: this.trans
    });
    if (this._fileError && !errors.spec) {
      errors.spec = this._fileError;
    }
    return errors;
  }

  /**
   * The messages the form shows, per field: the checks' messages of the
   * fields the user changed (all of them after a submit) and the server's.
   * An empty name or path that was never touched shows nothing.
   */
  get shownErrors(): ICreateErrors {
    const errors = this.errors;
    const shown: ICreateErrors = {};
    for (const field of CREATE_FIELDS) {
      const message = errors[field];
      if (message !== undefined && this._isShown(field)) {
        shown[field] = message;
      } else if (this._serverErrors[field] !== undefined) {
        shown[field] = this._serverErrors[field];
      }
    }
    return shown;
  }

  /**
   * The message about the request as a whole (not about one field), if any.
   */
  get formError(): string | null {
    return this._formError;
  }

  /**
   * Whether the checks find nothing wrong.
   */
  get isValid(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  /**
   * Whether "Create" may send the request: valid, no server message on a
   * field the user has not changed since, and no request on its way.
   */
  get canSubmit(): boolean {
    return (
      !this._busy &&
      this.isValid &&
      Object.keys(this._serverErrors).length === 0
    );
  }

  /**
   * Whether a request is on its way.
   */
  get busy(): boolean {
    return this._busy;
  }

  /**
   * The task the server started, once it answered.
   */
  get task(): ITask | null {
    return this._task;
  }

  /**
   * The request on its way, if any.
   */
  get pending(): Promise<ITask | null> | null {
    return this._pending;
  }

  /**
   * Whether the "Advanced" section is open.
   */
  get advanced(): boolean {
    return this._advanced;
  }
  set advanced(value: boolean) {
    if (value !== this._advanced) {
      this._advanced = value;
      this._changed.emit();
    }
  }

  /**
   * The field the form should focus, with a number that changes with every
   * request.
   */
  get focusRequest(): { field: CreateField; serial: number } | null {
    return this._focusRequest;
  }

  /**
   * The modules of the site (loaded first), once listed.
   */
  get modules(): IAvailableModules | null {
    return this._modules;
  }

  /**
   * Why the modules could not be listed, if they could not.
   */
  get modulesError(): string | null {
    return this._modulesError;
  }

  /**
   * Whether the file chosen is being read.
   */
  get readingFile(): boolean {
    return this._readingFile;
  }

  /**
   * Where the environment will be created, when known.
   */
  get target(): string | null {
    return targetPath(this._form, this.site);
  }

  /**
   * Whether the request names the environment rather than giving its path.
   */
  get sendsName(): boolean {
    return sendsName(this._form, this.site);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Change a value of the form: its field's message shows from now on, and
   * the server's message about it goes.
   */
  setField<K extends keyof ICreateForm>(key: K, value: ICreateForm[K]): void {
    if (this._form[key] === value) {
      return;
    }
    this._form = { ...this._form, [key]: value };
    for (const field of FIELDS_OF_KEY[key]) {
      delete this._serverErrors[field];
    }
    if (key !== 'location' && key !== 'kernel' && key !== 'modules') {
      for (const field of FIELDS_OF_KEY[key]) {
        this._touched.add(field);
      }
    }
    if (key === 'spec') {
      this._fileError = null;
    }
    this._changed.emit();
  }

  /**
   * Read a specification file into the form. A name in an environment.yml
   * fills an empty name box.
   */
  async chooseFile(file: File): Promise<void> {
    this._touched.add('spec');
    delete this._serverErrors.spec;
    if (file.size > MAX_SPEC_BYTES) {
      this._fileError = this.trans.__(
        '%1 is %2 bytes, larger than the limit of %3 bytes (1 MiB).',
        file.name,
        file.size,
        MAX_SPEC_BYTES
      );
      this._changed.emit();
      return;
    }
    this._readingFile = true;
    this._changed.emit();
    let content: string;
    try {
      content = await Private.readText(file);
    } catch (error) {
      this._readingFile = false;
      this._fileError = this.trans.__(
        'Could not read %1: %2',
        file.name,
        error instanceof Error ? error.message : String(error)
      );
      this._changed.emit();
      return;
    }
    this._readingFile = false;
    this.setField('spec', { filename: file.name, content });
    this._fillNameFromSpec();
  }

  /**
   * Forget the specification file.
   */
  removeFile(): void {
    this._fileError = null;
    this.setField('spec', null);
  }

  /**
   * Add module dependencies (repeats are left out).
   */
  addDependencies(names: string[]): void {
    const added = names
      .map(name => name.trim())
      .filter(name => name.length > 0);
    const next = [...this._form.dependencies];
    for (const name of added) {
      if (!next.includes(name)) {
        next.push(name);
      }
    }
    if (next.length !== this._form.dependencies.length) {
      this.setField('dependencies', next);
    }
  }

  /**
   * Remove a module dependency.
   */
  removeDependency(name: string): void {
    this.setField(
      'dependencies',
      this._form.dependencies.filter(dependency => dependency !== name)
    );
  }

  /**
   * List the site's modules (once; again with `refresh`).
   */
  async loadModules(refresh = false): Promise<void> {
    if (this._modulesLoading || (this._modules && !refresh)) {
      return;
    }
    this._modulesLoading = true;
    try {
      this._modules = await this.client.availableModules(refresh);
      this._modulesError = null;
    } catch (error) {
      this._modulesError =
        error instanceof Error ? error.message : String(error);
    } finally {
      this._modulesLoading = false;
    }
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  /**
   * Send the request, unless the checks find a problem (then every message
   * shows and the first bad field gets the focus).
   *
   * @returns The task the server started, or null when nothing was started:
   *   the form shows why. Everything typed stays.
   */
  submit(): Promise<ITask | null> {
    if (this._pending) {
      return this._pending;
    }
    this._submitted = true;
    const errors = this.errors;
    const first = CREATE_FIELDS.find(
      field =>
        errors[field] !== undefined || this._serverErrors[field] !== undefined
    );
    if (first !== undefined) {
      this._focus(first);
      this._changed.emit();
      return Promise.resolve(null);
    }
    this._busy = true;
    this._formError = null;
    this._changed.emit();
    const request = buildCreateRequest(this._form, this.site);
    const form = this._form;
    this._pending = this.client
      .create(request)
      .then(
        task => {
          this._task = task;
          return task;
        },
        (error: unknown) => {
          this._showError(error, form);
          return null;
        }
      )
      .finally(() => {
        this._busy = false;
        this._pending = null;
        if (!this._isDisposed) {
          this._changed.emit();
        }
      });
    return this._pending;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.completers.packages.dispose();
    this.completers.pip_packages.dispose();
    Signal.clearData(this);
  }

  private _isShown(field: CreateField): boolean {
    if (this._submitted || this._touched.has(field)) {
      return true;
    }
    // A box left empty since the form opened shows nothing yet.
    switch (field) {
      case 'name':
        return this._form.name.trim() !== '';
      case 'path':
        return this._form.customPath.trim() !== '';
      default:
        return true;
    }
  }

  private _focus(field: CreateField): void {
    if (field === 'channels' || field === 'spec') {
      this._advanced = true;
    }
    this._focusRequest = {
      field,
      serial: (this._focusRequest?.serial ?? 0) + 1
    };
  }

  private _showError(error: unknown, form: ICreateForm): void {
    if (error instanceof EnvModAPIError) {
      const field = fieldOfError(error.details, form);
      if (field !== null) {
        this._serverErrors[field] = error.message;
        this._focus(field);
      } else {
        this._formError = error.message;
      }
    } else {
      this._formError = error instanceof Error ? error.message : String(error);
    }
  }

  private _fillNameFromSpec(): void {
    const spec = this._form.spec;
    if (!spec || this._form.name.trim() || this._touched.has('name')) {
      return;
    }
    const name = specName(spec.content);
    if (name) {
      this._form = { ...this._form, name };
      this._changed.emit();
    }
  }

  private _validChannels(): string[] {
    if (this.errors.channels) {
      return [];
    }
    return splitList(this._form.channels);
  }

  private _advanced: boolean;
  private _busy = false;
  private _changed = new Signal<this, void>(this);
  private _fileError: string | null = null;
  private _focusRequest: { field: CreateField; serial: number } | null = null;
  private _form: ICreateForm;
  private _formError: string | null = null;
  private _isDisposed = false;
  private _modules: IAvailableModules | null = null;
  private _modulesError: string | null = null;
  private _modulesLoading = false;
  private _pending: Promise<ITask | null> | null = null;
  private _readingFile = false;
  private _serverErrors: { [field: string]: string } = {};
  private _submitted = false;
  private _task: ITask | null = null;
  private _touched = new Set<CreateField>();
}

/**
 * The namespace for `CreateController` statics.
 */
export namespace CreateController {
  /**
   * The options to create a controller.
   */
  export interface IOptions extends CreateDialog.IOptions {
    /**
     * The pause in typing before a package search, in milliseconds (250).
     */
    searchDelay?: number;
  }

  /**
   * The form as it opens.
   */
  export function initialForm(options: CreateDialog.IOptions): ICreateForm {
    const { site, defaults, spec } = options;
    const root =
      defaults.root && defaults.root !== defaultRoot(site) ? defaults.root : '';
    const siteFormats = (site?.config?.module_formats ?? []).filter(
      (format): format is ModuleFormat =>
        (MODULE_FORMATS as ReadonlyArray<string>).includes(format)
    );
    return {
      name: spec ? (specName(spec.content) ?? '') : '',
      location: root,
      customPath: '',
      engine: pickEngine(defaults.engine, site),
      python: defaults.python,
      packages: '',
      pipPackages: '',
      channels: '',
      spec: spec ? { filename: spec.filename, content: spec.content } : null,
      kernel: defaults.kernel,
      displayName: '',
      modules: defaults.modules,
      formats: siteFormats.length > 0 ? siteFormats : ['lua'],
      dependencies: []
    };
  }

  /**
   * The engine the form starts with: the one asked for, else the site's
   * default, else the first available one.
   */
  export function pickEngine(
    wanted: EngineName | '',
    site: ISiteInfo | null
  ): EngineName {
    const fallback = wanted || site?.config?.default_engine || 'rattler';
    if (!site?.engines) {
      return fallback;
    }
    const candidates = [
      wanted,
      site.config?.default_engine,
      ...ENGINE_NAMES
    ].filter((name): name is EngineName => !!name);
    return (
      candidates.find(name => site.engines[name]?.available === true) ??
      fallback
    );
  }
}

/**
 * The properties of the form.
 */
export interface ICreateFormProps {
  controller: CreateController;
  /**
   * Called after every render (the dialog checks its buttons then).
   */
  onRender?: () => void;
  /**
   * Whether the first box takes the focus when the form appears (true).
   */
  autoFocus?: boolean;
}

/**
 * The "New environment" form.
 */
export function CreateForm(props: ICreateFormProps): JSX.Element {
  const { controller, onRender, autoFocus = true } = props;
  const { trans, site } = controller;
  const [, rerender] = React.useReducer((count: number) => count + 1, 0);
  const rootRef = React.useRef<HTMLFormElement>(null);
  const id = React.useMemo(() => Private.nextId(), []);

  // A layout effect: connected when the form is in the DOM, before anyone can
  // type (a passive effect may run later, and React would then put a typed
  // value back until the next change).
  React.useLayoutEffect(() => {
    const slot = (): void => rerender();
    controller.changed.connect(slot);
    controller.completers.packages.changed.connect(slot);
    controller.completers.pip_packages.changed.connect(slot);
    void controller.loadModules();
    return () => {
      controller.changed.disconnect(slot);
      controller.completers.packages.changed.disconnect(slot);
      controller.completers.pip_packages.changed.disconnect(slot);
    };
  }, [controller]);

  React.useEffect(() => {
    onRender?.();
  });

  // Focus the field a failed submit is about.
  const focusSerial = controller.focusRequest?.serial ?? 0;
  React.useEffect(() => {
    const request = controller.focusRequest;
    if (!request || !rootRef.current) {
      return;
    }
    const node = rootRef.current.querySelector<HTMLElement>(
      `[data-envmod-field="${request.field}"]`
    );
    node?.focus();
  }, [focusSerial]);

  const form = controller.form;
  const errors = controller.shownErrors;
  const ids = (field: string): string =>
    `${id}-${field.replace(/[^A-Za-z0-9_-]/g, '-')}`;

  /**
   * The attributes of the control of a field.
   */
  const control = (
    field: CreateField,
    help: boolean,
    className = 'jp-EnvMod-createControl'
  ): {
    id: string;
    className: string;
    'aria-invalid': 'true' | undefined;
    'aria-describedby': string | undefined;
    'data-envmod-field': string;
  } => {
    const invalid = errors[field] !== undefined;
    const described = [
      invalid ? `${ids(field)}-error` : '',
      help ? `${ids(field)}-help` : ''
    ]
      .filter(Boolean)
      .join(' ');
    return {
      id: ids(field),
      className: `${className}${invalid ? ' jp-mod-error' : ''}`,
      'aria-invalid': invalid ? 'true' : undefined,
      'aria-describedby': described || undefined,
      'data-envmod-field': field
    };
  };

  const custom = form.location === CUSTOM_PATH;
  const config = site?.config;
  const fieldClass = (field: CreateField): string =>
    `jp-EnvMod-createField${errors[field] !== undefined ? ' jp-mod-invalid' : ''}`;

  return (
    <form
      ref={rootRef}
      className="jp-EnvMod-createForm"
      aria-label={trans.__('New environment')}
      aria-busy={controller.busy ? 'true' : 'false'}
      noValidate
      onSubmit={event => {
        event.preventDefault();
      }}
    >
      {controller.formError !== null && (
        <div className="jp-EnvMod-formError" role="alert">
          {controller.formError}
        </div>
      )}

      {!custom && (
        <div className={fieldClass('name')}>
          <label className="jp-EnvMod-createLabel" htmlFor={ids('name')}>
            {trans.__('Name')}
          </label>
          <input
            {...control('name', true)}
            type="text"
            value={form.name}
            required
            autoFocus={autoFocus}
            autoComplete="off"
            spellCheck={false}
            maxLength={255}
            onChange={event => controller.setField('name', event.target.value)}
          />
          <FieldError id={`${ids('name')}-error`} message={errors.name} />
          <div className="jp-EnvMod-createHelp" id={`${ids('name')}-help`}>
            {trans.__(
              "Letters, digits, '.', '_' and '-', at most 64, not starting with '.' or '-'."
            )}
          </div>
        </div>
      )}

      <LocationField
        controller={controller}
        id={ids('location')}
        pathProps={control('path', true)}
        pathError={errors.path}
        pathClass={fieldClass('path')}
        autoFocus={autoFocus}
      />

      <EngineField
        controller={controller}
        selectProps={control('engine', true)}
        error={errors.engine}
        className={fieldClass('engine')}
      />

      <div className={fieldClass('python')}>
        <label className="jp-EnvMod-createLabel" htmlFor={ids('python')}>
          {trans.__('Python version')}
        </label>
        <input
          {...control('python', true)}
          type="text"
          inputMode="decimal"
          value={form.python}
          placeholder={config?.default_python ?? ''}
          autoComplete="off"
          spellCheck={false}
          maxLength={50}
          onChange={event => controller.setField('python', event.target.value)}
        />
        <FieldError id={`${ids('python')}-error`} message={errors.python} />
        <div className="jp-EnvMod-createHelp" id={`${ids('python')}-help`}>
          {config?.default_python
            ? trans.__(
                "A version like '3.12'; empty for the site's default (%1).",
                config.default_python
              )
            : trans.__("A version like '3.12'; empty for the site's default.")}
        </div>
      </div>

      <PackagesField
        controller={controller}
        field="packages"
        formKey="packages"
        label={trans.__('Packages')}
        listLabel={trans.__('Package suggestions')}
        placeholder={trans.__('e.g. numpy>=1.26 scipy')}
        help={
          form.engine === 'venv'
            ? trans.__(
                'Separate packages with spaces, commas or new lines; a version may follow its name (numpy >=1.26,<2). The venv engine installs them with pip. Type at least two letters for suggestions, then use the arrow keys and Enter.'
              )
            : trans.__(
                'Conda packages, separated by spaces, commas or new lines; a version may follow its name (numpy >=1.26,<2). Type at least two letters for suggestions, then use the arrow keys and Enter.'
              )
        }
        textareaProps={control('packages', true)}
        error={errors.packages}
        className={fieldClass('packages')}
      />

      <PackagesField
        controller={controller}
        field="pip_packages"
        formKey="pipPackages"
        label={trans.__('pip packages')}
        listLabel={trans.__('pip package suggestions')}
        placeholder={trans.__('e.g. requests>=2.31')}
        help={trans.__(
          'Requirements installed with pip (uv) after the conda packages. Put a requirement with a marker (;) or a URL (@) on a line of its own.'
        )}
        textareaProps={control('pip_packages', true)}
        error={errors.pip_packages}
        className={fieldClass('pip_packages')}
      />

      <div className="jp-EnvMod-createAdvanced">
        <button
          type="button"
          className="jp-EnvMod-createDisclosure"
          aria-expanded={controller.advanced ? 'true' : 'false'}
          aria-controls={ids('advanced')}
          onClick={() => {
            controller.advanced = !controller.advanced;
          }}
        >
          <caretDownEmptyIcon.react
            tag="span"
            className="jp-EnvMod-createDisclosureIcon"
          />
          {trans.__('Advanced')}
        </button>
        <div
          id={ids('advanced')}
          className="jp-EnvMod-createAdvancedContent"
          hidden={!controller.advanced}
        >
          <div className={fieldClass('channels')}>
            <label className="jp-EnvMod-createLabel" htmlFor={ids('channels')}>
              {trans.__('Channels')}
            </label>
            <input
              {...control('channels', true)}
              type="text"
              value={form.channels}
              placeholder={(config?.channels ?? []).join(' ')}
              autoComplete="off"
              spellCheck={false}
              onChange={event =>
                controller.setField('channels', event.target.value)
              }
            />
            <FieldError
              id={`${ids('channels')}-error`}
              message={errors.channels}
            />
            <div
              className="jp-EnvMod-createHelp"
              id={`${ids('channels')}-help`}
            >
              {form.engine === 'venv'
                ? trans.__('Conda channels; the venv engine does not use them.')
                : (config?.channels ?? []).length > 0
                  ? trans.__(
                      "Conda channels in order of priority, separated by spaces, instead of the site's (%1).",
                      (config?.channels ?? []).join(', ')
                    )
                  : trans.__(
                      'Conda channels in order of priority, separated by spaces.'
                    )}
            </div>
          </div>

          <FileField
            controller={controller}
            id={ids('spec')}
            inputProps={control('spec', true)}
            error={errors.spec}
            className={fieldClass('spec')}
          />
        </div>
      </div>

      <div
        className={`jp-EnvMod-createOption ${fieldClass('kernel.display_name')}`}
      >
        <label className="jp-EnvMod-createCheckbox">
          <input
            type="checkbox"
            checked={form.kernel}
            data-envmod-field={form.kernel ? undefined : 'kernel.display_name'}
            onChange={event =>
              controller.setField('kernel', event.target.checked)
            }
          />
          {trans.__('Create Jupyter kernel')}
        </label>
        {form.kernel && (
          <div className="jp-EnvMod-createSubField">
            <label
              className="jp-EnvMod-createLabel"
              htmlFor={ids('kernel.display_name')}
            >
              {trans.__('Display name')}
            </label>
            <input
              {...control('kernel.display_name', true)}
              type="text"
              value={form.displayName}
              placeholder={Private.displayNamePlaceholder(controller)}
              autoComplete="off"
              maxLength={250}
              onChange={event =>
                controller.setField('displayName', event.target.value)
              }
            />
            <div
              className="jp-EnvMod-createHelp"
              id={`${ids('kernel.display_name')}-help`}
            >
              {trans.__(
                "The name shown in the Launcher and the kernel menu; empty for the site's."
              )}
            </div>
          </div>
        )}
        <FieldError
          id={`${ids('kernel.display_name')}-error`}
          message={errors['kernel.display_name']}
        />
      </div>

      <ModuleFilesField
        controller={controller}
        id={ids('module.formats')}
        error={errors['module.formats']}
        className={fieldClass('module.formats')}
      />

      <DependenciesField
        controller={controller}
        inputProps={control('module.dependencies', true)}
        error={errors['module.dependencies']}
        className={fieldClass('module.dependencies')}
      />

      <div className="jp-EnvMod-createStatus" role="status">
        {controller.busy ? trans.__('Starting the creation…') : ''}
      </div>
    </form>
  );
}

/**
 * The attributes `CreateForm` gives the control of a field.
 */
type ControlProps = {
  id: string;
  className: string;
  'aria-invalid': 'true' | undefined;
  'aria-describedby': string | undefined;
  'data-envmod-field': string;
};

/**
 * A field's message.
 */
function FieldError(props: {
  id: string;
  message: string | undefined;
}): JSX.Element | null {
  if (props.message === undefined) {
    return null;
  }
  return (
    <div id={props.id} className="jp-EnvMod-fieldError" role="alert">
      {props.message}
    </div>
  );
}

/**
 * A select with JupyterLab's caret.
 */
function Select(
  props: React.SelectHTMLAttributes<HTMLSelectElement> & {
    children: React.ReactNode;
  }
): JSX.Element {
  return (
    <div className="jp-EnvMod-createSelect">
      <select {...props} />
      <caretDownEmptyIcon.react
        tag="span"
        className="jp-EnvMod-createSelectIcon"
        aria-hidden="true"
      />
    </div>
  );
}

/**
 * "Location" and, for "Other path…", "Path".
 */
function LocationField(props: {
  controller: CreateController;
  id: string;
  pathProps: ControlProps;
  pathError: string | undefined;
  pathClass: string;
  autoFocus: boolean;
}): JSX.Element {
  const { controller, id, pathProps, pathError, pathClass } = props;
  const { trans, site } = controller;
  const form = controller.form;
  const envDirs = site?.config?.env_dirs ?? [];
  const sharedRoots = (site?.config?.shared_roots ?? []).filter(
    root => !envDirs.includes(root)
  );
  const first = defaultRoot(site);
  const value = form.location === '' ? first : form.location;
  const known = environmentRoots(site);
  const custom = form.location === CUSTOM_PATH;
  const target = controller.target;

  return (
    <>
      <div className="jp-EnvMod-createField">
        <label className="jp-EnvMod-createLabel" htmlFor={id}>
          {trans.__('Location')}
        </label>
        <Select
          id={id}
          className="jp-EnvMod-createControl"
          value={value}
          aria-describedby={`${id}-help`}
          onChange={event => {
            const next = event.target.value;
            controller.setField(
              'location',
              next === first && next !== CUSTOM_PATH ? '' : next
            );
          }}
        >
          {first === '' && (
            <option value="">{trans.__("The site's default")}</option>
          )}
          {envDirs.map((dir, index) => (
            <option key={`env:${dir}`} value={dir}>
              {index === 0 ? trans.__('%1 (default)', dir) : dir}
            </option>
          ))}
          {sharedRoots.map(root => (
            <option key={`shared:${root}`} value={root}>
              {trans.__('%1 (shared)', root)}
            </option>
          ))}
          {value !== '' && value !== CUSTOM_PATH && !known.includes(value) && (
            <option value={value}>{value}</option>
          )}
          <option value={CUSTOM_PATH}>{trans.__('Other path…')}</option>
        </Select>
        <div className="jp-EnvMod-createHelp" id={`${id}-help`}>
          {custom
            ? trans.__('Type the directory of the new environment below.')
            : target
              ? trans.__('The environment goes to %1.', target)
              : trans.__('The directory the environment goes in.')}
        </div>
      </div>
      {custom && (
        <div className={pathClass}>
          <label className="jp-EnvMod-createLabel" htmlFor={pathProps.id}>
            {trans.__('Path')}
          </label>
          <input
            {...pathProps}
            type="text"
            value={form.customPath}
            required
            autoComplete="off"
            spellCheck={false}
            placeholder={trans.__('e.g. ~/projects/analysis/env')}
            onChange={event =>
              controller.setField('customPath', event.target.value)
            }
          />
          <FieldError id={`${pathProps.id}-error`} message={pathError} />
          <div className="jp-EnvMod-createHelp" id={`${pathProps.id}-help`}>
            {(site?.config?.allowed_roots ?? []).length > 0
              ? trans.__(
                  "The environment's own directory, absolute or starting with ~, inside %1.",
                  (site?.config?.allowed_roots ?? []).join(', ')
                )
              : trans.__(
                  "The environment's own directory, absolute or starting with ~."
                )}
          </div>
        </div>
      )}
    </>
  );
}

/**
 * "Engine": engines that are not available are disabled, with the reason.
 */
function EngineField(props: {
  controller: CreateController;
  selectProps: ControlProps;
  error: string | undefined;
  className: string;
}): JSX.Element {
  const { controller, selectProps, error, className } = props;
  const { trans, site } = controller;
  const engines = (site?.engines ?? {}) as {
    [name: string]: IEngineInfo | undefined;
  };
  const names = site?.engines
    ? ENGINE_NAMES.filter(name => engines[name] !== undefined)
    : [...ENGINE_NAMES];
  if (!names.includes(controller.form.engine)) {
    names.push(controller.form.engine);
  }
  const unavailable = names.filter(
    name => site?.engines && engines[name]?.available !== true
  );
  const defaultEngine = site?.config?.default_engine;
  return (
    <div className={className}>
      <label className="jp-EnvMod-createLabel" htmlFor={selectProps.id}>
        {trans.__('Engine')}
      </label>
      <Select
        {...selectProps}
        value={controller.form.engine}
        onChange={event =>
          controller.setField('engine', event.target.value as EngineName)
        }
      >
        {names.map(name => {
          const off = unavailable.includes(name);
          let label: string = name;
          if (off) {
            label = trans.__('%1 (not available)', name);
          } else if (name === defaultEngine) {
            label = trans.__('%1 (default)', name);
          }
          return (
            <option key={name} value={name} disabled={off}>
              {label}
            </option>
          );
        })}
      </Select>
      <FieldError id={`${selectProps.id}-error`} message={error} />
      <div className="jp-EnvMod-createHelp" id={`${selectProps.id}-help`}>
        <div>
          {trans.__(
            'rattler and conda make conda environments; venv makes a Python virtual environment with pip packages.'
          )}
        </div>
        {unavailable.map(name => (
          <div key={name} className="jp-EnvMod-createUnavailable">
            {engines[name]?.detail
              ? trans.__('%1 is not available: %2', name, engines[name]!.detail)
              : trans.__('%1 is not available.', name)}
          </div>
        ))}
      </div>
    </div>
  );
}

/**
 * A package box with name completion.
 */
function PackagesField(props: {
  controller: CreateController;
  field: 'packages' | 'pip_packages';
  formKey: 'packages' | 'pipPackages';
  label: string;
  listLabel: string;
  placeholder: string;
  help: string;
  textareaProps: ControlProps;
  error: string | undefined;
  className: string;
}): JSX.Element {
  const { controller, field, formKey, textareaProps, error } = props;
  const { trans } = controller;
  const completer = controller.completers[field];
  const text = controller.form[formKey];
  const ref = React.useRef<HTMLTextAreaElement>(null);
  const caret = React.useRef<number | null>(null);
  const listId = `${textareaProps.id}-suggestions`;
  const optionId = (index: number): string => `${listId}-${index}`;
  const open = completer.open;
  const active = completer.active;

  React.useLayoutEffect(() => {
    if (caret.current !== null && ref.current) {
      ref.current.setSelectionRange(caret.current, caret.current);
      caret.current = null;
    }
  });

  const accept = (index?: number): boolean => {
    const result = completer.accept(text, index);
    if (!result) {
      return false;
    }
    caret.current = result.caret;
    controller.setField(formKey, result.text);
    return true;
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (!open) {
      return;
    }
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        completer.move(1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        completer.move(-1);
        break;
      case 'Enter':
        if (
          active !== -1 &&
          !event.shiftKey &&
          !event.ctrlKey &&
          !event.metaKey &&
          accept()
        ) {
          event.preventDefault();
        }
        break;
      case 'Escape':
        event.preventDefault();
        event.stopPropagation();
        completer.close();
        break;
      default:
        break;
    }
  };

  const keys = open ? (active !== -1 ? 'Enter Escape' : 'Escape') : undefined;

  return (
    <div className={props.className}>
      <label className="jp-EnvMod-createLabel" htmlFor={textareaProps.id}>
        {props.label}
      </label>
      <div className="jp-EnvMod-createCompletion">
        <textarea
          {...textareaProps}
          ref={ref}
          rows={2}
          value={text}
          placeholder={props.placeholder}
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={active !== -1 ? optionId(active) : undefined}
          data-envmod-keys={keys}
          onChange={event => {
            const value = event.target.value;
            controller.setField(formKey, value);
            completer.update(
              value,
              event.target.selectionStart ?? value.length
            );
          }}
          onKeyDown={onKeyDown}
          onBlur={() => completer.close()}
        />
        {open && (
          <ul
            id={listId}
            role="listbox"
            className="jp-EnvMod-createSuggestions"
            aria-label={props.listLabel}
          >
            {completer.names.map((name, index) => (
              <li
                key={name}
                id={optionId(index)}
                role="option"
                aria-selected={index === active ? 'true' : 'false'}
                className={`jp-EnvMod-createSuggestion${
                  index === active ? ' jp-mod-active' : ''
                }`}
                onMouseDown={event => {
                  // Keep the focus in the box.
                  event.preventDefault();
                  accept(index);
                }}
              >
                {name}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="jp-EnvMod-createSrOnly" role="status" aria-live="polite">
        {open
          ? trans._n('%1 suggestion', '%1 suggestions', completer.names.length)
          : ''}
      </div>
      <FieldError id={`${textareaProps.id}-error`} message={error} />
      <div className="jp-EnvMod-createHelp" id={`${textareaProps.id}-help`}>
        {props.help}
      </div>
    </div>
  );
}

/**
 * "From file": an environment.yml, requirements.txt, explicit or lock file.
 */
function FileField(props: {
  controller: CreateController;
  id: string;
  inputProps: ControlProps;
  error: string | undefined;
  className: string;
}): JSX.Element {
  const { controller, inputProps, error } = props;
  const { trans } = controller;
  const spec = controller.form.spec;
  const inputRef = React.useRef<HTMLInputElement>(null);
  const focusInput = React.useRef(false);
  const labelId = `${inputProps.id}-label`;

  React.useEffect(() => {
    if (focusInput.current && inputRef.current) {
      focusInput.current = false;
      inputRef.current.focus();
    }
  });

  return (
    <div className={props.className}>
      {spec ? (
        <span className="jp-EnvMod-createLabel" id={labelId}>
          {trans.__('From file')}
        </span>
      ) : (
        <label
          className="jp-EnvMod-createLabel"
          id={labelId}
          htmlFor={inputProps.id}
        >
          {trans.__('From file')}
        </label>
      )}
      {spec ? (
        <div className="jp-EnvMod-createChosenFile">
          <span
            className="jp-EnvMod-createFileName"
            id={`${inputProps.id}-filename`}
          >
            {spec.filename}
          </span>
          <button
            type="button"
            className={`jp-Button jp-mod-small jp-EnvMod-createButton${
              error !== undefined ? ' jp-mod-error' : ''
            }`}
            aria-describedby={[
              `${inputProps.id}-filename`,
              inputProps['aria-describedby'] ?? ''
            ]
              .join(' ')
              .trim()}
            aria-invalid={inputProps['aria-invalid']}
            data-envmod-field="spec"
            onClick={() => {
              focusInput.current = true;
              controller.removeFile();
            }}
          >
            {trans.__('Remove file')}
          </button>
        </div>
      ) : (
        <input
          {...inputProps}
          ref={inputRef}
          className={`jp-EnvMod-createFile${
            error !== undefined ? ' jp-mod-error' : ''
          }`}
          type="file"
          accept=".yml,.yaml,.txt,.lock"
          data-envmod-keys="Enter"
          disabled={controller.readingFile}
          onChange={event => {
            const file = event.target.files?.[0];
            // Let the same file be chosen again later.
            event.target.value = '';
            if (file) {
              void controller.chooseFile(file);
            }
          }}
        />
      )}
      <FieldError id={`${inputProps.id}-error`} message={error} />
      <div className="jp-EnvMod-createHelp" id={`${inputProps.id}-help`}>
        {trans.__(
          'An environment.yml, requirements.txt, explicit file or lock file (at most 1 MiB); its packages are added to the ones above.'
        )}
      </div>
    </div>
  );
}

/**
 * "Create module files" and the formats.
 */
function ModuleFilesField(props: {
  controller: CreateController;
  id: string;
  error: string | undefined;
  className: string;
}): JSX.Element {
  const { controller, id, error } = props;
  const { trans, site } = controller;
  const form = controller.form;
  const invalid = error !== undefined;
  const describedBy = [invalid ? `${id}-error` : '', `${id}-help`]
    .filter(Boolean)
    .join(' ');
  return (
    <div className={`jp-EnvMod-createOption ${props.className}`}>
      <label className="jp-EnvMod-createCheckbox">
        <input
          type="checkbox"
          checked={form.modules}
          data-envmod-field={form.modules ? undefined : 'module.formats'}
          onChange={event =>
            controller.setField('modules', event.target.checked)
          }
        />
        {trans.__('Create module files')}
      </label>
      {form.modules && (
        <fieldset
          id={id}
          className={`jp-EnvMod-createFormats jp-EnvMod-createSubField${
            invalid ? ' jp-mod-error' : ''
          }`}
          aria-invalid={invalid ? 'true' : undefined}
          aria-describedby={describedBy}
        >
          <legend className="jp-EnvMod-createLabel">
            {trans.__('Module file formats')}
          </legend>
          {MODULE_FORMATS.map((format, index) => (
            <label key={format} className="jp-EnvMod-createCheckbox">
              <input
                type="checkbox"
                checked={form.formats.includes(format)}
                data-envmod-field={index === 0 ? 'module.formats' : undefined}
                onChange={event => {
                  const formats = event.target.checked
                    ? MODULE_FORMATS.filter(
                        item => item === format || form.formats.includes(item)
                      )
                    : form.formats.filter(item => item !== format);
                  controller.setField('formats', formats);
                }}
              />
              {format}
            </label>
          ))}
          <div className="jp-EnvMod-createHelp" id={`${id}-help`}>
            {site?.config?.module_dir
              ? trans.__(
                  'lua for Lmod, tcl for Environment Modules, sh and csh for activation scripts; written to %1.',
                  site.config.module_dir
                )
              : trans.__(
                  'lua for Lmod, tcl for Environment Modules, sh and csh for activation scripts.'
                )}
          </div>
        </fieldset>
      )}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

/**
 * "Module dependencies": the modules loaded before the environment.
 */
function DependenciesField(props: {
  controller: CreateController;
  inputProps: ControlProps;
  error: string | undefined;
  className: string;
}): JSX.Element {
  const { controller, inputProps, error } = props;
  const { trans, site } = controller;
  const [draft, setDraft] = React.useState('');
  const inputRef = React.useRef<HTMLInputElement>(null);
  const chosen = controller.form.dependencies;
  const modules = controller.modules;
  const loaded = modules?.loaded ?? [];
  const missingLoaded = loaded.filter(name => !chosen.includes(name));
  const offered = [
    ...loaded,
    ...(modules?.available ?? []).filter(name => !loaded.includes(name))
  ].filter(name => !chosen.includes(name));
  const listId = `${inputProps.id}-modules`;
  const noModuleSystem = site !== null && !site.module_system?.kind;

  const add = (): void => {
    if (draft.trim()) {
      controller.addDependencies(splitList(draft));
      setDraft('');
    }
  };

  return (
    <div className={props.className}>
      <label className="jp-EnvMod-createLabel" htmlFor={inputProps.id}>
        {trans.__('Module dependencies')}
      </label>
      <div className="jp-EnvMod-createRow">
        <input
          {...inputProps}
          ref={inputRef}
          type="text"
          list={listId}
          value={draft}
          placeholder={trans.__('e.g. gcc/12.2.0')}
          autoComplete="off"
          spellCheck={false}
          data-envmod-keys={draft.trim() ? 'Enter' : undefined}
          onChange={event => setDraft(event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Enter' && draft.trim()) {
              event.preventDefault();
              add();
            }
          }}
        />
        <button
          type="button"
          className="jp-Button jp-mod-small jp-EnvMod-createButton"
          disabled={!draft.trim()}
          onClick={() => {
            add();
            inputRef.current?.focus();
          }}
        >
          {trans.__('Add module')}
        </button>
      </div>
      <datalist id={listId}>
        {offered.map(name => (
          <option key={name} value={name} />
        ))}
      </datalist>
      {loaded.length > 0 && (
        <div className="jp-EnvMod-createRow jp-EnvMod-createLoaded">
          <button
            type="button"
            className="jp-Button jp-mod-small jp-EnvMod-createButton"
            disabled={missingLoaded.length === 0}
            aria-describedby={`${inputProps.id}-loaded`}
            onClick={() => controller.addDependencies(loaded)}
          >
            {trans.__('Add loaded modules')}
          </button>
          <span className="jp-EnvMod-createHelp" id={`${inputProps.id}-loaded`}>
            {trans.__('Loaded now: %1', loaded.join(', '))}
          </span>
        </div>
      )}
      {chosen.length > 0 && (
        <ul
          className="jp-EnvMod-createChips"
          aria-label={trans.__('Chosen modules')}
        >
          {chosen.map(name => (
            <li key={name} className="jp-EnvMod-createChip">
              <code>{name}</code>
              <button
                type="button"
                className="jp-Button jp-mod-small jp-mod-minimal jp-EnvMod-createChipRemove"
                aria-label={trans.__('Remove %1', name)}
                title={trans.__('Remove %1', name)}
                onClick={() => {
                  controller.removeDependency(name);
                  inputRef.current?.focus();
                }}
              >
                <span aria-hidden="true">×</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <FieldError id={`${inputProps.id}-error`} message={error} />
      <div className="jp-EnvMod-createHelp" id={`${inputProps.id}-help`}>
        {trans.__(
          'Modules loaded before the environment by its module files and its kernel; press Enter to add one.'
        )}
        {noModuleSystem && ` ${trans.__('No module system was found here.')}`}
        {controller.modulesError !== null &&
          ` ${trans.__('The modules could not be listed: %1', controller.modulesError)}`}
      </div>
    </div>
  );
}

/**
 * The form as a widget.
 */
export class CreateFormWidget extends ReactWidget {
  constructor(options: ICreateFormProps) {
    super();
    this.addClass('jp-EnvMod-create');
    this._props = options;
  }

  protected render(): JSX.Element {
    return <CreateForm {...this._props} />;
  }

  private _props: ICreateFormProps;
}

/**
 * The body of the dialog: a plain widget holding the form, so that the
 * dialog does not restyle (and move) the nodes React owns.
 */
class CreateBody extends Widget implements Dialog.IBodyWidget<ITask | null> {
  constructor(controller: CreateController, onRender: () => void) {
    super();
    this.addClass('jp-EnvMod-createBody');
    this._controller = controller;
    const layout = (this.layout = new PanelLayout());
    layout.addWidget(new CreateFormWidget({ controller, onRender }));
  }

  getValue(): ITask | null {
    return this._controller.task;
  }

  private _controller: CreateController;
}

/**
 * The "New environment" dialog: "Create" sends the request while the dialog
 * stays open, and closes it once the server started the task; a refused
 * request is explained in the form.
 */
export class CreateDialog extends Dialog<ITask | null> {
  constructor(options: CreateDialog.IOptions) {
    const controller = new CreateController(options);
    const trans = options.trans;
    const buttons = [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Create') })
    ];
    const check = { dialog: null as CreateDialog | null };
    super({
      title: trans.__('New environment'),
      body: new CreateBody(controller, () => check.dialog?._checkValidation()),
      buttons
    });
    check.dialog = this;
    this._controller = controller;
    this._buttonList = buttons;
    this.addClass('jp-EnvMod-createDialog');
    this.node.setAttribute('aria-label', trans.__('New environment'));
  }

  /**
   * The state of the form.
   */
  get controller(): CreateController {
    return this._controller;
  }

  /**
   * The task started, once the server answered.
   */
  get task(): ITask | null {
    return this._controller.task;
  }

  /**
   * "Create" (or Enter) sends the request; the dialog resolves once the
   * server accepted it. Other buttons resolve at once.
   */
  resolve(index?: number): void {
    const at = index ?? this._buttonList.length - 1;
    if (this._closing || !this._buttonList[at]?.accept) {
      super.resolve(index);
      return;
    }
    void this._submit(at);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    super.dispose();
    this._controller.dispose();
  }

  /**
   * Handle keys: Ctrl+Enter in a package box creates; Enter and Escape in a
   * box that uses them (a suggestion list, the module box) stay there.
   */
  protected _evtKeydown(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    const own = (target?.getAttribute?.('data-envmod-keys') ?? '').split(' ');
    if (own.includes(event.key) && !event.ctrlKey && !event.metaKey) {
      return;
    }
    if (
      event.key === 'Enter' &&
      (event.ctrlKey || event.metaKey) &&
      target instanceof HTMLTextAreaElement
    ) {
      event.preventDefault();
      event.stopPropagation();
      this.resolve();
      return;
    }
    if (event.key === 'Tab' && !event.shiftKey) {
      // From the last button, on to the first box of the form (the dialog
      // looks for it before the form is drawn).
      const buttons = this.node.querySelectorAll<HTMLElement>(
        '.jp-Dialog-footer .jp-Dialog-button'
      );
      const first = Array.from(
        this.node.querySelectorAll<HTMLElement>(
          '.jp-Dialog-body input, .jp-Dialog-body select, .jp-Dialog-body textarea, .jp-Dialog-body button'
        )
      ).find(
        node =>
          !(node as HTMLInputElement).disabled && node.offsetParent !== null
      );
      if (first && document.activeElement === buttons[buttons.length - 1]) {
        event.preventDefault();
        event.stopPropagation();
        first.focus();
        return;
      }
    }
    super._evtKeydown(event);
  }

  /**
   * Disable "Create" while the form is invalid or a request is on its way.
   */
  protected _checkValidation(): void {
    if (this.isDisposed) {
      return;
    }
    super._checkValidation();
    const blocked = !this._controller.canSubmit;
    const accept = this.node.querySelectorAll<HTMLButtonElement>(
      '.jp-Dialog-footer .jp-Dialog-button.jp-mod-accept'
    );
    accept.forEach(node => {
      if (blocked) {
        node.disabled = true;
      }
      node.setAttribute('aria-busy', this._controller.busy ? 'true' : 'false');
    });
  }

  private async _submit(index: number): Promise<void> {
    const task = await this._controller.submit();
    if (this.isDisposed) {
      return;
    }
    if (task === null) {
      this._checkValidation();
      return;
    }
    this._closing = true;
    super.resolve(index);
    if (!this.isDisposed) {
      // Resolving refused (validation): close anyway, the task is started.
      this.reject();
    }
  }

  private _buttonList: ReadonlyArray<Dialog.IButton>;
  private _closing = false;
  private _controller: CreateController;
}

/**
 * The namespace for `CreateDialog` statics.
 */
export namespace CreateDialog {
  /**
   * The options of the dialog.
   */
  export interface IOptions {
    client: EnvModClient;
    site: ISiteInfo | null;
    trans: TranslationBundle;
    /**
     * The names of the environments in the site's default root: a name
     * already there is refused before anything is sent.
     */
    existingNames: string[];
    /**
     * The directories of the known environments (`IEnvironment.path`), if
     * known: a name or path that would land on one is refused before
     * anything is sent, whatever the root. Used instead of `existingNames`.
     */
    existingPaths?: string[];
    defaults: {
      /**
       * The engine; `''` for the site's default.
       */
      engine: EngineName | '';
      /**
       * The Python version; `''` for the site's default.
       */
      python: string;
      kernel: boolean;
      modules: boolean;
      /**
       * The root directory; `''` for the site's default.
       */
      root: string;
    };
    /**
     * A specification file to start from.
     */
    spec?: { filename: string; content: string };
  }
}

/**
 * Show the "New environment" dialog.
 *
 * @returns The task the server started, or null when the dialog was
 *   cancelled (a request already on its way when it was cancelled still
 *   gives its task).
 */
export async function showCreateDialog(
  options: CreateDialog.IOptions
): Promise<ITask | null> {
  const dialog = new CreateDialog(options);
  const controller = dialog.controller;
  const result = await dialog.launch();
  if (result.button.accept && result.value) {
    return result.value;
  }
  const pending = controller.pending;
  return pending ? await pending : controller.task;
}

/**
 * A namespace for module private data.
 */
namespace Private {
  let counter = 0;

  /**
   * A new prefix for the element ids of a form.
   */
  export function nextId(): string {
    return `jp-EnvMod-create-${++counter}`;
  }

  /**
   * The text of a file (`File.text()`, or a FileReader where it is missing).
   */
  export function readText(file: File): Promise<string> {
    if (typeof file.text === 'function') {
      return file.text();
    }
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result ?? ''));
      reader.onerror = () => reject(reader.error);
      reader.readAsText(file);
    });
  }

  /**
   * The site's kernel display name for the form's values.
   */
  export function displayNamePlaceholder(controller: CreateController): string {
    const template =
      controller.site?.config?.kernel_display_name_template ?? '';
    if (!template) {
      return '';
    }
    const form = controller.form;
    const target = controller.target ?? '';
    const name =
      form.location === CUSTOM_PATH
        ? (target.replace(/\/+$/, '').split('/').pop() ?? '')
        : form.name.trim();
    const values: { [key: string]: string } = {
      name: name || 'name',
      engine: form.engine,
      python:
        form.python.trim() || controller.site?.config?.default_python || ''
    };
    return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
      key in values ? values[key] : whole
    );
  }
}
