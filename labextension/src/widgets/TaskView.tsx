import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { EnvironmentsModel } from '../environments';
import { isFinished, ITask } from '../tokens';
import { errorMessage } from './dialogs';

/**
 * What a task kind is called in the panel.
 */
export function taskTitle(task: ITask, trans: TranslationBundle): string {
  const name = task.environment.name;
  switch (task.kind) {
    case 'create':
      return trans.__('Creating %1', name);
    case 'clone':
      return trans.__('Cloning into %1', name);
    case 'delete':
      return trans.__('Deleting %1', name);
    case 'install':
      return trans.__('Installing into %1', name);
    case 'update':
      return trans.__('Updating packages of %1', name);
    case 'update-all':
      return trans.__('Updating all packages of %1', name);
    case 'remove':
      return trans.__('Removing packages from %1', name);
    case 'restore':
      return trans.__('Restoring %1', name);
    case 'kernel':
      return trans.__('Writing the kernel of %1', name);
    case 'remove-kernel':
      return trans.__('Removing the kernel of %1', name);
    case 'module':
      return trans.__('Writing the module files of %1', name);
    case 'remove-module':
      return trans.__('Removing the module files of %1', name);
    case 'adopt':
      return trans.__('Adopting %1', name);
    default:
      return trans.__('%1: %2', task.kind, name);
  }
}

/**
 * The words for a task state.
 */
function stateLabel(task: ITask, trans: TranslationBundle): string {
  switch (task.state) {
    case 'queued':
      return trans.__('queued');
    case 'running':
      return trans.__('running');
    case 'succeeded':
      return trans.__('done');
    case 'failed':
      return trans.__('failed');
    case 'cancelled':
      return trans.__('cancelled');
  }
}

/**
 * One task: what it does, its phase and progress, its live log, and Cancel
 * while it runs (Dismiss once it ended).
 */
export function TaskView(props: {
  task: ITask;
  model: EnvironmentsModel;
  trans: TranslationBundle;
  expanded?: boolean;
}): JSX.Element {
  const { task, model, trans } = props;
  const finished = isFinished(task.state);
  const [open, setOpen] = React.useState(props.expanded ?? !finished);
  const [cancelling, setCancelling] = React.useState(false);
  const [cancelError, setCancelError] = React.useState('');
  const logRef = React.useRef<HTMLPreElement>(null);
  const title = taskTitle(task, trans);
  const titleId = `jp-EnvMod-task-${task.id}`;

  React.useEffect(() => {
    if (props.expanded) {
      setOpen(true);
    }
  }, [props.expanded]);

  // Follow the end of the log while it grows.
  React.useEffect(() => {
    const node = logRef.current;
    if (node && open) {
      node.scrollTop = node.scrollHeight;
    }
  }, [task.log.length, open]);

  const cancel = async (): Promise<void> => {
    setCancelling(true);
    setCancelError('');
    try {
      await model.cancel(task.id);
    } catch (reason) {
      setCancelError(errorMessage(reason));
      setCancelling(false);
    }
  };

  const percent =
    task.progress === null ? null : Math.round(task.progress * 100);
  return (
    <li
      className={`jp-EnvMod-task jp-EnvMod-task-${task.state}`}
      data-task-id={task.id}
      data-task-kind={task.kind}
      data-state={task.state}
      aria-labelledby={titleId}
    >
      <div className="jp-EnvMod-taskHeader">
        <span id={titleId} className="jp-EnvMod-taskTitle">
          {title}
        </span>
        <span className="jp-EnvMod-taskState">{stateLabel(task, trans)}</span>
      </div>
      {!finished && (
        <>
          <div className="jp-EnvMod-taskPhase">
            {task.phase || trans.__('starting')}
            {percent !== null && ` · ${percent}%`}
          </div>
          <progress
            className="jp-EnvMod-taskProgress"
            aria-label={trans.__('Progress of: %1', title)}
            max={1}
            {...(task.progress === null ? {} : { value: task.progress })}
          />
        </>
      )}
      {task.state === 'succeeded' &&
        typeof task.result?.summary === 'string' && (
          <div className="jp-EnvMod-taskSummary">{task.result.summary}</div>
        )}
      {task.error && (
        <div className="jp-EnvMod-taskError" role="alert">
          {task.error.message}
        </div>
      )}
      {cancelError && (
        <div className="jp-EnvMod-taskError" role="alert">
          {cancelError}
        </div>
      )}
      <div className="jp-EnvMod-taskActions">
        <button
          type="button"
          className="jp-Button jp-mod-minimal jp-EnvMod-linkButton"
          aria-expanded={open}
          onClick={() => setOpen(!open)}
        >
          {open
            ? trans.__('Hide log')
            : trans._n(
                'Show log (%1 line)',
                'Show log (%1 lines)',
                task.log.length
              )}
        </button>
        {!finished && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-warn jp-EnvMod-cancel"
            disabled={cancelling}
            onClick={() => void cancel()}
          >
            {cancelling ? trans.__('Cancelling…') : trans.__('Cancel')}
          </button>
        )}
        {finished && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject"
            onClick={() => model.dismiss(task.id)}
          >
            {trans.__('Dismiss')}
          </button>
        )}
      </div>
      {open && (
        <pre
          ref={logRef}
          className="jp-EnvMod-log"
          role="log"
          aria-live="polite"
          aria-label={trans.__('Log of: %1', title)}
          tabIndex={0}
        >
          {task.log.map(line => line.line).join('\n') ||
            trans.__('(no output yet)')}
        </pre>
      )}
    </li>
  );
}

/**
 * The tasks the model follows, newest first.
 */
export function TaskList(props: {
  model: EnvironmentsModel;
  trans: TranslationBundle;
  expandedTask?: string | null;
}): JSX.Element | null {
  const { model, trans } = props;
  const tasks = [...model.tasks].reverse();
  if (tasks.length === 0) {
    return null;
  }
  return (
    <section className="jp-EnvMod-tasks" aria-labelledby="jp-EnvMod-tasksTitle">
      <h3 id="jp-EnvMod-tasksTitle" className="jp-EnvMod-sectionTitle">
        {trans.__('Tasks')}
      </h3>
      <ul className="jp-EnvMod-taskList">
        {tasks.map(task => (
          <TaskView
            key={task.id}
            task={task}
            model={model}
            trans={trans}
            expanded={props.expandedTask === task.id}
          />
        ))}
      </ul>
    </section>
  );
}
