/**
 * Identifiers and the shapes of the data exchanged with the jupyter_envmod
 * server extension.
 */

/**
 * The id of the JupyterLab plugin (also the id of its settings).
 */
export const PLUGIN_ID = 'jupyter-envmod:plugin';

/**
 * The DOM id of the Environments side panel.
 */
export const PANEL_ID = 'jp-envmod-panel';

/**
 * The translation domain of this extension.
 */
export const TRANSLATION_DOMAIN = 'jupyter_envmod';

/**
 * The URL path, below the server's base URL, of the server extension's API.
 */
export const API_NAMESPACE = 'envmod';

/**
 * The ways the server extension can create environments.
 */
export type EngineName = 'rattler' | 'conda' | 'venv';

/**
 * The engines in the order the panel lists them.
 */
export const ENGINE_NAMES: ReadonlyArray<EngineName> = [
  'rattler',
  'conda',
  'venv'
];

/**
 * What the server found out about one engine.
 */
export interface IEngineInfo {
  /**
   * Whether the engine can be used on this site.
   */
  available: boolean;
  /**
   * The engine's version, when known.
   */
  version: string | null;
  /**
   * The executable the engine uses, when known.
   */
  path: string | null;
  /**
   * A sentence for people, e.g. "uv 0.13.8 at /x/bin/uv".
   */
  detail: string;
}

/**
 * The effective EnvMod configuration of the server (paths already expanded).
 */
export interface ISiteConfig {
  env_dirs: string[];
  allowed_roots: string[];
  default_engine: EngineName;
  conda_executable: string;
  channels: string[];
  channel_priority: 'strict' | 'flexible';
  pip_index_url: string;
  default_python: string;
  kernel_dir: string;
  kernel_name_template: string;
  kernel_display_name_template: string;
  kernel_env: { [key: string]: string };
  thread_variables: string[];
  module_dir: string;
  module_app: string;
  module_name_template: string;
  module_formats: string[];
  template_dirs: string[];
  shared_roots: string[];
  shared_group: string;
  /**
   * The umask for shared environments, as octal text such as "0002".
   */
  shared_umask: string;
}

/**
 * The module system (Lmod or Environment Modules) found on the site.
 */
export interface IModuleSystemInfo {
  kind: 'lmod' | 'environment-modules' | null;
  version: string | null;
  command: string | null;
  /**
   * A sentence for people describing what was found, or why nothing was.
   */
  detail: string;
}

/**
 * The answer of `GET <baseUrl>/envmod/site`.
 */
export interface ISiteInfo {
  /**
   * The version of the jupyter_envmod server extension.
   */
  version: string;
  user: string;
  arch: string;
  config: ISiteConfig;
  engines: { [name in EngineName]: IEngineInfo };
  module_system: IModuleSystemInfo;
}

/**
 * The JSON body of an error answer of the server extension.
 */
export interface IErrorBody {
  /**
   * A sentence for people.
   */
  message: string;
  /**
   * A stable code, e.g. "invalid-configuration".
   */
  reason: string;
  details: { [key: string]: unknown };
}

/**
 * The states of the site model.
 *
 * - `loading`: no answer from the server yet.
 * - `ready`: the site information is known.
 * - `server-missing`: the server extension does not answer.
 * - `version-mismatch`: the server extension answered but its version differs
 *   from the front end's; the site information is known anyway.
 * - `error`: the server extension answered with an error.
 */
export type SiteState =
  'loading' | 'ready' | 'server-missing' | 'version-mismatch' | 'error';

/**
 * The states an environment can be in.
 *
 * - `ready`: usable.
 * - `busy`: an operation is running on it.
 * - `interrupted`: the server stopped during an operation; retry or remove it.
 * - `broken`: its files are damaged (e.g. no Python).
 */
export type EnvironmentState = 'ready' | 'busy' | 'interrupted' | 'broken';

/**
 * The operation in progress (or cut off) on an environment.
 */
export interface IOperation {
  kind?: string;
  task?: string;
  pid?: number;
  host?: string;
  started?: number;
  interrupted?: number;
  request?: { [key: string]: unknown };
}

/**
 * One environment, as `GET /environments` lists it.
 */
