import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { addIcon, ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { EnvironmentsModel } from '../environments';
import { SiteModel } from '../model';
import {
  IEnvironment,
  IKernelSpec,
  IModuleFile,
  ISiteInfo,
  ITask
} from '../tokens';
import { confirmDelete, errorMessage } from './dialogs';
import { EnvironmentDetail } from './EnvironmentDetail';
import { FirstRunCard, IFirstRunChoices } from './FirstRun';
import { TaskList } from './TaskView';

/**
 * The main section of the Environments panel: the "New environment" button,
 * the first-run card, the tasks, and either the list of environments or one
 * environment in detail.
 */
export class EnvironmentsView extends ReactWidget {
  constructor(options: EnvironmentsView.IOptions) {
    super();
    this.addClass('jp-EnvMod-environments');
    this._options = options;
    this.title.label = options.trans.__('Environments');
    options.model.changed.connect(this.update, this);
    options.site.changed.connect(this.update, this);
  }

  /**
   * The id of the environment shown in detail, or null for the list.
   */
  get selected(): string | null {
    return this._selected;
  }
  set selected(id: string | null) {
    this._selected = id;
    this.update();
  }

  /**
   * Whether to show the first-run card.
   */
  get showFirstRun(): boolean {
    return this._showFirstRun;
  }
  set showFirstRun(value: boolean) {
    this._showFirstRun = value;
    this.update();
  }

  /**
   * Open the log of a task (e.g. from a notification's "Show log").
   */
  showTask(id: string): void {
    this._expandedTask = id;
    this.update();
    requestAnimationFrame(() => {
      this.node
        .querySelector(`[data-task-id="${CSS.escape(id)}"]`)
        ?.scrollIntoView({ block: 'nearest' });
    });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._options.model.changed.disconnect(this.update, this);
    this._options.site.changed.disconnect(this.update, this);
    super.dispose();
  }

  protected render(): JSX.Element {
    const { model, site, trans } = this._options;
    const selected =
      this._selected !== null && model.environment(this._selected)
        ? this._selected
        : null;
    return (
      <div className="jp-EnvMod-environmentsBody">
        {this._showFirstRun && site.info && (
          <FirstRunCard
            site={site.info}
            trans={trans}
            onSave={choices => this._options.onFirstRunSave(choices)}
            onSkip={() => this._options.onFirstRunSkip()}
          />
        )}
        <TaskList
          model={model}
          trans={trans}
          expandedTask={this._expandedTask}
        />
        {selected !== null ? (
          <EnvironmentDetail
            key={selected}
            model={model}
            envId={selected}
            trans={trans}
            onClose={() => {
              this.selected = null;
            }}
            openNotebook={this._options.openNotebook}
          />
        ) : (
          <EnvironmentList
            model={model}
            site={site.info}
            trans={trans}
            onNew={this._options.onNew}
            onSelect={id => {
              this.selected = id;
            }}
          />
        )}
      </div>
    );
  }

  private _expandedTask: string | null = null;
  private _options: EnvironmentsView.IOptions;
  private _selected: string | null = null;
  private _showFirstRun = false;
}

/**
 * The namespace for `EnvironmentsView` statics.
 */
export namespace EnvironmentsView {
  export interface IOptions {
    model: EnvironmentsModel;
    site: SiteModel;
    trans: TranslationBundle;
    /**
     * Open the "New environment" dialog.
     */
    onNew: () => void;
    /**
     * Open a new notebook with a kernel.
     */
    openNotebook?: (kernelName: string) => void;
    onFirstRunSave: (choices: IFirstRunChoices) => void;
    onFirstRunSkip: () => void;
  }
}

/**
 * The name of a kernelspec directory.
 */
export function kernelName(kernelDir: string): string {
  return PathExt.basename(kernelDir.replace(/\/+$/, ''));
}

/**
 * The list of environments with a filter and an empty state.
 */
function EnvironmentList(props: {
  model: EnvironmentsModel;
  site: ISiteInfo | null;
  trans: TranslationBundle;
  onNew: () => void;
  onSelect: (id: string) => void;
}): JSX.Element {
  const { model, trans } = props;
  const [filter, setFilter] = React.useState('');
  const needle = filter.trim().toLowerCase();
  const shown = model.environments.filter(
    env =>
      needle === '' ||
      env.name.toLowerCase().includes(needle) ||
      env.path.toLowerCase().includes(needle) ||
      env.engine.includes(needle)
  );
  return (
    <section
      className="jp-EnvMod-envSection"
      aria-label={trans.__('Environment list')}
    >
      <div className="jp-EnvMod-listBar">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-accept jp-EnvMod-new"
          onClick={props.onNew}
        >
          <addIcon.react tag="span" className="jp-EnvMod-buttonIcon" />
          {trans.__('New environment')}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject"
          onClick={() =>
            void showAdoptDialog(model, trans).catch(reason =>
              showErrorMessage(
                trans.__('Add an existing environment'),
                errorMessage(reason)
              )
            )
          }
        >
          {trans.__('Add existing…')}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-minimal jp-EnvMod-iconButton"
          aria-label={trans.__('Refresh environments')}
          title={trans.__('Refresh environments')}
          onClick={() => void model.refresh()}
        >
          <refreshIcon.react tag="span" />
        </button>
      </div>
      {model.environments.length > 0 && (
        <input
          type="search"
          className="jp-EnvMod-filter jp-mod-styled"
          placeholder={trans.__('Filter')}
          aria-label={trans.__('Filter environments')}
          value={filter}
          onChange={event => setFilter(event.target.value)}
        />
      )}
      {model.state === 'loading' && (
        <p className="jp-EnvMod-status">{trans.__('Loading environments…')}</p>
      )}
      {model.state === 'error' && model.error && (
        <p className="jp-EnvMod-errorMessage" role="alert">
          {trans.__('Could not list the environments: %1', model.error.message)}
        </p>
      )}
      {model.state === 'ready' && model.environments.length === 0 && (
        <div className="jp-EnvMod-emptyState">
          <p>{trans.__('You have no environments yet.')}</p>
          <p>
            {trans.__(
              'Click "New environment" to make one from a list of packages or an environment.yml or requirements.txt file. It gets a Jupyter kernel, so you can pick it in the Launcher, and module files for batch jobs.'
            )}
          </p>
          {props.site && props.site.config.env_dirs.length > 0 && (
            <p className="jp-EnvMod-hint">
              {trans.__(
                'New environments go to %1.',
                props.site.config.env_dirs[0]
              )}
            </p>
          )}
        </div>
      )}
      {model.environments.length > 0 && shown.length === 0 && (
        <p className="jp-EnvMod-status">
          {trans.__('No environment matches "%1".', filter)}
        </p>
      )}
      <ul className="jp-EnvMod-envList">
        {shown.map(env => (
          <EnvironmentItem
            key={env.id}
            env={env}
            model={model}
            trans={trans}
            onSelect={props.onSelect}
          />
        ))}
      </ul>
      <OutputsSection model={model} trans={trans} />
    </section>
  );
}

/**
 * One environment of the list.
 */
function EnvironmentItem(props: {
  env: IEnvironment;
  model: EnvironmentsModel;
  trans: TranslationBundle;
  onSelect: (id: string) => void;
}): JSX.Element {
  const { env, model, trans } = props;
  const [busy, setBusy] = React.useState(false);

  const run = async (action: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    try {
      await action();
    } catch (reason) {
      await showErrorMessage(
        trans.__('Environment %1', env.name),
        errorMessage(reason)
      );
    } finally {
      setBusy(false);
    }
  };

  const stateText: { [state: string]: string } = {
    busy: trans.__('busy'),
    interrupted: trans.__('interrupted'),
    broken: trans.__('broken')
  };
  return (
    <li
      className={`jp-EnvMod-env jp-EnvMod-env-${env.state}`}
      data-env-name={env.name}
      data-env-id={env.id}
      data-state={env.state}
    >
      <button
        type="button"
        className="jp-EnvMod-envOpen"
        title={env.path}
        aria-label={trans.__('Open environment %1', env.name)}
        onClick={() => props.onSelect(env.id)}
      >
        <span className="jp-EnvMod-envName">{env.name}</span>
        <span className="jp-EnvMod-envMeta">
          <span className="jp-EnvMod-badge" data-badge="engine">
            {env.engine}
          </span>
          {env.python_version && (
            <span className="jp-EnvMod-envPython">
              {trans.__('Python %1', env.python_version)}
            </span>
          )}
          {env.kernel && (
            <span
              className="jp-EnvMod-badge jp-EnvMod-badge-kernel"
              data-badge="kernel"
              title={trans.__('Has a Jupyter kernel')}
            >
              {trans.__('kernel')}
            </span>
          )}
          {env.modules.length > 0 && (
            <span
              className="jp-EnvMod-badge jp-EnvMod-badge-module"
              data-badge="module"
              title={env.module ?? ''}
            >
              {trans.__('module')}
            </span>
          )}
          {env.state !== 'ready' && (
            <span
              className={`jp-EnvMod-badge jp-EnvMod-badge-${env.state}`}
              data-badge="state"
            >
              {stateText[env.state] ?? env.state}
            </span>
          )}
        </span>
      </button>
      {env.state === 'interrupted' && (
        <div className="jp-EnvMod-envActions">
          <span className="jp-EnvMod-hint">
            {trans.__(
              'The server stopped during its %1.',
              env.operation?.kind ?? trans.__('last operation')
            )}
          </span>
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept"
            disabled={busy}
            aria-label={trans.__('Retry %1', env.name)}
            onClick={() =>
              void run(async () =>
                model.track(await model.client.retry(env.id))
              )
            }
          >
            {trans.__('Retry')}
          </button>
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-warn"
            disabled={busy}
            aria-label={trans.__('Remove %1', env.name)}
            onClick={() =>
              void run(() => confirmDelete({ model, envId: env.id, trans }))
            }
          >
            {trans.__('Remove')}
          </button>
        </div>
      )}
    </li>
  );
}

/**
 * The body of the "Add an existing environment" dialog.
 */
class AdoptBody extends ReactWidget {
  constructor(private _trans: TranslationBundle) {
    super();
    this.addClass('jp-EnvMod-adopt');
  }

  getValue(): { path: string; kernel: boolean; module: boolean } {
    const input = (name: string): HTMLInputElement =>
      this.node.querySelector(`[name="${name}"]`) as HTMLInputElement;
    return {
      path: input('path').value.trim(),
      kernel: input('kernel').checked,
      module: input('module').checked
    };
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    return (
      <div className="jp-EnvMod-form">
        <p>
          {trans.__(
            'For an environment made with conda, python -m venv or by a colleague: give it a Jupyter kernel and module files of your own. An environment you cannot write is never changed.'
          )}
        </p>
        <label className="jp-EnvMod-field">
          <span>{trans.__('Environment path')}</span>
          <input
            name="path"
            className="jp-mod-styled"
            required
            placeholder="/project/lab/envs/analysis"
          />
        </label>
        <label className="jp-EnvMod-check">
          <input name="kernel" type="checkbox" defaultChecked />
          {trans.__('Create Jupyter kernel')}
        </label>
        <label className="jp-EnvMod-check">
          <input name="module" type="checkbox" />
          {trans.__('Create module files')}
        </label>
      </div>
    );
  }
}

/**
 * Ask for an existing environment's path and adopt it.
 */
async function showAdoptDialog(
  model: EnvironmentsModel,
  trans: TranslationBundle
): Promise<ITask | null> {
  const result = await showDialog({
    title: trans.__('Add an existing environment'),
    body: new AdoptBody(trans),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Add') })
    ],
    focusNodeSelector: 'input[name="path"]'
  });
  if (!result.button.accept || !result.value || !result.value.path) {
    return null;
  }
  const task = await model.client.adopt({
    path: result.value.path,
    kernel: { create: result.value.kernel },
    module: { create: result.value.module }
  });
  model.track(task);
  return task;
}

