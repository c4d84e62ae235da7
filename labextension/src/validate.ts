/**
 * Client-side checks of the "New environment" form, with the rules (and
 * nearly the words) of the server extension (`jupyter_envmod/specs.py`,
 * `discovery.py`, `modsys.py`, `outputs.py`), and the request body built
 * from the form.
 *
 * Everything here is pure: no DOM, no server.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import {
  EngineName,
  ENV_NAME_PATTERN,
  ICreateRequest,
  ISiteInfo,
  MODULE_FORMATS,
  ModuleFormat,
  PYTHON_VERSION_PATTERN,
  TRANSLATION_DOMAIN
} from './tokens';

/**
 * The value of `ICreateForm.location` meaning "the path typed in
 * `customPath`".
 */
export const CUSTOM_PATH = '__custom__';

/**
 * The largest spec file the server accepts, in bytes (specs.MAX_SPEC_BYTES).
 */
export const MAX_SPEC_BYTES = 1024 * 1024;

/**
 * The longest kernel display name the server accepts.
 */
export const MAX_DISPLAY_NAME = 200;

/**
 * The most module dependencies the server accepts.
 */
export const MAX_DEPENDENCIES = 100;

/**
 * The most entries of a package or channel list the server accepts.
 */
export const MAX_LIST_ITEMS = 1000;

/**
 * What the "New environment" form holds.
 */
export interface ICreateForm {
  /**
   * The environment's name (its directory below `location`).
   */
  name: string;
  /**
   * A root directory, `''` for the site default (the first `env_dirs`), or
   * {@link CUSTOM_PATH}.
   */
  location: string;
  /**
   * The environment's own directory, used when `location` is
   * {@link CUSTOM_PATH}: absolute or starting with `~`.
   */
  customPath: string;
  engine: EngineName;
  /**
   * A version like `3.12`, or `''` for the site default.
   */
  python: string;
  /**
   * Conda match specs, as typed (see {@link splitList}).
   */
  packages: string;
  /**
   * PEP 508 requirements, as typed (see {@link splitList}).
   */
  pipPackages: string;
  /**
   * Channels instead of the site's, as typed (see {@link splitList}).
   */
  channels: string;
  /**
   * A specification file (environment.yml, requirements.txt, explicit, lock).
   */
  spec: { filename: string; content: string } | null;
  kernel: boolean;
  /**
   * The kernel's display name, or `''` for the site's template.
   */
  displayName: string;
  modules: boolean;
  formats: ModuleFormat[];
  /**
   * Modules to load first, e.g. `gcc/12.2.0`; sent even when `modules` is
   * false (the kernel loads them too).
   */
  dependencies: string[];
}

/**
 * The fields of a create request that messages are attached to.
 */
export type CreateField =
  | 'name'
  | 'path'
  | 'engine'
  | 'python'
  | 'packages'
  | 'pip_packages'
  | 'channels'
  | 'spec'
  | 'kernel.display_name'
  | 'module.formats'
  | 'module.dependencies';

/**
 * Every {@link CreateField}, in the order the form shows them.
 */
export const CREATE_FIELDS: ReadonlyArray<CreateField> = [
  'name',
  'path',
  'engine',
  'python',
  'packages',
  'pip_packages',
  'channels',
  'spec',
  'kernel.display_name',
  'module.formats',
  'module.dependencies'
];

/**
 * A message per bad field, keyed by {@link CreateField}.
 */
export interface ICreateErrors {
  [field: string]: string;
}

/**
 * What the checks need to know besides the form.
 */
export interface IValidationContext {
  /**
   * The names of the environments in the site's default root (the first
   * `env_dirs`): a new environment there may not reuse them. Not used when
   * `existingPaths` is given.
   */
  existingNames: string[];
  /**
   * The directories of the known environments, when known: no new
   * environment may go to one of them, whatever its root. More precise than
   * `existingNames` (which cannot tell roots apart), and used instead of it.
   */
  existingPaths?: string[];
  site: ISiteInfo | null;
  /**
   * The bundle translating the messages; untranslated by default.
   */
  trans?: TranslationBundle;
}

