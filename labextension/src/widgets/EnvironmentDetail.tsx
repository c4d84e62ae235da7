import { Clipboard, InputDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  caretLeftIcon,
  checkIcon,
  copyIcon,
  deleteIcon,
  downloadIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { EnvModAPIError } from '../api';
import { splitList } from '../validate';
import { EnvironmentsModel } from '../environments';
import {
  ENV_NAME_PATTERN,
  EnvironmentState,
  ExportFormat,
  IEnvironment,
  IEnvironmentDetails,
  IOutdated,
  IPackage,
  IPackageChange,
  IPackagesRequest,
  IRevision,
  IRevisionDetails,
  IShare,
  isFinished,
  ITask
} from '../tokens';
import {
  confirmDelete,
  errorMessage,
  previewAndApply,
  sourceText
} from './dialogs';

/**
 * The tabs of the detail view, in order.
 */
const TABS = ['overview', 'packages', 'history', 'share'] as const;

/**
 * The pattern of an environment name for an HTML input (the `v` flag of
 * browsers wants the dash escaped); `ENV_NAME_PATTERN` is checked as well.
 */
const NAME_INPUT_PATTERN = '[A-Za-z0-9_][A-Za-z0-9._\\-]{0,63}';

/**
 * One environment in detail: header, then the tabs Overview, Packages,
 * History and Share.
 *
 * Actions that start server tasks hand them to `model.track`; the panel shows
 * their progress. What is shown is read again when a task of this environment
 * ends, when its state changes in the model, and on "Refresh".
 */
export function EnvironmentDetail(
  props: EnvironmentDetail.IProps
): JSX.Element {
  const { model, envId, trans, onClose, openNotebook } = props;
  const baseId = React.useId();

  // Re-render on every model change; read again on the events that matter.
  const [, setTick] = React.useState(0);
  const [detailsVersion, setDetailsVersion] = React.useState(0);
  const [dataVersion, setDataVersion] = React.useState(0);
  React.useEffect(() => {
    let lastState: EnvironmentState | undefined =
      model.environment(envId)?.state;
    const onChanged = (): void => {
      setTick(tick => tick + 1);
      const state = model.environment(envId)?.state;
      if (state !== lastState) {
        lastState = state;
        setDetailsVersion(version => version + 1);
      }
    };
    const onFinished = (_: EnvironmentsModel, task: ITask): void => {
      if (task.environment.id === envId) {
        setDetailsVersion(version => version + 1);
        setDataVersion(version => version + 1);
      }
    };
    model.changed.connect(onChanged);
    model.taskFinished.connect(onFinished);
    return () => {
      model.changed.disconnect(onChanged);
      model.taskFinished.disconnect(onFinished);
    };
  }, [model, envId]);

  const details = useLoad(
    () => model.client.environment(envId),
    [model, envId, detailsVersion]
  );

  const listed = model.environment(envId);
  const env: IEnvironment | undefined = details.data ?? listed;
  const running = model.tasksOf(envId).some(task => !isFinished(task.state));
  const busy =
    running || listed?.state === 'busy' || details.data?.state === 'busy';
  const state: EnvironmentState | undefined = busy
    ? 'busy'
    : (listed?.state ?? details.data?.state);

  const refresh = (): void => {
    setDetailsVersion(version => version + 1);
    setDataVersion(version => version + 1);
    void model.refresh();
  };

  const [tab, setTab] = React.useState<EnvironmentDetail.Tab>('overview');
  const [visited, setVisited] = React.useState<Set<EnvironmentDetail.Tab>>(
    () => new Set(['overview'])
  );
  const tabRefs = React.useRef<{ [tab: string]: HTMLButtonElement | null }>({});
  const select = (next: EnvironmentDetail.Tab, focus = false): void => {
    setTab(next);
    setVisited(old => (old.has(next) ? old : new Set(old).add(next)));
    if (focus) {
      tabRefs.current[next]?.focus();
    }
  };
  const onTabKey = (event: React.KeyboardEvent): void => {
    const index = TABS.indexOf(tab);
    let next: number;
    switch (event.key) {
      case 'ArrowRight':
      case 'ArrowDown':
        next = (index + 1) % TABS.length;
        break;
      case 'ArrowLeft':
      case 'ArrowUp':
        next = (index + TABS.length - 1) % TABS.length;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = TABS.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    select(TABS[next], true);
  };
  const tabLabels: { [name in EnvironmentDetail.Tab]: string } = {
    overview: trans.__('Overview'),
    packages: trans.__('Packages'),
    history: trans.__('History'),
    share: trans.__('Share')
  };

  const name = env?.name ?? envId;
  const gone =
    details.error instanceof EnvModAPIError && details.error.status === 404;

  const renderPanel = (which: EnvironmentDetail.Tab): React.ReactNode => {
    switch (which) {
      case 'overview':
        return details.data ? (
          <OverviewTab
            model={model}
            env={details.data}
            busy={busy}
            trans={trans}
            onClose={onClose}
            openNotebook={openNotebook}
          />
        ) : (
          <Loading error={details.error} trans={trans} />
        );
      case 'packages':
        return env ? (
          <PackagesTab
            model={model}
            env={env}
            busy={busy}
            version={dataVersion}
            trans={trans}
          />
        ) : (
          <Loading error={details.error} trans={trans} />
        );
      case 'history':
        return (
          <HistoryTab
            model={model}
            envId={envId}
            busy={busy}
            version={dataVersion}
            trans={trans}
          />
        );
      case 'share':
        return (
          <ShareTab
            model={model}
            envId={envId}
            version={dataVersion}
            trans={trans}
          />
        );
    }
  };

  return (
    <div
      className="jp-EnvMod-detail"
      data-env-id={envId}
      data-state={state ?? 'unknown'}
      aria-busy={details.loading ? 'true' : 'false'}
    >
      <div className="jp-EnvMod-detailHeader">
        <button
          type="button"
          className="jp-Button jp-mod-minimal jp-mod-small jp-EnvMod-detailBack"
          aria-label={trans.__('Back to environments')}
          title={trans.__('Back to environments')}
          onClick={onClose}
        >
          <caretLeftIcon.react tag="span" className="jp-EnvMod-buttonIcon" />
          <span>{trans.__('Back')}</span>
        </button>
        <h3 className="jp-EnvMod-detailName" title={name}>
          {name}
        </h3>
        <button
          type="button"
          className="jp-Button jp-mod-minimal jp-mod-small jp-EnvMod-detailRefresh"
          aria-label={trans.__('Refresh')}
          title={trans.__('Refresh')}
          onClick={refresh}
        >
          <refreshIcon.react tag="span" className="jp-EnvMod-buttonIcon" />
        </button>
      </div>
      {env && (
        <dl className="jp-EnvMod-detailFacts">
          <dt>{trans.__('Engine')}</dt>
          <dd data-fact="engine">{env.engine}</dd>
          <dt>{trans.__('Python')}</dt>
          <dd data-fact="python">
            {env.python_version ?? (
              <span className="jp-EnvMod-detailMuted">
                {trans.__('unknown')}
              </span>
            )}
          </dd>
          <dt>{trans.__('State')}</dt>
          <dd data-fact="state">
            <span
              className={`jp-EnvMod-stateBadge jp-EnvMod-stateBadge-${state}`}
            >
              {stateText(state, trans)}
            </span>
          </dd>
          <dt>{trans.__('Path')}</dt>
          <dd data-fact="path">
            <code className="jp-EnvMod-path">{env.path}</code>
          </dd>
        </dl>
      )}
      {busy && (
        <p className="jp-EnvMod-detailNotice" role="status">
          {trans.__(
            'An operation is running on this environment: the actions that change it are disabled until it ends.'
          )}
        </p>
      )}
      {!busy && state === 'interrupted' && (
        <p className="jp-EnvMod-detailNotice jp-EnvMod-detailNotice-warning">
          {trans.__(
            'The server stopped during an operation on this environment: retry it from the list or delete the environment.'
          )}
        </p>
      )}
      {!busy && state === 'broken' && (
        <p className="jp-EnvMod-detailNotice jp-EnvMod-detailNotice-warning">
          {trans.__(
            'The files of this environment are damaged (e.g. its Python is missing).'
          )}
        </p>
      )}
      {gone ? (
        <InlineError message={trans.__('This environment no longer exists.')} />
      ) : details.error && details.data ? (
        <InlineError
          message={trans.__(
            'Could not read the environment again: %1',
            errorMessage(details.error)
          )}
        />
      ) : null}
      <div
        role="tablist"
        aria-label={trans.__('Environment %1', name)}
        className="jp-EnvMod-tabs"
        onKeyDown={onTabKey}
      >
        {TABS.map(which => (
          <button
            key={which}
            type="button"
            role="tab"
            id={`${baseId}-tab-${which}`}
            className="jp-EnvMod-tab"
            data-tab={which}
            aria-selected={tab === which ? 'true' : 'false'}
            aria-controls={`${baseId}-panel-${which}`}
            tabIndex={tab === which ? 0 : -1}
            ref={node => {
              tabRefs.current[which] = node;
            }}
            onClick={() => select(which)}
          >
            {tabLabels[which]}
          </button>
        ))}
      </div>
      {TABS.filter(which => visited.has(which)).map(which => (
        <div
          key={which}
          role="tabpanel"
          id={`${baseId}-panel-${which}`}
          className="jp-EnvMod-tabPanel"
          data-tab={which}
          aria-labelledby={`${baseId}-tab-${which}`}
          hidden={tab !== which}
          tabIndex={0}
        >
          {renderPanel(which)}
        </div>
      ))}
    </div>
  );
}

/**
 * The namespace for `EnvironmentDetail` statics.
 */
export namespace EnvironmentDetail {
  /**
   * The properties of the detail view.
   */
  export interface IProps {
    model: EnvironmentsModel;
    envId: string;
    trans: TranslationBundle;
    /**
     * Go back to the list.
     */
    onClose: () => void;
    /**
     * Open a new notebook with a kernel; no button when not given.
     */
    openNotebook?: (kernelName: string) => void;
  }

  /**
   * The tabs of the view.
   */
  export type Tab = (typeof TABS)[number];
}

/**
 * The words for an environment state.
 */
function stateText(
  state: EnvironmentState | undefined,
  trans: TranslationBundle
): string {
  switch (state) {
    case 'ready':
      return trans.__('ready');
    case 'busy':
      return trans.__('busy');
    case 'interrupted':
      return trans.__('interrupted');
    case 'broken':
      return trans.__('broken');
    default:
      return trans.__('unknown');
  }
}

/**
 * The result of `useLoad`.
 */
interface ILoaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
}

/**
 * Read something when one of `deps` changes; the previous data stays shown
 * while reading again.
 */
function useLoad<T>(
  load: () => Promise<T>,
  deps: React.DependencyList
): ILoaded<T> {
  const [state, setState] = React.useState<ILoaded<T>>({
    data: null,
    error: null,
    loading: true
  });
  React.useEffect(() => {
    let live = true;
    setState(old => ({ ...old, loading: true }));
    load().then(
      data => {
        if (live) {
          setState({ data, error: null, loading: false });
        }
      },
      error => {
        if (live) {
          setState(old => ({ data: old.data, error, loading: false }));
        }
      }
    );
    return () => {
      live = false;
    };
  }, deps);
  return state;
}

/**
 * "Loading…", or the error of the load.
 */
function Loading(props: {
  error: unknown;
  trans: TranslationBundle;
}): JSX.Element {
  return props.error ? (
    <InlineError message={errorMessage(props.error)} />
  ) : (
    <p className="jp-EnvMod-detailMuted">{props.trans.__('Loading…')}</p>
  );
}

/**
 * An error shown where the user acted.
 */
function InlineError(props: { message: string | null }): JSX.Element | null {
  if (!props.message) {
    return null;
  }
  return (
    <div className="jp-EnvMod-inlineError" role="alert">
      {props.message}
    </div>
  );
}

/**
 * The message of an API error for the place where the user acted.
 */
function actionError(reason: unknown, trans: TranslationBundle): string {
  if (reason instanceof EnvModAPIError) {
    switch (reason.status) {
      case 422:
        return trans.__(
          'No set of packages satisfies this request: %1',
          reason.message
        );
      case 409:
        return trans.__(
          'Another operation is changing this environment: %1',
          reason.message
        );
      default:
        return reason.message;
    }
  }
  return errorMessage(reason);
}

/**
 * A section of a tab, with its title.
 */
function Section(props: {
  title: string;
  name: string;
  children: React.ReactNode;
  busy?: boolean;
}): JSX.Element {
  const id = React.useId();
  return (
    <section
      className="jp-EnvMod-detailSection"
      data-section={props.name}
      aria-labelledby={id}
      aria-busy={props.busy ? 'true' : undefined}
    >
      <h4 id={id} className="jp-EnvMod-detailSectionTitle">
        {props.title}
      </h4>
      {props.children}
    </section>
  );
}

/**
 * A text button; `kind` picks its colour.
 */
function ActionButton(props: {
  label: string;
  ariaLabel?: string;
  kind?: 'accept' | 'reject' | 'warn';
  disabled?: boolean;
  onClick: () => void;
}): JSX.Element {
  return (
    <button
      type="button"
      className={`jp-Button jp-mod-styled jp-mod-${props.kind ?? 'reject'} jp-EnvMod-action`}
      aria-label={props.ariaLabel}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      {props.label}
    </button>
  );
}

/**
 * A small button that copies a text to the system clipboard.
 */
function CopyButton(props: {
  text: string;
  label: string;
  trans: TranslationBundle;
}): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  const timer = React.useRef<number | null>(null);
  React.useEffect(
    () => () => {
      if (timer.current !== null) {
        window.clearTimeout(timer.current);
      }
    },
    []
  );
  return (
    <button
      type="button"
      className="jp-Button jp-mod-minimal jp-mod-small jp-EnvMod-copyButton"
      aria-label={props.label}
      title={copied ? props.trans.__('Copied') : props.label}
      data-copied={copied ? 'true' : 'false'}
      onClick={() => {
        Clipboard.copyToSystem(props.text);
        setCopied(true);
        if (timer.current !== null) {
          window.clearTimeout(timer.current);
        }
        timer.current = window.setTimeout(() => {
          timer.current = null;
          setCopied(false);
        }, 1500);
      }}
    >
      {copied ? (
        <checkIcon.react tag="span" className="jp-EnvMod-buttonIcon" />
      ) : (
        <copyIcon.react tag="span" className="jp-EnvMod-buttonIcon" />
      )}
    </button>
  );
}