/**
 * The kernels and module files this extension wrote, with those whose
 * environment is gone flagged: read when the section is opened.
 */
function OutputsSection(props: {
  model: EnvironmentsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const [open, setOpen] = React.useState(false);
  const [kernels, setKernels] = React.useState<IKernelSpec[] | null>(null);
  const [modules, setModules] = React.useState<IModuleFile[] | null>(null);
  const [error, setError] = React.useState('');

  const load = React.useCallback(async (): Promise<void> => {
    setError('');
    try {
      const [k, m] = await Promise.all([
        model.client.kernels(),
        model.client.moduleFiles()
      ]);
      setKernels(k);
      setModules(m);
    } catch (reason) {
      setError(errorMessage(reason));
    }
  }, [model]);

  React.useEffect(() => {
    if (open) {
      void load();
    }
  }, [open, model.environments, load]);

  const orphanNote = (orphan: string | null): JSX.Element | null =>
    orphan ? (
      <span className="jp-EnvMod-badge jp-EnvMod-badge-broken">
        {trans.__('orphan: %1', orphan)}
      </span>
    ) : null;

  return (
    <details
      className="jp-EnvMod-outputs"
      onToggle={event => setOpen((event.target as HTMLDetailsElement).open)}
    >
      <summary>{trans.__('Kernels and module files')}</summary>
      {error && (
        <p className="jp-EnvMod-errorMessage" role="alert">
          {error}
        </p>
      )}
      {kernels && (
        <>
          <h4 className="jp-EnvMod-subTitle">{trans.__('Kernels')}</h4>
          {kernels.length === 0 && (
            <p className="jp-EnvMod-status">{trans.__('None.')}</p>
          )}
          <ul className="jp-EnvMod-outputList">
            {kernels.map(kernel => (
              <li key={kernel.dir} data-kernel={kernel.name}>
                <span>{kernel.display_name}</span> <code>{kernel.dir}</code>{' '}
                {orphanNote(kernel.orphan)}
              </li>
            ))}
          </ul>
        </>
      )}
      {modules && (
        <>
          <h4 className="jp-EnvMod-subTitle">{trans.__('Module files')}</h4>
          {modules.length === 0 && (
            <p className="jp-EnvMod-status">{trans.__('None.')}</p>
          )}
          <ul className="jp-EnvMod-outputList">
            {modules.map(file => (
              <li key={file.path} data-module-format={file.format}>
                <span>{file.module}</span> <code>{file.path}</code>{' '}
                {orphanNote(file.orphan)}
              </li>
            ))}
          </ul>
        </>
      )}
    </details>
  );
}
