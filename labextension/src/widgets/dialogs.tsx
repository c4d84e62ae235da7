import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { EnvModAPIError } from '../api';
import { EnvironmentsModel } from '../environments';
import {
  IChange,
  IEnvironment,
  IEnvironmentDetails,
  IKernelSpec,
  IModuleFile,
  IPlan,
  ITask
} from '../tokens';

/**
 * The message of anything thrown.
 */
export function errorMessage(reason: unknown): string {
  if (reason instanceof Error) {
    return reason.message;
  }
  return String(reason);
}

/**
 * The plan of a finished dry-run task, read tolerantly.
 */
export function planOf(task: ITask): IPlan {
  const plan = task.result?.plan as { changes?: unknown } | undefined;
  const changes = Array.isArray(plan?.changes)
    ? (plan!.changes as IChange[])
    : [];
  return { changes };
}

/**
 * The summary of a finished dry-run task, if it has one.
 */
export function summaryOf(task: ITask): string | undefined {
  const summary = task.result?.summary;
  return typeof summary === 'string' && summary ? summary : undefined;
}

/**
 * The order in which a plan lists the kinds of changes.
 */
const KINDS: ReadonlyArray<IChange['kind']> = ['add', 'change', 'remove'];

/**
 * What a plan changes: the summary, then the packages added, changed and
 * removed, each with its version(s) and source.
 */
export function PlanView(props: {
  plan: IPlan;
  summary?: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { plan, summary, trans } = props;
  const changes = plan.changes ?? [];
  const titles: { [kind in IChange['kind']]: string } = {
    add: trans.__('Added (%1)', count(changes, 'add')),
    change: trans.__('Changed (%1)', count(changes, 'change')),
    remove: trans.__('Removed (%1)', count(changes, 'remove'))
  };
  return (
    <div className="jp-EnvMod-plan" data-changes={changes.length}>
      {summary && <p className="jp-EnvMod-planSummary">{summary}</p>}
      {changes.length === 0 ? (
        <p className="jp-EnvMod-planEmpty">
          {trans.__(
            'Nothing would change: no package is added, removed or changed.'
          )}
        </p>
      ) : (
        KINDS.filter(kind => count(changes, kind) > 0).map(kind => (
          <section
            key={kind}
            className="jp-EnvMod-planGroup"
            data-kind={kind}
            aria-label={titles[kind]}
          >
            <h3 className="jp-EnvMod-planGroupTitle">{titles[kind]}</h3>
            <ul className="jp-EnvMod-planChanges">
              {changes
                .filter(change => change.kind === kind)
                .map(change => (
                  <li
                    key={`${change.source}:${change.name}`}
                    className="jp-EnvMod-planChange"
                    data-kind={change.kind}
                    data-name={change.name}
                  >
                    <span className="jp-EnvMod-planName">{change.name}</span>{' '}
                    <span className="jp-EnvMod-planVersion">
                      {versionText(change, trans)}
                    </span>{' '}
                    <span className="jp-EnvMod-planSource">
                      {sourceText(change.source, trans)}
                    </span>
                  </li>
                ))}
            </ul>
          </section>
        ))
      )}
    </div>
  );
}

/**
 * How many changes of a kind a plan has.
 */
function count(changes: ReadonlyArray<IChange>, kind: IChange['kind']): number {
  return changes.filter(change => change.kind === kind).length;
}

/**
 * The version(s) of one change: "new", "old → new" or "old".
 */
function versionText(change: IChange, trans: TranslationBundle): string {
  switch (change.kind) {
    case 'add':
      return change.new ?? '';
    case 'remove':
      return change.old ?? '';
    default:
      return trans.__('%1 → %2', change.old ?? '?', change.new ?? '?');
  }
}

/**
 * Where a package comes from, in words.
 */
export function sourceText(source: string, trans: TranslationBundle): string {
  switch (source) {
    case 'conda':
      return trans.__('conda');
    case 'pypi':
      return trans.__('pypi');
    default:
      return source;
  }
}

/**
 * Run a dry run, show its plan, and on "Apply" start the real operation and
 * follow its task.
 *
 * A plan without changes is only shown, with a "Close" button.
 *
 * @returns The task of the applied operation (already tracked by `model`),
 *   or null when nothing was applied.
 * @throws {EnvModAPIError} When the dry run or the operation is refused
 *   (e.g. 400 bad input, 409 busy, 422 unsatisfiable) or the dry run failed:
 *   the caller shows the message where the user acted.
 */
export async function previewAndApply(options: {
  trans: TranslationBundle;
  title: string;
  dryRun: () => Promise<ITask>;
  apply: () => Promise<ITask>;
  model: EnvironmentsModel;
}): Promise<ITask | null> {
  const { trans, title, dryRun, apply, model } = options;
  const preview = await dryRun();
  if (preview.state === 'failed' || preview.state === 'cancelled') {
    throw new EnvModAPIError({
      message:
        preview.error?.message ??
        trans.__('The preview did not finish (%1).', preview.state),
      status: null,
      reason: preview.error?.reason ?? 'operation-failed',
      details: preview.error?.details ?? {}
    });
  }
  const plan = planOf(preview);
  const body = (
    <PlanView plan={plan} summary={summaryOf(preview)} trans={trans} />
  );
  if (plan.changes.length === 0) {
    await showDialog({
      title,
      body,
      buttons: [Dialog.cancelButton({ label: trans.__('Close') })]
    });
    return null;
  }
  const result = await showDialog({
    title,
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Apply') })
    ]
  });
  if (!result.button.accept) {
    return null;
  }
  const task = await apply();
  model.track(task);
  return task;
}