/**
 * Split what the user typed into a list of package specs, requirements or
 * channels.
 *
 * Entries are separated by new lines, spaces and commas, but a version
 * constraint stays with its name, so conda's and pip's spaced forms work:
 * `numpy >=1.26,<2 scipy` is `['numpy >=1.26,<2', 'scipy']` and
 * `requests >= 2.31` is one entry. A piece is joined to the entry before it
 * when it starts with an operator (`< > = ! ~ ^ * [ ,`) or is a bare version
 * (`1.26`, `3.11.*`), or when the entry ends with an operator. A line with a
 * pip environment marker (`;`) or a direct reference (` @ `) is one entry.
 * Text from a `#` at the start of a line or after a space is a comment.
 */
export function splitList(text: string): string[] {
  const entries: string[] = [];
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) {
      continue;
    }
    if (line.includes(';') || /\s@\s/.test(line)) {
      const whole = line.replace(/[\s,]+$/, '');
      if (whole) {
        entries.push(whole);
      }
      continue;
    }
    const lineEntries: string[] = [];
    const piece = /[^\s,]+/g;
    let last = 0;
    let match: RegExpExecArray | null;
    while ((match = piece.exec(line)) !== null) {
      const separator = line.slice(last, match.index);
      last = match.index + match[0].length;
      const value = match[0];
      const previous = lineEntries[lineEntries.length - 1];
      const joins =
        previous !== undefined &&
        (/^[<>=!~^*[]/.test(value) ||
          /^[0-9][0-9.*]*$/.test(value) ||
          /[<>=!~]$/.test(previous));
      if (joins) {
        lineEntries[lineEntries.length - 1] =
          previous + (separator.includes(',') ? ',' : ' ') + value;
      } else {
        lineEntries.push(value);
      }
    }
    entries.push(...lineEntries);
  }
  return entries;
}

/**
 * The site's default root: where an environment given by name goes.
 */
export function defaultRoot(site: ISiteInfo | null): string {
  return site?.config?.env_dirs?.[0] ?? '';
}

/**
 * The directories a user may choose for new environments: the site's roots,
 * then its shared roots.
 */
export function environmentRoots(site: ISiteInfo | null): string[] {
  const roots: string[] = [];
  const config = site?.config;
  for (const root of [
    ...(config?.env_dirs ?? []),
    ...(config?.shared_roots ?? [])
  ]) {
    if (!roots.includes(root)) {
      roots.push(root);
    }
  }
  return roots;
}

/**
 * A path without its trailing slashes ("/" stays "/").
 */
function trimSlashes(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed || (path.startsWith('/') ? '/' : '');
}

/**
 * `root/name`.
 */
export function joinPath(root: string, name: string): string {
  const base = trimSlashes(root);
  return base === '/' ? `/${name}` : `${base}/${name}`;
}

/**
 * Whether the form sends a `name` (the environment goes to the site's
 * default root) rather than a `path`.
 */
export function sendsName(form: ICreateForm, site: ISiteInfo | null): boolean {
  if (form.location === CUSTOM_PATH) {
    return false;
  }
  const root = defaultRoot(site);
  return (
    !form.location || !root || trimSlashes(form.location) === trimSlashes(root)
  );
}

/**
 * Where the new environment will be, as far as the front end can tell: the
 * custom path as typed (maybe with `~`), `root/name`, or `null` when the
 * name or the root is unknown.
 */
export function targetPath(
  form: ICreateForm,
  site: ISiteInfo | null
): string | null {
  if (form.location === CUSTOM_PATH) {
    const path = form.customPath.trim();
    return path ? path : null;
  }
  const name = form.name.trim();
  const root = form.location || defaultRoot(site);
  return name && root ? joinPath(root, name) : null;
}

/**
 * A value quoted as the server quotes it in messages.
 */
function quote(value: string): string {
  return `'${value}'`;
}

/**
 * The number of bytes of `text` in UTF-8.
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

// The server's rules (specs.py, modsys.py).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const CHANNEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*(?:\/[A-Za-z0-9._-]+)*$/;
const MODULE_NAME = /^[A-Za-z0-9_.+-][A-Za-z0-9_.+/:@%=-]*$/;

/**
 * Whether `channel` is a channel name or an http(s)/file URL.
 */