export interface IEnvironment {
  id: string;
  name: string;
  path: string;
  engine: EngineName;
  type: 'conda' | 'venv' | 'unknown';
  python_version: string | null;
  managed: boolean;
  created: number | null;
  modified: number | null;
  state: EnvironmentState;
  operation: IOperation | null;
  kernel: string | null;
  modules: string[];
  module: string | null;
  module_deps: string[];
}

/**
 * A Jupyter kernelspec written by jupyter_envmod.
 */
export interface IKernelSpec {
  name: string;
  dir: string;
  display_name: string;
  env_path: string;
  env_name: string;
  engine: string;
  created: string;
  modules: string[];
  /**
   * Why it cannot start ("environment missing", …), or null.
   */
  orphan: string | null;
}

/**
 * The module file formats.
 */
export type ModuleFormat = 'lua' | 'tcl' | 'sh' | 'csh';

/**
 * The module file formats in the order the panel lists them.
 */
export const MODULE_FORMATS: ReadonlyArray<ModuleFormat> = [
  'lua',
  'tcl',
  'sh',
  'csh'
];

/**
 * A module file or activation script written by jupyter_envmod.
 */
export interface IModuleFile {
  format: ModuleFormat;
  path: string;
  env_path: string;
  module: string;
  orphan: string | null;
}

/**
 * One environment in detail (`GET /environments/{id}`).
 */
export interface IEnvironmentDetails extends IEnvironment {
  packages: number;
  requested: { conda: string[]; pip: string[] };
  channels: string[];
  variables: { [key: string]: string };
  kernels: IKernelSpec[];
  module_files: IModuleFile[];
  /**
   * Lines to type in a terminal or batch script; comments start with "#".
   */
  usage: string[];
}

/**
 * Where an installed package comes from.
 */
export type PackageSource = 'conda' | 'pypi';

/**
 * An installed package.
 */
export interface IPackage {
  name: string;
  version: string;
  source: PackageSource;
  build: string;
  channel: string;
  requested: boolean;
  url: string;
  sha256: string;
}

/**
 * One line of a plan.
 */
export interface IChange {
  name: string;
  source: PackageSource;
  old: string | null;
  new: string | null;
  kind: 'add' | 'remove' | 'change';
}

/**
 * What an operation changes, or would change.
 */
export interface IPlan {
  changes: IChange[];
}

/**
 * The states of a task.
 */
export type TaskState =
  'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * Whether a task state is final.
 */
