import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { EngineName, ENGINE_NAMES, ISiteInfo } from '../tokens';
import { environmentRoots } from '../validate';

/**
 * What the first-run card saves in the user settings.
 */
export interface IFirstRunChoices {
  /**
   * The directory new environments go to ('' = the site's first root).
   */
  environmentRoot: string;
  /**
   * Whether new environments get module files by default.
   */
  createModules: boolean;
  /**
   * The engine the New environment dialog starts with ('' = the site's).
   */
  defaultEngine: EngineName | '';
}

/**
 * A short setup card shown until the user saves or skips it: where new
 * environments go, whether they get module files (and where those go), and
 * the engine to start with.
 */
export function FirstRunCard(props: {
  site: ISiteInfo;
  trans: TranslationBundle;
  onSave: (choices: IFirstRunChoices) => void;
  onSkip: () => void;
}): JSX.Element {
  const { site, trans } = props;
  const roots = environmentRoots(site);
  const [root, setRoot] = React.useState(roots[0] ?? '');
  const [modules, setModules] = React.useState(false);
  const [engine, setEngine] = React.useState<EngineName | ''>('');
  const hasModuleSystem = site.module_system.kind !== null;
  return (
    <section
      className="jp-EnvMod-firstRun"
      aria-labelledby="jp-EnvMod-firstRunTitle"
    >
      <h3 id="jp-EnvMod-firstRunTitle" className="jp-EnvMod-sectionTitle">
        {trans.__('Set up Environments')}
      </h3>
      <p>
        {trans.__(
          'Choose where your environments go. You can change this later in Settings → Environments.'
        )}
      </p>
      <fieldset className="jp-EnvMod-fieldset">
        <legend>{trans.__('Where new environments go')}</legend>
        {roots.map((dir, index) => (
          <label key={dir} className="jp-EnvMod-radio">
            <input
              type="radio"
              name="jp-EnvMod-firstRun-root"
              value={dir}
              checked={root === dir}
              onChange={() => setRoot(dir)}
            />
            <code>{dir}</code>
            {index === 0 && (
              <span className="jp-EnvMod-hint">
                {' '}
                {trans.__('(site default)')}
              </span>
            )}
            {site.config.shared_roots.includes(dir) && (
              <span className="jp-EnvMod-hint">
                {' '}
                {site.config.shared_group
                  ? trans.__('(shared with group %1)', site.config.shared_group)
                  : trans.__('(shared)')}
              </span>
            )}
          </label>
        ))}
      </fieldset>
      <label className="jp-EnvMod-check">
        <input
          type="checkbox"
          checked={modules}
          onChange={event => setModules(event.target.checked)}
        />
        {trans.__('Create module files for new environments')}
      </label>
      <p className="jp-EnvMod-hint">
        {hasModuleSystem
          ? trans.__(
              'Module files go to %1; load them in batch jobs with "module use %1".',
              site.config.module_dir
            )
          : trans.__(
              'No module system was found on this server; activate.sh scripts still work in batch jobs.'
            )}
      </p>
      <label className="jp-EnvMod-field">
        <span>{trans.__('Engine for new environments')}</span>
        <select
          className="jp-mod-styled"
          value={engine}
          onChange={event => setEngine(event.target.value as EngineName | '')}
        >
          <option value="">
            {trans.__('Site default (%1)', site.config.default_engine)}
          </option>
          {ENGINE_NAMES.filter(name => site.engines[name].available).map(
            name => (
              <option key={name} value={name}>
                {name}
              </option>
            )
          )}
        </select>
      </label>
      <div className="jp-EnvMod-firstRunActions">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject"
          onClick={props.onSkip}
        >
          {trans.__('Skip')}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-accept"
          onClick={() =>
            props.onSave({
              environmentRoot: root === roots[0] ? '' : root,
              createModules: modules,
              defaultEngine: engine
            })
          }
        >
          {trans.__('Save')}
        </button>
      </div>
    </section>
  );
}