function channelProblem(
  channel: string
): 'scheme' | 'incomplete' | 'bad' | null {
  const url = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(channel);
  if (url) {
    const scheme = url[1].toLowerCase();
    const rest = url[2];
    if (!['http', 'https', 'file'].includes(scheme)) {
      return 'scheme';
    }
    if (
      scheme === 'file' ? !rest.replace(/^[^/]*/, '') : !/^[^/?#]+/.test(rest)
    ) {
      return 'incomplete';
    }
    return null;
  }
  if (channel.includes('://') || !CHANNEL_NAME.test(channel)) {
    return 'bad';
  }
  return null;
}

/**
 * The first problem of a package list, or null.
 */
function listProblem(
  entries: string[],
  what: 'conda' | 'pip',
  trans: TranslationBundle
): string | null {
  if (entries.length > MAX_LIST_ITEMS) {
    return trans.__(
      '%1 entries: give at most %2.',
      entries.length,
      MAX_LIST_ITEMS
    );
  }
  for (const entry of entries) {
    if (entry.startsWith('-')) {
      return what === 'conda'
        ? trans.__(
            '%1 is an option, not a conda package spec; options are not accepted.',
            quote(entry)
          )
        : trans.__(
            '%1 is an option, not a pip requirement; options are not accepted.',
            quote(entry)
          );
    }
    if (CONTROL.test(entry)) {
      return trans.__(
        '%1 contains a control character.',
        quote(entry.replace(CONTROL, '?'))
      );
    }
    if (entry.length > 1000) {
      return trans.__(
        'An entry has %1 characters; give at most 1000.',
        entry.length
      );
    }
    if (what === 'pip' && /\s--?[A-Za-z]/.test(entry)) {
      return trans.__(
        '%1 contains pip options; options are not accepted.',
        quote(entry)
      );
    }
  }
  return null;
}

/**
 * Check the form with the server's rules.
 *
 * @returns A message per bad field, keyed by the request's field names
 *   (see {@link CreateField}); empty when the form can be sent.
 */
export function validateCreate(
  form: ICreateForm,
  context: IValidationContext
): ICreateErrors {
  const trans = context.trans ?? nullTranslator.load(TRANSLATION_DOMAIN);
  const site = context.site;
  const errors: ICreateErrors = {};
  const existingPaths = (context.existingPaths ?? []).map(trimSlashes);

  // Where it goes.
  if (form.location === CUSTOM_PATH) {
    const path = form.customPath.trim();
    if (!path) {
      errors.path = trans.__(
        "Give the environment's directory: an absolute path or one starting with ~."
      );
    } else if (CONTROL.test(path)) {
      errors.path = trans.__(
        'The path must not contain line breaks or control characters.'
      );
    } else if (!path.startsWith('/') && !path.startsWith('~')) {
      errors.path = trans.__(
        '%1 is relative: give an absolute path or one starting with ~.',
        quote(path)
      );
    } else if (path.length > 4096) {
      errors.path = trans.__(
        'The path has %1 characters; give at most 4096.',
        path.length
      );
    } else if (existingPaths.includes(trimSlashes(path))) {
      errors.path = trans.__(
        'An environment already exists at %1. Choose another path.',
        path
      );
    }
  } else {
    const name = form.name;
    const root = form.location || defaultRoot(site);
    if (!name.trim()) {
      errors.name = trans.__('Give the environment a name.');
    } else if (!ENV_NAME_PATTERN.test(name)) {
      errors.name =
        name.length > 64
          ? trans.__(
              "Invalid environment name %1 (%2 characters); use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'.",
              quote(name),
              name.length
            )
          : trans.__(
              "Invalid environment name %1; use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'.",
              quote(name)
            );
    } else if (
      context.existingPaths
        ? !!root && existingPaths.includes(joinPath(root, name))
        : sendsName(form, site) && context.existingNames.includes(name)
    ) {
      errors.name = root
        ? trans.__(
            'An environment called %1 already exists in %2. Choose another name.',
            name,
            root
          )
        : trans.__(
            'An environment called %1 already exists. Choose another name.',
            name
          );
    }
  }

  // Engine.
  if (site?.engines) {
    const engine = (
      site.engines as {
        [name: string]: ISiteInfo['engines'][EngineName] | undefined;
      }
    )[form.engine];
    if (!engine) {
      errors.engine = trans.__(
        'Unknown engine %1: use rattler, conda or venv.',
        quote(form.engine)
      );
    } else if (!engine.available) {
      errors.engine = engine.detail
        ? trans.__(
            'The %1 engine is not available on this site: %2',
            form.engine,
            engine.detail
          )
        : trans.__('The %1 engine is not available on this site.', form.engine);
    }
  }

  // Python.
  const python = form.python.trim();
  if (python && !PYTHON_VERSION_PATTERN.test(python)) {
    errors.python = trans.__(
      "Invalid Python version %1; use a version like '3', '3.11' or '3.11.4'.",
      quote(python)
    );
  }

  // Packages.
  const packages = listProblem(splitList(form.packages), 'conda', trans);
  if (packages) {
    errors.packages = packages;
  }
  const pip = listProblem(splitList(form.pipPackages), 'pip', trans);
  if (pip) {
    errors.pip_packages = pip;
  }

  // Channels.
  const channels = splitList(form.channels);
  if (channels.length > MAX_LIST_ITEMS) {
    errors.channels = trans.__(
      '%1 entries: give at most %2.',
      channels.length,
      MAX_LIST_ITEMS
    );
  }
  for (const channel of channels) {
    if (errors.channels) {
      break;
    }
    switch (channelProblem(channel)) {
      case 'scheme':
        errors.channels = trans.__(
          'Channel URL %1 has an unsupported scheme; use http://, https:// or file://.',
          quote(channel)
        );
        break;
      case 'incomplete':
        errors.channels = trans.__(
          'Channel URL %1 is incomplete.',
          quote(channel)
        );
        break;
      case 'bad':
        errors.channels = trans.__(
          "%1 is not a valid channel; use a channel name such as 'conda-forge', 'bioconda' or 'conda-forge/label/dev', or an http://, https:// or file:// URL.",
          quote(channel)
        );
        break;
      default:
        break;
    }
  }

  // Spec file.
  if (form.spec) {
    const size = utf8Length(form.spec.content);
    if (size > MAX_SPEC_BYTES) {
      errors.spec = trans.__(
        '%1 is %2 bytes, larger than the limit of %3 bytes (1 MiB).',
        form.spec.filename,
        size,
        MAX_SPEC_BYTES
      );
    } else if (!form.spec.content.trim()) {
      errors.spec = trans.__('%1 is empty.', form.spec.filename);
    } else if (
      /[/\\]/.test(form.spec.filename) ||
      CONTROL.test(form.spec.filename)
    ) {
      errors.spec = trans.__(
        'The file name %1 must not contain slashes.',
        quote(form.spec.filename)
      );
    }
  }

  // Kernel.
  if (form.kernel) {
    const displayName = form.displayName.trim();
    if (displayName.length > MAX_DISPLAY_NAME) {
      errors['kernel.display_name'] = trans.__(
        'The display name has %1 characters; use at most %2.',
        displayName.length,
        MAX_DISPLAY_NAME
      );
    } else if (CONTROL.test(displayName)) {
      errors['kernel.display_name'] = trans.__(
        'The display name must not contain line breaks or control characters.'
      );
    }
  }

  // Module files.
  if (form.modules) {
    const formats = form.formats.filter(format =>
      MODULE_FORMATS.includes(format)
    );
    if (formats.length === 0) {
      errors['module.formats'] = trans.__(
        'Choose at least one module file format.'
      );
    }
  }
  if (form.dependencies.length > MAX_DEPENDENCIES) {
    errors['module.dependencies'] = trans.__(
      '%1 modules: give at most %2.',
      form.dependencies.length,
      MAX_DEPENDENCIES
    );
  } else {
    const bad = form.dependencies.find(dependency => {
      const name = dependency.trim();
      return (
        !name ||
        name.length > 200 ||
        !MODULE_NAME.test(name) ||
        name.endsWith('/') ||
        name.split('/').includes('..')
      );
    });
    if (bad !== undefined) {
      errors['module.dependencies'] = trans.__(
        "%1 is not a module name; give names as 'module list' shows them, e.g. 'gcc/12.2.0' (letters, digits and . _ + - / : @ % =).",
        quote(bad)
      );
    }
  }

  return errors;
}

/**
 * The body of `POST /environments` for the form.
 *
 * The environment goes by `name` to the site's default root (the first
 * `env_dirs`), else by `path` (`root/name`, or the custom path). Empty lists
 * and empty optional values are left out.
 */
export function buildCreateRequest(
  form: ICreateForm,
  site: ISiteInfo | null
): ICreateRequest {
  const request: ICreateRequest = {};
  if (form.location === CUSTOM_PATH) {
    request.path = form.customPath.trim();
  } else if (sendsName(form, site)) {
    request.name = form.name.trim();
  } else {
    request.path = joinPath(form.location, form.name.trim());
  }
  request.engine = form.engine;
  const python = form.python.trim();
  if (python) {
    request.python = python;
  }
  const packages = splitList(form.packages);
  if (packages.length > 0) {
    request.packages = packages;
  }
  const pipPackages = splitList(form.pipPackages);
  if (pipPackages.length > 0) {
    request.pip_packages = pipPackages;
  }
  const channels = splitList(form.channels);
  if (channels.length > 0) {
    request.channels = channels;
  }
  if (form.spec) {
    request.spec = { content: form.spec.content };
    if (form.spec.filename) {
      request.spec.filename = form.spec.filename;
    }
  }
  request.kernel = { create: form.kernel };
  const displayName = form.displayName.trim();
  if (form.kernel && displayName) {
    request.kernel.display_name = displayName;
  }
  request.module = { create: form.modules };
  if (form.modules) {
    request.module.formats = MODULE_FORMATS.filter(format =>
      form.formats.includes(format)
    );
  }
  const dependencies: string[] = [];
  for (const dependency of form.dependencies) {
    const name = dependency.trim();
    if (name && !dependencies.includes(name)) {
      dependencies.push(name);
    }
  }
  if (dependencies.length > 0) {
    request.module.dependencies = dependencies;
  }
  return request;
}

/**
 * The form field a server error is about.
 *
 * @param details - The `details` of the error answer.
 * @param form - The form sent: a `path` error is about the name unless the
 *   path was typed, and a `name` error is about the typed path if there is
 *   one.
 * @returns The field, or null for an error about the request as a whole.
 */
export function fieldOfError(
  details: { [key: string]: unknown },
  form: ICreateForm
): CreateField | null {
  const custom = form.location === CUSTOM_PATH;
  const raw = typeof details.field === 'string' ? details.field : '';
  // jsonschema errors name items as "packages[2]".
  const field = raw.replace(/\[\d+\]/g, '');
  switch (field) {
    case 'name':
    case 'path':
      return custom ? 'path' : 'name';
    case 'engine':
      // The engine cannot read the spec file: shown with the file.
      return typeof details.file === 'string' ? 'spec' : 'engine';
    case 'python':
    case 'packages':
    case 'pip_packages':
    case 'channels':
      return field;
    case 'spec':
    case 'spec.content':
    case 'spec.filename':
    case 'spec.format':
    case 'format':
    case 'prefix':
      return 'spec';
    case 'kernel':
    case 'kernel.create':
    case 'kernel.display_name':
    case 'display_name':
      return 'kernel.display_name';
    case 'module.formats':
    case 'formats':
      return 'module.formats';
    case 'module':
    case 'module.create':
      return 'module.formats';
    case 'module.dependencies':
    case 'module_deps':
      return 'module.dependencies';
    default:
      break;
  }
  if (typeof details.file === 'string' || typeof details.line === 'number') {
    return 'spec';
  }
  return null;
}

/**
 * The `name:` of an environment.yml, if it has a valid one.
 */
export function specName(content: string): string | null {
  const match = /^name:[ \t]*(['"]?)([^'"\s#]+)\1[ \t]*(?:#.*)?$/m.exec(
    content
  );
  return match && ENV_NAME_PATTERN.test(match[2]) ? match[2] : null;
}