/**
 * Terminal lines: comments (starting with "#") as notes, commands each with
 * a copy button.
 */
function CommandLines(props: {
  lines: ReadonlyArray<string>;
  trans: TranslationBundle;
  name: string;
}): JSX.Element {
  const { lines, trans, name } = props;
  return (
    <ul className="jp-EnvMod-commands" data-commands={name}>
      {lines.map((line, index) => {
        const text = line.trim();
        if (!text) {
          return null;
        }
        if (text.startsWith('#')) {
          return (
            <li key={index} className="jp-EnvMod-commandNote">
              {text.replace(/^#+\s?/, '')}
            </li>
          );
        }
        return (
          <li key={index} className="jp-EnvMod-command">
            <code className="jp-EnvMod-commandText">{line}</code>
            <CopyButton
              text={line}
              label={trans.__('Copy: %1', line)}
              trans={trans}
            />
          </li>
        );
      })}
    </ul>
  );
}

/**
 * Save a text as a file through the browser (works whatever the auth, as the
 * text was read with the server's credentials already).
 */
export function saveText(filename: string, text: string): void {
  const blob = new Blob([text], { type: 'text/plain;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.style.display = 'none';
  document.body.appendChild(link);
  try {
    link.click();
  } finally {
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

/**
 * Run an action that starts a task (and tracks it); its error goes to
 * `setError`.
 */
async function startTask(
  action: () => Promise<ITask | null>,
  setError: (message: string | null) => void,
  trans: TranslationBundle
): Promise<ITask | null> {
  setError(null);
  try {
    const task = await action();
    return task;
  } catch (reason) {
    setError(actionError(reason, trans));
    return null;
  }
}

/**
 * The "Overview" tab.
 */
function OverviewTab(props: {
  model: EnvironmentsModel;
  env: IEnvironmentDetails;
  busy: boolean;
  trans: TranslationBundle;
  onClose: () => void;
  openNotebook?: (kernelName: string) => void;
}): JSX.Element {
  const { model, env, busy, trans, onClose, openNotebook } = props;
  const client = model.client;
  const [pending, setPending] = React.useState<string | null>(null);
  const [errors, setErrors] = React.useState<{ [section: string]: string }>({});
  const errorSetter =
    (section: string) =>
    (message: string | null): void =>
      setErrors(old => {
        const copy = { ...old };
        if (message) {
          copy[section] = message;
        } else {
          delete copy[section];
        }
        return copy;
      });

  const run = async (
    key: string,
    section: string,
    action: () => Promise<ITask | null>
  ): Promise<ITask | null> => {
    setPending(key);
    try {
      return await startTask(action, errorSetter(section), trans);
    } finally {
      setPending(null);
    }
  };
  const track = (call: () => Promise<ITask>) => async (): Promise<ITask> => {
    const task = await call();
    model.track(task);
    return task;
  };
  const locked = busy || pending !== null;

  const kernels = env.kernels ?? [];
  const moduleFiles = env.module_files ?? [];
  const usable = kernels.find(kernel => !kernel.orphan) ?? kernels[0];

  const download = async (format: ExportFormat): Promise<void> => {
    const setError = errorSetter('export');
    setError(null);
    setPending(`export:${format}`);
    try {
      const { filename, text } = await client.exportText(env.id, format);
      saveText(filename, text);
    } catch (reason) {
      setError(actionError(reason, trans));
    } finally {
      setPending(null);
    }
  };

  const clone = async (): Promise<void> => {
    const setError = errorSetter('clone');
    setError(null);
    const result = await InputDialog.getText({
      title: trans.__('Clone %1', env.name),
      label: trans.__('Name of the new environment'),
      text: `${env.name}-copy`.slice(0, 64),
      pattern: NAME_INPUT_PATTERN,
      required: true,
      okLabel: trans.__('Clone'),
      cancelLabel: trans.__('Cancel')
    });
    if (!result.button.accept || result.value === null) {
      return;
    }
    const name = result.value.trim();
    if (!ENV_NAME_PATTERN.test(name)) {
      setError(
        trans.__(
          '"%1" is not a valid name: use up to 64 letters, digits, ".", "_" and "-", not starting with "." or "-".',
          name
        )
      );
      return;
    }
    await run(
      'clone',
      'clone',
      track(() => client.clone(env.id, { name }))
    );
  };

  const remove = async (): Promise<void> => {
    setPending('delete');
    try {
      const task = await confirmDelete({ model, envId: env.id, trans });
      if (task) {
        onClose();
      }
    } finally {
      setPending(null);
    }
  };

  return (
    <div className="jp-EnvMod-overview">
      <Section title={trans.__('Requested')} name="requested">
        <RequestedList
          title={trans.__('conda')}
          items={env.requested?.conda ?? []}
          trans={trans}
          name="conda"
        />
        <RequestedList
          title={trans.__('pip')}
          items={env.requested?.pip ?? []}
          trans={trans}
          name="pip"
        />
        <RequestedList
          title={trans.__('Channels')}
          items={env.channels ?? []}
          trans={trans}
          name="channels"
        />
      </Section>

      <Section title={trans.__('Kernel')} name="kernel">
        {kernels.length > 0 ? (
          <ul className="jp-EnvMod-detailList">
            {kernels.map(kernel => (
              <li
                key={kernel.dir}
                className="jp-EnvMod-kernel"
                data-kernel={kernel.name}
                data-orphan={kernel.orphan ? 'true' : 'false'}
              >
                <span className="jp-EnvMod-kernelName">
                  {kernel.display_name}
                </span>
                {kernel.orphan && (
                  <span className="jp-EnvMod-orphan">
                    {trans.__('cannot start: %1', kernel.orphan)}
                  </span>
                )}
                <code className="jp-EnvMod-path">{kernel.dir}</code>
              </li>
            ))}
          </ul>
        ) : (
          <p className="jp-EnvMod-detailMuted">
            {trans.__('No Jupyter kernel uses this environment.')}
          </p>
        )}
        <div className="jp-EnvMod-actions">
          <ActionButton
            kind="accept"
            label={
              kernels.length > 0
                ? trans.__('Repair kernel')
                : trans.__('Create kernel')
            }
            disabled={locked}
            onClick={() =>
              void run(
                'kernel',
                'kernel',
                track(() => client.writeKernel(env.id))
              )
            }
          />
          {kernels.length > 0 && (
            <ActionButton
              label={trans.__('Remove kernel')}
              disabled={locked}
              onClick={() =>
                void run(
                  'remove-kernel',
                  'kernel',
                  track(() => client.removeKernel(env.id))
                )
              }
            />
          )}
          {usable && openNotebook && (
            <ActionButton
              label={trans.__('Open notebook with this kernel')}
              disabled={!!usable.orphan}
              onClick={() => openNotebook(usable.name)}
            />
          )}
        </div>
        <InlineError message={errors.kernel ?? null} />
      </Section>

      <Section title={trans.__('Module files')} name="module">
        {env.module && (
          <p className="jp-EnvMod-moduleName">
            {trans.__('Module:')} <code>{env.module}</code>
          </p>
        )}
        {moduleFiles.length > 0 ? (
          <ul className="jp-EnvMod-detailList">
            {moduleFiles.map(file => (
              <li
                key={file.path}
                className="jp-EnvMod-moduleFile"
                data-format={file.format}
                data-orphan={file.orphan ? 'true' : 'false'}
              >
                <span className="jp-EnvMod-moduleFormat">{file.format}</span>
                <code className="jp-EnvMod-path">{file.path}</code>
                {file.orphan && (
                  <span className="jp-EnvMod-orphan">
                    {trans.__('orphan: %1', file.orphan)}
                  </span>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <p className="jp-EnvMod-detailMuted">
            {trans.__('No module file loads this environment.')}
          </p>
        )}
        <div className="jp-EnvMod-actions">
          <ActionButton
            kind="accept"
            label={
              moduleFiles.length > 0
                ? trans.__('Regenerate module files')
                : trans.__('Create module files')
            }
            disabled={locked}
            onClick={() =>
              void run(
                'module',
                'module',
                track(() => client.writeModule(env.id))
              )
            }
          />
          {moduleFiles.length > 0 && (
            <ActionButton
              label={trans.__('Remove module files')}
              disabled={locked}
              onClick={() =>
                void run(
                  'remove-module',
                  'module',
                  track(() => client.removeModule(env.id))
                )
              }
            />
          )}
        </div>
        <InlineError message={errors.module ?? null} />
      </Section>

      <Section title={trans.__('How to use in a terminal')} name="usage">
        {(env.usage ?? []).length > 0 ? (
          <CommandLines lines={env.usage} trans={trans} name="usage" />
        ) : (
          <p className="jp-EnvMod-detailMuted">
            {trans.__('No usage lines for this environment.')}
          </p>
        )}
      </Section>

      <Section
        title={trans.__('Export')}
        name="export"
        busy={pending?.startsWith('export:')}
      >
        <div className="jp-EnvMod-actions jp-EnvMod-actions-column">
          <ActionButton
            label={trans.__('Download environment.yml')}
            disabled={pending !== null}
            onClick={() => void download('yml')}
          />
          <ActionButton
            label={trans.__('Download history-only environment.yml')}
            disabled={pending !== null}
            onClick={() => void download('history')}
          />
          <ActionButton
            label={trans.__('Download requirements.txt')}
            disabled={pending !== null}
            onClick={() => void download('requirements')}
          />
          {env.type === 'conda' && (
            <ActionButton
              label={trans.__('Download explicit list')}
              disabled={pending !== null}
              onClick={() => void download('explicit')}
            />
          )}
        </div>
        <InlineError message={errors.export ?? null} />
      </Section>

      <Section title={trans.__('Clone')} name="clone">
        <p className="jp-EnvMod-detailHint">
          {trans.__('A new environment with the same packages.')}
        </p>
        <div className="jp-EnvMod-actions">
          <ActionButton
            label={trans.__('Clone…')}
            disabled={locked}
            onClick={() => void clone()}
          />
        </div>
        <InlineError message={errors.clone ?? null} />
      </Section>

      <Section title={trans.__('Delete')} name="delete">
        <p className="jp-EnvMod-detailHint">
          {trans.__(
            'Removes the environment with its kernels and module files.'
          )}
        </p>
        <div className="jp-EnvMod-actions">
          <ActionButton
            kind="warn"
            label={trans.__('Delete environment…')}
            disabled={locked}
            onClick={() => void remove()}
          />
        </div>
      </Section>
    </div>
  );
}

/**
 * One list of what was requested, or "none".
 */
function RequestedList(props: {
  title: string;
  items: ReadonlyArray<string>;
  trans: TranslationBundle;
  name: string;
}): JSX.Element {
  const { title, items, trans, name } = props;
  return (
    <div className="jp-EnvMod-requested" data-requested={name}>
      <span className="jp-EnvMod-requestedTitle">{title}</span>
      {items.length > 0 ? (
        <ul className="jp-EnvMod-chips">
          {items.map(item => (
            <li key={item}>
              <code>{item}</code>
            </li>
          ))}
        </ul>
      ) : (
        <span className="jp-EnvMod-detailMuted">{trans.__('none')}</span>
      )}
    </div>
  );
}

/**
 * The "Packages" tab.
 */
function PackagesTab(props: {
  model: EnvironmentsModel;
  env: IEnvironment;
  busy: boolean;
  version: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, env, busy, version, trans } = props;
  const client = model.client;
  const packages = useLoad(() => client.packages(env.id), [env.id, version]);
  const isVenv = env.type === 'venv';

  const [filter, setFilter] = React.useState('');
  const [installText, setInstallText] = React.useState('');
  const [manager, setManager] = React.useState<'conda' | 'pip'>(
    isVenv ? 'pip' : 'conda'
  );
  const [pending, setPending] = React.useState<string | null>(null);
  const [installError, setInstallError] = React.useState<string | null>(null);
  const [tableError, setTableError] = React.useState<string | null>(null);
  const [outdated, setOutdated] = React.useState<IOutdated | null>(null);
  const [outdatedError, setOutdatedError] = React.useState<string | null>(null);

  // What update-all would do is stale once the packages change.
  React.useEffect(() => {
    setOutdated(null);
  }, [env.id, version]);
  React.useEffect(() => {
    if (isVenv) {
      setManager('pip');
    }
  }, [isVenv]);

  const change = async (
    key: string,
    title: string,
    request: IPackagesRequest,
    setError: (message: string | null) => void
  ): Promise<ITask | null> => {
    setPending(key);
    try {
      return await startTask(
        () =>
          previewAndApply({
            trans,
            title,
            model,
            dryRun: () =>
              client.changePackages(env.id, { ...request, dry_run: true }),
            apply: () => client.changePackages(env.id, request)
          }),
        setError,
        trans
      );
    } finally {
      setPending(null);
    }
  };
  const managerOf = (pkg: IPackage): 'conda' | 'pip' =>
    isVenv || pkg.source === 'pypi' ? 'pip' : 'conda';

  const install = async (): Promise<void> => {
    const specs = splitList(installText);
    if (specs.length === 0) {
      setInstallError(trans.__('Type the packages to install.'));
      return;
    }
    const task = await change(
      'install',
      trans.__('Install into %1', env.name),
      { install: specs, manager: isVenv ? 'pip' : manager },
      setInstallError
    );
    if (task) {
      setInstallText('');
    }
  };

  const checkUpdates = async (): Promise<void> => {
    setPending('outdated');
    setOutdatedError(null);
    try {
      setOutdated(await client.outdated(env.id));
    } catch (reason) {
      setOutdatedError(actionError(reason, trans));
    } finally {
      setPending(null);
    }
  };

  const all = [...(packages.data ?? [])].sort((a, b) =>
    a.name.localeCompare(b.name)
  );
  const needle = filter.trim().toLowerCase();
  const shown = needle
    ? all.filter(pkg => pkg.name.toLowerCase().includes(needle))
    : all;
  const locked = busy || pending !== null;
  const filterId = React.useId();
  const installId = React.useId();
  const managerId = React.useId();

  return (
    <div className="jp-EnvMod-packages">
      <Section title={trans.__('Install packages')} name="install">
        <form
          className="jp-EnvMod-installForm"
          onSubmit={event => {
            event.preventDefault();
            if (!locked) {
              void install();
            }
          }}
        >
          <label htmlFor={installId} className="jp-EnvMod-fieldLabel">
            {trans.__('Packages to install')}
          </label>
          <input
            id={installId}
            type="text"
            className="jp-mod-styled jp-EnvMod-input"
            value={installText}
            placeholder={trans.__('e.g. numpy scipy>=1.11')}
            aria-describedby={`${installId}-hint`}
            autoComplete="off"
            spellCheck={false}
            onChange={event => setInstallText(event.target.value)}
          />
          <span id={`${installId}-hint`} className="jp-EnvMod-detailHint">
            {trans.__('Separate packages with spaces or commas.')}
          </span>
          <label htmlFor={managerId} className="jp-EnvMod-fieldLabel">
            {trans.__('Package manager')}
          </label>
          <select
            id={managerId}
            className="jp-mod-styled jp-EnvMod-select"
            value={isVenv ? 'pip' : manager}
            onChange={event =>
              setManager(event.target.value === 'pip' ? 'pip' : 'conda')
            }
          >
            {!isVenv && <option value="conda">{trans.__('conda')}</option>}
            <option value="pip">{trans.__('pip')}</option>
          </select>
          <div className="jp-EnvMod-actions">
            <button
              type="submit"
              className="jp-Button jp-mod-styled jp-mod-accept jp-EnvMod-action"
              disabled={locked || splitList(installText).length === 0}
            >
              {pending === 'install'
                ? trans.__('Preparing preview…')
                : trans.__('Preview install')}
            </button>
          </div>
          <InlineError message={installError} />
        </form>
      </Section>

      <Section
        title={trans.__('Updates')}
        name="updates"
        busy={pending === 'outdated'}
      >
        <div className="jp-EnvMod-actions">
          <ActionButton
            label={
              pending === 'outdated'
                ? trans.__('Checking for updates…')
                : trans.__('Check for updates')
            }
            ariaLabel={trans.__('Check for updates')}
            disabled={pending !== null}
            onClick={() => void checkUpdates()}
          />
        </div>
        {pending === 'outdated' && (
          <p className="jp-EnvMod-detailMuted" role="status">
            {trans.__(
              'Asking the channels and the package index for newer versions; this takes a few seconds…'
            )}
          </p>
        )}
        <InlineError message={outdatedError} />
        {outdated && (
          <OutdatedList
            outdated={outdated}
            trans={trans}
            disabled={locked}
            onUpdateAll={() =>
              void change(
                'update-all',
                trans.__('Update all packages of %1', env.name),
                { update_all: true },
                setOutdatedError
              )
            }
          />
        )}
      </Section>

      <Section
        title={trans.__('Installed packages')}
        name="installed"
        busy={packages.loading}
      >
        <div className="jp-EnvMod-filter">
          <label htmlFor={filterId} className="jp-sr-only">
            {trans.__('Filter packages')}
          </label>
          <input
            id={filterId}
            type="search"
            className="jp-mod-styled jp-EnvMod-input"
            value={filter}
            placeholder={trans.__('Filter packages')}
            onChange={event => setFilter(event.target.value)}
          />
          {packages.data && (
            <span className="jp-EnvMod-detailMuted" aria-live="polite">
              {needle
                ? trans.__('%1 of %2 packages', shown.length, all.length)
                : trans.__('%1 packages', all.length)}
            </span>
          )}
        </div>
        {pending !== null && /^(update|remove):/.test(pending) && (
          <p className="jp-EnvMod-detailMuted" role="status">
            {trans.__(
              'Preparing the preview for %1…',
              pending.replace(/^[a-z]+:/, '')
            )}
          </p>
        )}
        <InlineError message={tableError} />
        {packages.error ? (
          <InlineError message={errorMessage(packages.error)} />
        ) : null}
        {packages.data === null ? (
          !packages.error && (
            <p className="jp-EnvMod-detailMuted">
              {trans.__('Loading packages…')}
            </p>
          )
        ) : (
          <table
            className="jp-EnvMod-packagesTable"
            aria-label={trans.__('Installed packages')}
          >
            <thead>
              <tr>
                <th scope="col" className="jp-EnvMod-colName">
                  {trans.__('Name')}
                </th>
                <th scope="col" className="jp-EnvMod-colVersion">
                  {trans.__('Version')}
                </th>
                <th scope="col" className="jp-EnvMod-colSource">
                  {trans.__('Source')}
                </th>
                <th scope="col" className="jp-EnvMod-colActions">
                  <span className="jp-sr-only">{trans.__('Actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map(pkg => (
                <tr
                  key={`${pkg.source}:${pkg.name}`}
                  data-package={pkg.name}
                  data-source={pkg.source}
                >
                  <td className="jp-EnvMod-colName" title={pkg.name}>
                    <span className="jp-EnvMod-pkgName">{pkg.name}</span>
                    {pkg.requested && (
                      <span
                        className="jp-EnvMod-requestedBadge"
                        title={trans.__('asked for, not only a dependency')}
                      >
                        {trans.__('requested')}
                      </span>
                    )}
                  </td>
                  <td
                    className="jp-EnvMod-colVersion"
                    title={
                      pkg.build ? `${pkg.version} (${pkg.build})` : pkg.version
                    }
                  >
                    {pkg.version}
                  </td>
                  <td className="jp-EnvMod-colSource">
                    {sourceText(pkg.source, trans)}
                  </td>
                  <td className="jp-EnvMod-colActions">
                    <button
                      type="button"
                      className="jp-Button jp-mod-minimal jp-mod-small jp-EnvMod-rowAction"
                      aria-label={trans.__('Update %1', pkg.name)}
                      title={trans.__('Update %1', pkg.name)}
                      disabled={locked}
                      onClick={() =>
                        void change(
                          `update:${pkg.name}`,
                          trans.__('Update %1', pkg.name),
                          { update: [pkg.name], manager: managerOf(pkg) },
                          setTableError
                        )
                      }
                    >
                      <refreshIcon.react
                        tag="span"
                        className="jp-EnvMod-buttonIcon"
                      />
                    </button>
                    <button
                      type="button"
                      className="jp-Button jp-mod-minimal jp-mod-small jp-EnvMod-rowAction"
                      aria-label={trans.__('Remove %1', pkg.name)}
                      title={trans.__('Remove %1', pkg.name)}
                      disabled={locked}
                      onClick={() =>
                        void change(
                          `remove:${pkg.name}`,
                          trans.__('Remove %1', pkg.name),
                          { remove: [pkg.name], manager: managerOf(pkg) },
                          setTableError
                        )
                      }
                    >
                      <deleteIcon.react
                        tag="span"
                        className="jp-EnvMod-buttonIcon"
                      />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {packages.data !== null && shown.length === 0 && (
          <p className="jp-EnvMod-detailMuted">
            {needle
              ? trans.__('No package matches "%1".', filter.trim())
              : trans.__('No package is installed.')}
          </p>
        )}
      </Section>
    </div>
  );
}

/**
 * The packages that have newer versions, and "Update all".
 */
function OutdatedList(props: {
  outdated: IOutdated;
  trans: TranslationBundle;
  disabled: boolean;
  onUpdateAll: () => void;
}): JSX.Element {
  const { outdated, trans, disabled, onUpdateAll } = props;
  const items = outdated.outdated ?? [];
  return (
    <div className="jp-EnvMod-outdated">
      {outdated.summary && (
        <p className="jp-EnvMod-detailHint">{outdated.summary}</p>
      )}
      {items.length === 0 ? (
        <p className="jp-EnvMod-detailMuted">
          {trans.__('Every package is up to date.')}
        </p>
      ) : (
        <ul className="jp-EnvMod-outdatedList">
          {items.map(item => (
            <li
              key={`${item.source}:${item.name}`}
              className="jp-EnvMod-outdatedItem"
              data-package={item.name}
              data-held={item.update === null ? 'true' : 'false'}
            >
              <span className="jp-EnvMod-pkgName">{item.name}</span>{' '}
              <span className="jp-EnvMod-outdatedVersions">
                {trans.__(
                  'installed %1, latest %2',
                  item.installed,
                  item.latest ?? trans.__('unknown')
                )}
              </span>{' '}
              <span className="jp-EnvMod-outdatedUpdate">
                {item.update === null
                  ? trans.__('held back')
                  : trans.__('update all installs %1', item.update)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <div className="jp-EnvMod-actions">
        <ActionButton
          kind="accept"
          label={trans.__('Update all')}
          disabled={disabled}
          onClick={onUpdateAll}
        />
      </div>
    </div>
  );
}

/**
 * The words for a revision's action.
 */
function actionText(action: string, trans: TranslationBundle): string {
  switch (action) {
    case 'create':
      return trans.__('created');
    case 'clone':
      return trans.__('cloned');
    case 'install':
      return trans.__('install');
    case 'update':
      return trans.__('update');
    case 'update-all':
      return trans.__('update all');
    case 'remove':
      return trans.__('remove');
    case 'restore':
      return trans.__('restore');
    case 'outside':
      return trans.__('changed outside');
    case 'baseline':
      return trans.__('baseline');
    default:
      return action;
  }
}

/**
 * A date from seconds since the epoch.
 */
function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds)) {
    return '';
  }
  return new Date(seconds * 1000).toLocaleString();
}

/**
 * The "History" tab.
 */
function HistoryTab(props: {
  model: EnvironmentsModel;
  envId: string;
  busy: boolean;
  version: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, envId, busy, version, trans } = props;
  const history = useLoad(() => model.client.history(envId), [envId, version]);
  const [pending, setPending] = React.useState<number | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  const revisions = [...(history.data ?? [])].sort((a, b) => b.rev - a.rev);
  const current = revisions.length > 0 ? revisions[0].rev : null;

  const restore = async (rev: number): Promise<void> => {
    setPending(rev);
    try {
      await startTask(
        () =>
          previewAndApply({
            trans,
            title: trans.__('Restore revision %1', rev),
            model,
            dryRun: () => model.client.restore(envId, rev, true),
            apply: () => model.client.restore(envId, rev)
          }),
        setError,
        trans
      );
    } finally {
      setPending(null);
    }
  };

  if (history.data === null) {
    return <Loading error={history.error} trans={trans} />;
  }
  return (
    <div className="jp-EnvMod-history" aria-busy={history.loading}>
      {pending !== null && (
        <p className="jp-EnvMod-detailMuted" role="status">
          {trans.__('Preparing the preview of revision %1…', pending)}
        </p>
      )}
      <InlineError message={error} />
      {history.error ? (
        <InlineError message={errorMessage(history.error)} />
      ) : null}
      {revisions.length === 0 ? (
        <p className="jp-EnvMod-detailMuted">
          {trans.__('No revision is recorded for this environment.')}
        </p>
      ) : (
        <ol className="jp-EnvMod-revisions" reversed>
          {revisions.map(revision => (
            <RevisionItem
              key={revision.rev}
              model={model}
              envId={envId}
              revision={revision}
              current={revision.rev === current}
              disabled={busy || pending !== null}
              trans={trans}
              onRestore={() => void restore(revision.rev)}
            />
          ))}
        </ol>
      )}
    </div>
  );
}

/**
 * One revision.
 */
function RevisionItem(props: {
  model: EnvironmentsModel;
  envId: string;
  revision: IRevision;
  current: boolean;
  disabled: boolean;
  trans: TranslationBundle;
  onRestore: () => void;
}): JSX.Element {
  const { model, envId, revision, current, disabled, trans, onRestore } = props;
  const added = revision.diff?.added ?? [];
  const removed = revision.diff?.removed ?? [];
  const changed = revision.diff?.changed ?? [];
  const counts: string[] = [];
  if (added.length) {
    counts.push(trans.__('%1 added', added.length));
  }
  if (removed.length) {
    counts.push(trans.__('%1 removed', removed.length));
  }
  if (changed.length) {
    counts.push(trans.__('%1 changed', changed.length));
  }
  return (
    <li
      className="jp-EnvMod-revision"
      data-rev={revision.rev}
      data-current={current ? 'true' : 'false'}
    >
      <div className="jp-EnvMod-revisionHeader">
        <span className="jp-EnvMod-revisionNumber">
          {trans.__('Revision %1', revision.rev)}
        </span>
        <span className="jp-EnvMod-revisionAction">
          {actionText(revision.action, trans)}
        </span>
        {current && (
          <span className="jp-EnvMod-currentBadge">{trans.__('current')}</span>
        )}
      </div>
      <div className="jp-EnvMod-revisionMeta">
        {trans.__(
          '%1 by %2, %3 packages',
          formatTime(revision.time),
          revision.user || trans.__('unknown'),
          revision.packages
        )}
      </div>
      {counts.length > 0 ? (
        <details className="jp-EnvMod-revisionDiff">
          <summary>{counts.join(', ')}</summary>
          <DiffList
            title={trans.__('Added')}
            items={added}
            kind="added"
            trans={trans}
          />
          <DiffList
            title={trans.__('Removed')}
            items={removed}
            kind="removed"
            trans={trans}
          />
          <DiffList
            title={trans.__('Changed')}
            items={changed}
            kind="changed"
            trans={trans}
          />
        </details>
      ) : (
        <div className="jp-EnvMod-detailMuted">
          {trans.__('No package changed.')}
        </div>
      )}
      <RevisionPackages
        model={model}
        envId={envId}
        rev={revision.rev}
        trans={trans}
      />
      {!current && (
        <div className="jp-EnvMod-actions">
          <ActionButton
            label={trans.__('Restore')}
            ariaLabel={trans.__('Restore revision %1', revision.rev)}
            disabled={disabled}
            onClick={onRestore}
          />
        </div>
      )}
    </li>
  );
}

/**
 * The exact packages of a revision (`GET …/history/{rev}`), read when the
 * user opens them.
 */
function RevisionPackages(props: {
  model: EnvironmentsModel;
  envId: string;
  rev: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, envId, rev, trans } = props;
  const [details, setDetails] = React.useState<IRevisionDetails | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const onToggle = (event: React.SyntheticEvent<HTMLDetailsElement>): void => {
    if (!event.currentTarget.open || details) {
      return;
    }
    model.client
      .revision(envId, rev)
      .then(setDetails)
      .catch(reason => setError(errorMessage(reason)));
  };
  const rows = details
    ? [
        ...details.snapshot.conda.map(p => ({
          name: p.name,
          version: p.build ? `${p.version} (${p.build})` : p.version,
          source: 'conda'
        })),
        ...details.snapshot.pip.map(p => ({
          name: p.name,
          version: p.version,
          source: 'pypi'
        }))
      ]
    : [];
  return (
    <details className="jp-EnvMod-revisionPackages" onToggle={onToggle}>
      <summary>{trans.__('Packages in revision %1', rev)}</summary>
      <InlineError message={error} />
      {details === null && error === null && (
        <p className="jp-EnvMod-detailMuted">{trans.__('Loading…')}</p>
      )}
      <ul className="jp-EnvMod-diffList">
        {rows.map(row => (
          <li key={`${row.source}:${row.name}`}>
            <span className="jp-EnvMod-pkgName">{row.name}</span>{' '}
            <span className="jp-EnvMod-detailMuted">
              {row.version} · {sourceText(row.source, trans)}
            </span>
          </li>
        ))}
      </ul>
    </details>
  );
}

/**
 * The packages of one kind of a revision's diff.
 */
function DiffList(props: {
  title: string;
  items: ReadonlyArray<IPackageChange>;
  kind: 'added' | 'removed' | 'changed';
  trans: TranslationBundle;
}): JSX.Element | null {
  const { title, items, kind, trans } = props;
  if (items.length === 0) {
    return null;
  }
  return (
    <div className="jp-EnvMod-diffGroup" data-kind={kind}>
      <span className="jp-EnvMod-diffTitle">{title}</span>
      <ul className="jp-EnvMod-diffList">
        {items.map(item => (
          <li key={`${item.source}:${item.name}`}>
            <span className="jp-EnvMod-pkgName">{item.name}</span>{' '}
            <span className="jp-EnvMod-detailMuted">
              {kind === 'changed'
                ? trans.__('%1 → %2', item.old ?? '?', item.new ?? '?')
                : kind === 'added'
                  ? (item.new ?? '')
                  : (item.old ?? '')}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The "Share" tab.
 */
function ShareTab(props: {
  model: EnvironmentsModel;
  envId: string;
  version: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, envId, version, trans } = props;
  const share = useLoad(() => model.client.share(envId), [envId, version]);
  if (share.data === null) {
    return <Loading error={share.error} trans={trans} />;
  }
  const data: IShare = share.data;
  return (
    <div className="jp-EnvMod-share" aria-busy={share.loading}>
      {share.error ? <InlineError message={errorMessage(share.error)} /> : null}
      <Section title={trans.__('Specification')} name="spec">
        <p className="jp-EnvMod-detailHint">
          {trans.__(
            'What was asked for, to recreate the environment elsewhere (%1).',
            data.spec.filename
          )}
        </p>
        <pre
          className="jp-EnvMod-spec"
          tabIndex={0}
          aria-label={data.spec.filename}
        >
          {data.spec.text}
        </pre>
        <div className="jp-EnvMod-actions">
          <SpecCopyButton text={data.spec.text} trans={trans} />
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject jp-EnvMod-action"
            onClick={() => saveText(data.spec.filename, data.spec.text)}
          >
            <downloadIcon.react tag="span" className="jp-EnvMod-buttonIcon" />
            {trans.__('Download spec')}
          </button>
        </div>
      </Section>
      <Section title={trans.__('Recreate it')} name="recreate">
        {data.recreate.length > 0 ? (
          <CommandLines lines={data.recreate} trans={trans} name="recreate" />
        ) : (
          <p className="jp-EnvMod-detailMuted">{trans.__('No command.')}</p>
        )}
      </Section>
      <Section title={trans.__('Use it as it is')} name="use">
        {data.use.length > 0 ? (
          <CommandLines lines={data.use} trans={trans} name="use" />
        ) : (
          <p className="jp-EnvMod-detailMuted">
            {trans.__(
              'Other users cannot read this environment: they can only recreate it.'
            )}
          </p>
        )}
      </Section>
      {data.notes.length > 0 && (
        <Section title={trans.__('Notes')} name="notes">
          <ul className="jp-EnvMod-notes">
            {data.notes.map((note, index) => (
              <li key={index}>{note}</li>
            ))}
          </ul>
        </Section>
      )}
      <Section title={trans.__('Who can change it')} name="sharing">
        <ul className="jp-EnvMod-sharing">
          <li data-sharing="owner">
            {trans.__('Owner: %1', data.sharing.owner)}
          </li>
          {data.sharing.group && (
            <li data-sharing="group">
              {trans.__('Group: %1', data.sharing.group)}
            </li>
          )}
          {data.sharing.shared_root && (
            <li data-sharing="shared-root">
              {trans.__('In the shared area')}{' '}
              <code className="jp-EnvMod-path">{data.sharing.shared_root}</code>
            </li>
          )}
          <li data-sharing="writers">
            {data.sharing.group_writable
              ? data.sharing.group
                ? trans.__(
                    'The owner and the members of group %1 can change it.',
                    data.sharing.group
                  )
                : trans.__(
                    'The owner and the members of its group can change it.'
                  )
              : trans.__('Only the owner can change it.')}
          </li>
          <li data-sharing="readers">
            {data.sharing.readable_by_others
              ? trans.__('Other users can read and use it.')
              : trans.__('Other users cannot read it.')}
          </li>
          <li data-sharing="you">
            {data.sharing.can_change
              ? trans.__('You can change it.')
              : trans.__('You cannot change it.')}
          </li>
        </ul>
      </Section>
    </div>
  );
}

/**
 * "Copy spec", saying "Copied" for a moment.
 */
function SpecCopyButton(props: {
  text: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { text, trans } = props;
  const [copied, setCopied] = React.useState(false);
  React.useEffect(() => {
    if (!copied) {
      return;
    }
    const timer = window.setTimeout(() => setCopied(false), 1500);
    return () => window.clearTimeout(timer);
  }, [copied]);
  return (
    <button
      type="button"
      className="jp-Button jp-mod-styled jp-mod-reject jp-EnvMod-action"
      aria-label={trans.__('Copy spec')}
      onClick={() => {
        Clipboard.copyToSystem(text);
        setCopied(true);
      }}
    >
      <copyIcon.react tag="span" className="jp-EnvMod-buttonIcon" />
      {copied ? trans.__('Copied') : trans.__('Copy spec')}
    </button>
  );
}