/**
 * Ask whether to delete an environment, listing what goes with it (its
 * directory, kernels and module files), and delete it on "Delete".
 *
 * Errors are shown with `showErrorMessage`; the promise never rejects.
 *
 * @returns The delete task (already tracked by `model`), or null when the
 *   user cancelled or the server refused.
 */
export async function confirmDelete(options: {
  model: EnvironmentsModel;
  envId: string;
  trans: TranslationBundle;
}): Promise<ITask | null> {
  const { model, envId, trans } = options;
  const title = trans.__('Delete environment');
  let details: IEnvironmentDetails | null = null;
  let readError: string | null = null;
  try {
    details = await model.client.environment(envId);
  } catch (reason) {
    readError = errorMessage(reason);
  }
  const listed = model.environment(envId);
  if (!details && !listed) {
    await showErrorMessage(
      title,
      readError ?? trans.__('Unknown environment.')
    );
    return null;
  }
  const result = await showDialog({
    title,
    body: (
      <DeletePreview
        environment={(details ?? listed)!}
        kernels={details?.kernels ?? null}
        moduleFiles={details?.module_files ?? null}
        readError={readError}
        trans={trans}
      />
    ),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.warnButton({
        label: trans.__('Delete'),
        ariaLabel: trans.__('Delete')
      })
    ],
    // Enter keeps the environment.
    defaultButton: 0
  });
  if (!result.button.accept) {
    return null;
  }
  try {
    const task = await model.client.remove(envId);
    model.track(task);
    return task;
  } catch (reason) {
    await showErrorMessage(
      trans.__('Could not delete %1', (details ?? listed)!.name),
      errorMessage(reason)
    );
    return null;
  }
}

/**
 * The body of the delete confirmation: exactly what is removed.
 *
 * `kernels` and `moduleFiles` are null when the details could not be read;
 * the paths recorded in the listing are shown instead.
 */
function DeletePreview(props: {
  environment: IEnvironment;
  kernels: IKernelSpec[] | null;
  moduleFiles: IModuleFile[] | null;
  readError: string | null;
  trans: TranslationBundle;
}): JSX.Element {
  const { environment, kernels, moduleFiles, readError, trans } = props;
  return (
    <div className="jp-EnvMod-deletePreview">
      <p>
        {trans.__(
          'Delete the environment %1? These are removed:',
          environment.name
        )}
      </p>
      <h3 className="jp-EnvMod-deleteGroup">{trans.__('Environment')}</h3>
      <ul className="jp-EnvMod-deleteList" data-group="environment">
        <li>
          <code className="jp-EnvMod-path">{environment.path}</code>
        </li>
      </ul>
      <h3 className="jp-EnvMod-deleteGroup">{trans.__('Kernels')}</h3>
      {kernels !== null ? (
        kernels.length > 0 ? (
          <ul className="jp-EnvMod-deleteList" data-group="kernels">
            {kernels.map(kernel => (
              <li key={kernel.dir}>
                <span className="jp-EnvMod-deleteName">
                  {kernel.display_name}
                </span>{' '}
                <code className="jp-EnvMod-path">{kernel.dir}</code>
              </li>
            ))}
          </ul>
        ) : (
          <p className="jp-EnvMod-deleteNone">{trans.__('No kernel.')}</p>
        )
      ) : environment.kernel ? (
        <ul className="jp-EnvMod-deleteList" data-group="kernels">
          <li>
            <code className="jp-EnvMod-path">{environment.kernel}</code>
          </li>
        </ul>
      ) : (
        <p className="jp-EnvMod-deleteNone">{trans.__('No kernel.')}</p>
      )}
      <h3 className="jp-EnvMod-deleteGroup">{trans.__('Module files')}</h3>
      {(() => {
        const paths =
          moduleFiles !== null
            ? moduleFiles.map(file => file.path)
            : environment.modules;
        return paths.length > 0 ? (
          <ul className="jp-EnvMod-deleteList" data-group="modules">
            {paths.map(path => (
              <li key={path}>
                <code className="jp-EnvMod-path">{path}</code>
              </li>
            ))}
          </ul>
        ) : (
          <p className="jp-EnvMod-deleteNone">{trans.__('No module files.')}</p>
        );
      })()}
      {readError && (
        <p className="jp-EnvMod-deleteWarning">
          {trans.__(
            'The details of the environment could not be read (%1); the list above is what was recorded for it.',
            readError
          )}
        </p>
      )}
      <p className="jp-EnvMod-deleteWarning">
        {trans.__('This cannot be undone.')}
      </p>
    </div>
  );
}