export function isFinished(state: TaskState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

/**
 * One line of a task's log.
 */
export interface ILogLine {
  offset: number;
  time: number;
  line: string;
}

/**
 * A task of the server: a create, a package change, a delete, …
 */
export interface ITask {
  id: string;
  kind: string;
  environment: { path: string; name: string; id: string };
  state: TaskState;
  phase: string;
  progress: number | null;
  created: number;
  started: number | null;
  finished: number | null;
  log: ILogLine[];
  next_offset: number;
  /**
   * The outcome once succeeded, e.g. `{plan, summary, kernel, module}`.
   */
  result: { [key: string]: unknown } | null;
  error: IErrorBody | null;
}

/**
 * The kernel options of a create or adopt request.
 */
export interface IKernelOptions {
  create?: boolean;
  display_name?: string;
}

/**
 * The module options of a create or adopt request.
 */
export interface IModuleOptions {
  create?: boolean;
  formats?: ModuleFormat[];
  dependencies?: string[];
}

/**
 * The formats of an uploaded specification file.
 */
export type SpecFormat =
  'environment.yml' | 'requirements.txt' | 'explicit' | 'lock';

/**
 * The body of `POST /environments`.
 */
export interface ICreateRequest {
  name?: string;
  path?: string;
  engine?: EngineName;
  python?: string;
  packages?: string[];
  pip_packages?: string[];
  channels?: string[];
  spec?: { content: string; filename?: string; format?: SpecFormat };
  kernel?: IKernelOptions;
  module?: IModuleOptions;
  dry_run?: boolean;
}

/**
 * The body of `POST /environments/{id}/packages`: exactly one of `install`,
 * `update`, `remove` and `update_all`.
 */
export interface IPackagesRequest {
  install?: string[];
  update?: string[];
  remove?: string[];
  update_all?: boolean;
  manager?: 'conda' | 'pip';
  channels?: string[];
  dry_run?: boolean;
}

/**
 * The formats of `GET /environments/{id}/export`.
 */
export type ExportFormat = 'yml' | 'history' | 'requirements' | 'explicit';

/**
 * A package as a revision or a plan names it.
 */
export interface IPackageChange {
  name: string;
  source: PackageSource;
  old?: string;
  new?: string;
}

/**
 * One revision of an environment's history.
 */
export interface IRevision {
  rev: number;
  /**
   * create, clone, install, update, update-all, remove, restore, outside or
   * baseline.
   */
  action: string;
  time: number;
  request: { [key: string]: unknown };
  requested_conda: string[];
  requested_pip: string[];
  diff: {
    added?: IPackageChange[];
    removed?: IPackageChange[];
    changed?: IPackageChange[];
  };
  user: string;
  packages: number;
}

/**
 * One revision with its exact packages (`GET …/history/{rev}`).
 */
export interface IRevisionDetails extends IRevision {
  snapshot: {
    conda: {
      name: string;
      version: string;
      build?: string;
      channel?: string;
      url: string;
    }[];
    pip: { name: string; version: string; pin: string; requested?: boolean }[];
  };
}

/**
 * A package that has a newer version.
 */
export interface IOutdatedPackage {
  name: string;
  source: PackageSource;
  installed: string;
  latest: string | null;
  /**
   * The version "Update all" installs; null when it is held back.
   */
  update: string | null;
  requested: boolean;
}

/**
 * The answer of `GET /environments/{id}/outdated`.
 */
export interface IOutdated {
  outdated: IOutdatedPackage[];
  plan: IPlan;
  summary: string;
  task: string;
}

/**
 * The answer of `GET /environments/{id}/share`.
 */
export interface IShare {
  environment: IEnvironment;
  spec: { filename: string; text: string };
  recreate: string[];
  use: string[];
  notes: string[];
  sharing: {
    shared_root: string | null;
    group: string | null;
    owner: string;
    group_writable: boolean;
    readable_by_others: boolean;
    can_change: boolean;
  };
}

/**
 * The answer of `GET /modules/available`.
 */
export interface IAvailableModules {
  loaded: string[];
  available: string[];
}

/**
 * The answer of `GET /packages/search`.
 */
export interface ISearchResult {
  query: string;
  engine: string;
  names: string[];
  complete: boolean;
}

/**
 * The rule the server applies to environment names (specs.NAME_RE).
 */
export const ENV_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/**
 * The rule the server applies to Python versions.
 */
export const PYTHON_VERSION_PATTERN = /^[0-9]+(\.[0-9]+){0,2}$/;

/**
 * How a doctor check came out.
 */
export type DoctorStatus = 'ok' | 'warning' | 'problem';

/**
 * The ids of the doctor checks, in the order the server runs them.
 */
export const DOCTOR_CHECK_IDS: ReadonlyArray<string> = [
  'user-site',
  'pythonpath',
  'pip-user',
  'caches',
  'disk-space',
  'orphan-kernels',
  'orphan-modules',
  'interrupted',
  'environments-txt',
  'module-system',
  'condarc-channels'
];

/**
 * One check of the doctor (`GET /doctor`).
 */
export interface IDoctorCheck {
  /**
   * One of {@link DOCTOR_CHECK_IDS}.
   */
  id: string;
  title: string;
  status: DoctorStatus;
  /**
   * One line for people.
   */
  summary: string;
  /**
   * Why it matters and what to do.
   */
  explanation: string;
  /**
   * One finding per line.
   */
  details: string[];
  /**
   * What the fix will do, or null when the check has no fix.
   */
  fix: string | null;
}

/**
 * How many checks came out in each status.
 */
export interface IDoctorCounts {
  ok: number;
  warning: number;
  problem: number;
}

/**
 * The answer of `GET /doctor`.
 */
export interface IDoctorReport {
  checks: IDoctorCheck[];
  counts: IDoctorCounts;
}

/**
 * The outcome of one fix.
 */
export interface IDoctorFixResult {
  id: string;
  fixed: boolean;
  /**
   * A sentence for people, e.g. "Moved … to …".
   */
  message: string;
  /**
   * The paths the fix changed (moved, removed or written).
   */
  changed: string[];
}

/**
 * The answer of `POST /doctor/fix`: the outcome of each fix, then the checks
 * run again.
 */
export interface IDoctorFixReport extends IDoctorReport {
  results: IDoctorFixResult[];
}
