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
