import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretRightIcon,
  ReactWidget,
  refreshIcon
} from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { EnvModClient } from '../api';
import {
  DoctorStatus,
  IDoctorCheck,
  IDoctorCounts,
  IDoctorFixResult,
  IDoctorReport
} from '../tokens';
import { errorMessage } from './dialogs';

/**
 * The order of the rows: problems first, then warnings, then the rest.
 */
const SEVERITY: { [status: string]: number } = {
  problem: 0,
  warning: 1,
  ok: 2
};

/**
 * The mark drawn before a status (the word is written next to it).
 */
const GLYPHS: { [status: string]: string } = {
  ok: '✓',
  warning: '!',
  problem: '✕'
};

/**
 * The "Check my setup" section of the Environments panel: runs the server's
 * setup checks (the doctor) the first time it is shown, lists them, and
 * applies a check's fix once the user confirms it.
 */
export class DoctorView extends ReactWidget {
  constructor(options: DoctorView.IOptions) {
    super();
    this.addClass('jp-EnvMod-doctor');
    this._client = options.client;
    this._trans = options.trans;
    this._uid = Private.uid();
    this.title.label = options.trans.__('Check my setup');
    this.title.caption = options.trans.__(
      'Checks of your Python and Jupyter setup, with fixes'
    );
  }

  /**
   * Whether the checks have been asked for at least once.
   */
  get started(): boolean {
    return this._started;
  }

  /**
   * The checks of the last answer, or null before the first one.
   */
  get checks(): ReadonlyArray<IDoctorCheck> | null {
    return this._report?.checks ?? null;
  }

  /**
   * Whether checks or fixes are running.
   */
  get busy(): boolean {
    return this._pending !== null;
  }

  /**
   * Run the checks and show them. While checks or fixes run, answer the
   * running operation instead of starting another one.
   *
   * Errors are shown in the section (the list stays); never rejects.
   */
  run(): Promise<void> {
    return this._do('checking', [], async () => {
      this._results = [];
      this._report = Private.tidy(await this._client.doctor());
    });
  }

  /**
   * Ask whether to apply the fixes of the checks `ids` (a dialog showing
   * what each fix does) and, on "Fix", apply them.
   *
   * @returns Whether the fixes were asked for (the user accepted).
   */
  async confirmFix(ids: ReadonlyArray<string>): Promise<boolean> {
    const trans = this._trans;
    const checks = Private.sorted(this._report?.checks ?? []).filter(
      check => check.fix && ids.includes(check.id)
    );
    if (checks.length === 0 || this._pending) {
      return false;
    }
    const single = checks.length === 1;
    const result = await showDialog({
      title: single
        ? trans.__('Fix %1?', checks[0].title)
        : trans._n('Apply %1 fix?', 'Apply %1 fixes?', checks.length),
      body: <FixPreview checks={checks} trans={trans} />,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({
          label: single ? trans.__('Fix') : trans.__('Fix all')
        })
      ]
    });
    if (!result.button.accept) {
      return false;
    }
    if (this._pending) {
      // Checks started while the dialog was open: fix once they are done.
      await this._pending;
    }
    await this.fix(checks.map(check => check.id));
    return true;
  }

  /**
   * Apply the fixes of the checks `ids` without asking, tell the outcome
   * and show the checks the server ran again.
   *
   * Errors are shown in the section (the list stays); never rejects.
   */
  fix(ids: ReadonlyArray<string>): Promise<void> {
    return this._do('fixing', ids, async () => {
      const answer = await this._client.doctorFix([...ids]);
      const results = Array.isArray(answer.results) ? answer.results : [];
      const titles = new Map(
        (this._report?.checks ?? []).map(check => [check.id, check.title])
      );
      this._report = Private.tidy(answer);
      this._results = results;
      this._notify(results, titles);
    });
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._startWhenVisible();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._startWhenVisible();
  }

  protected render(): JSX.Element {
    return (
      <DoctorComponent
        uid={this._uid}
        report={this._report}
        results={this._results}
        busy={this._busy}
        fixing={this._fixing}
        error={this._error}
        expanded={this._expanded}
        trans={this._trans}
        onRun={() => void this.run()}
        onFix={ids => void this.confirmFix(ids)}
        onToggle={id => {
          if (!this._expanded.delete(id)) {
            this._expanded.add(id);
          }
          this.update();
        }}
      />
    );
  }

  /**
   * Run the checks the first time the section can be seen (not before:
   * they take a few seconds).
   */
  private _startWhenVisible(): void {
    if (!this._started && this.isVisible) {
      void this.run();
    }
  }

  /**
   * Run one request at a time with the busy state shown; keep the list and
   * show the error when it fails.
   */
  private _do(
    busy: 'checking' | 'fixing',
    ids: ReadonlyArray<string>,
    action: () => Promise<void>
  ): Promise<void> {
    if (this._pending) {
      return this._pending;
    }
    this._started = true;
    this._busy = busy;
    this._fixing = [...ids];
    this._error = '';
    this.update();
    this._pending = (async () => {
      try {
        await action();
      } catch (reason) {
        this._error =
          busy === 'checking'
            ? this._trans.__(
                'Could not run the checks: %1',
                errorMessage(reason)
              )
            : this._trans._n(
                'Could not apply the fix: %2',
                'Could not apply the fixes: %2',
                ids.length,
                errorMessage(reason)
              );
      } finally {
        this._busy = null;
        this._fixing = [];
        this._pending = null;
        this.update();
      }
    })();
    return this._pending;
  }

  /**
   * Tell the outcome of fixes in a notification (the section lists each
   * one in full).
   */
  private _notify(
    results: ReadonlyArray<IDoctorFixResult>,
    titles: Map<string, string>
  ): void {
    const trans = this._trans;
    if (results.length === 1) {
      const [result] = results;
      const title = titles.get(result.id) ?? result.id;
      if (result.fixed) {
        Notification.success(result.message || trans.__('%1: fixed', title), {
          autoClose: 5000
        });
      } else {
        Notification.error(
          result.message || trans.__('%1: the fix did not work', title),
          { autoClose: false }
        );
      }
      return;
    }
    if (results.length === 0) {
      return;
    }
    const failed = results.filter(result => !result.fixed);
    if (failed.length === 0) {
      Notification.success(
        trans._n('Applied %1 fix.', 'Applied %1 fixes.', results.length),
        { autoClose: 5000 }
      );
    } else {
      Notification.error(
        trans.__(
          '%1 of %2 fixes did not work: %3',
          failed.length,
          results.length,
          failed.map(result => result.message).join(' ')
        ),
        { autoClose: false }
      );
    }
  }

  private _busy: 'checking' | 'fixing' | null = null;
  private _client: EnvModClient;
  private _error = '';
  private _expanded = new Set<string>();
  private _fixing: string[] = [];
  private _pending: Promise<void> | null = null;
  private _report: IDoctorReport | null = null;
  private _results: IDoctorFixResult[] = [];
  private _started = false;
  private _trans: TranslationBundle;
  private _uid: string;
}

/**
 * The namespace for `DoctorView` statics.
 */
export namespace DoctorView {
  /**
   * The options to create the view.
   */
  export interface IOptions {
    client: EnvModClient;
    trans: TranslationBundle;
  }
}

/**
 * The counts of a report, e.g. "1 problem, 3 warnings, 7 ok": problems and
 * warnings when there are some, the checks that are ok always.
 */
export function countsText(
  counts: IDoctorCounts,
  trans: TranslationBundle
): string {
  const parts: string[] = [];
  if (counts.problem > 0) {
    parts.push(trans._n('%1 problem', '%1 problems', counts.problem));
  }
  if (counts.warning > 0) {
    parts.push(trans._n('%1 warning', '%1 warnings', counts.warning));
  }
  parts.push(trans.__('%1 ok', counts.ok));
  return parts.join(trans.__(', '));
}

/**
 * The word for a status.
 */
function statusLabel(status: DoctorStatus, trans: TranslationBundle): string {
  switch (status) {
    case 'ok':
      return trans.__('OK');
    case 'warning':
      return trans.__('Warning');
    case 'problem':
      return trans.__('Problem');
    default:
      return String(status);
  }
}

/**
 * The properties of the section's component.
 */
interface IDoctorProps {
  uid: string;
  report: IDoctorReport | null;
  results: ReadonlyArray<IDoctorFixResult>;
  busy: 'checking' | 'fixing' | null;
  fixing: ReadonlyArray<string>;
  error: string;
  expanded: ReadonlySet<string>;
  trans: TranslationBundle;
  onRun: () => void;
  onFix: (ids: string[]) => void;
  onToggle: (id: string) => void;
}

/**
 * Everything the section shows.
 */
function DoctorComponent(props: IDoctorProps): JSX.Element {
  const { report, results, busy, fixing, error, trans } = props;
  const checks = report ? Private.sorted(report.checks) : null;
  const fixable = (checks ?? []).filter(check => check.fix);
  const titles = new Map((checks ?? []).map(c => [c.id, c.title]));
  return (
    <div
      className="jp-EnvMod-doctorBody"
      aria-busy={busy ? 'true' : 'false'}
      data-busy={busy ?? ''}
    >
      <p className="jp-EnvMod-doctorIntro">
        {trans.__(
          'Looks for common causes of broken environments and kernels: packages leaking in from outside, full caches and disks, leftovers of deleted environments.'
        )}
      </p>
      <div className="jp-EnvMod-doctorBar">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject jp-EnvMod-doctorRun"
          disabled={busy !== null}
          onClick={props.onRun}
        >
          <refreshIcon.react tag="span" className="jp-EnvMod-buttonIcon" />
          {trans.__('Run checks again')}
        </button>
        {fixable.length > 1 && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept jp-EnvMod-doctorFixAll"
            disabled={busy !== null}
            aria-label={trans.__('Fix all…')}
            title={trans.__(
              'Apply the fixes of %1 checks, after a confirmation',
              fixable.length
            )}
            onClick={() => props.onFix(fixable.map(check => check.id))}
          >
            {trans.__('Fix all…')}
          </button>
        )}
      </div>
      {busy && (
        <p className="jp-EnvMod-status jp-EnvMod-doctorBusy" role="status">
          <span className="jp-EnvMod-spinner" aria-hidden="true" />
          {busy === 'checking'
            ? trans.__('Checking your setup… this can take a few seconds.')
            : trans.__(
                'Fixing %1…',
                fixing.map(id => titles.get(id) ?? id).join(trans.__(', '))
              )}
        </p>
      )}
      {error && (
        <p className="jp-EnvMod-errorMessage" role="alert">
          {error}
        </p>
      )}
      {report && (
        <p
          className="jp-EnvMod-doctorCounts"
          data-problem={report.counts.problem}
          data-warning={report.counts.warning}
          data-ok={report.counts.ok}
        >
          {countsText(report.counts, trans)}
        </p>
      )}
      {results.length > 0 && (
        <FixResults results={results} titles={titles} trans={trans} />
      )}
      {checks && (
        <ul
          className="jp-EnvMod-checks"
          role="list"
          aria-label={trans.__('Setup checks')}
        >
          {checks.map(check => (
            <CheckRow
              key={check.id}
              uid={props.uid}
              check={check}
              expanded={props.expanded.has(check.id)}
              busy={busy !== null}
              fixing={fixing.includes(check.id)}
              trans={trans}
              onFix={() => props.onFix([check.id])}
              onToggle={() => props.onToggle(check.id)}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * One check: its status, title and summary; when it is not ok, a toggle
 * for its findings and explanation; its "Fix…" button when it has a fix.
 */
function CheckRow(props: {
  uid: string;
  check: IDoctorCheck;
  expanded: boolean;
  busy: boolean;
  fixing: boolean;
  trans: TranslationBundle;
  onFix: () => void;
  onToggle: () => void;
}): JSX.Element {
  const { check, expanded, trans } = props;
  const details = Array.isArray(check.details) ? check.details : [];
  const expandable =
    check.status !== 'ok' && (details.length > 0 || !!check.explanation);
  const moreId = `${props.uid}-${check.id}`;
  const heading = (
    <>
      <span className="jp-EnvMod-checkMark" data-status={check.status}>
        <span className="jp-EnvMod-checkGlyph" aria-hidden="true">
          {GLYPHS[check.status] ?? '?'}
        </span>
        {statusLabel(check.status, trans)}
      </span>
      <span className="jp-EnvMod-checkTitle">{check.title}</span>
    </>
  );
  const Caret = expanded ? caretDownIcon : caretRightIcon;
  return (
    <li
      className={`jp-EnvMod-doctorCheck jp-EnvMod-doctorCheck-${check.status}`}
      data-check-id={check.id}
      data-status={check.status}
      aria-busy={props.fixing ? 'true' : 'false'}
    >
      <div className="jp-EnvMod-checkHeader">
        {expandable ? (
          <button
            type="button"
            className="jp-EnvMod-checkToggle"
            aria-expanded={expanded ? 'true' : 'false'}
            aria-controls={moreId}
            onClick={props.onToggle}
          >
            <Caret.react tag="span" className="jp-EnvMod-checkCaret" />
            {heading}
          </button>
        ) : (
          <div className="jp-EnvMod-checkToggle jp-mod-static">{heading}</div>
        )}
        {check.fix && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept jp-EnvMod-checkFix"
            disabled={props.busy}
            aria-label={trans.__('Fix %1…', check.title)}
            title={check.fix}
            onClick={props.onFix}
          >
            {trans.__('Fix…')}
          </button>
        )}
      </div>
      <p className="jp-EnvMod-checkSummary">{check.summary}</p>
      {expandable && (
        <div id={moreId} className="jp-EnvMod-checkMore" hidden={!expanded}>
          {details.length > 0 && (
            <ul className="jp-EnvMod-checkDetails">
              {details.map((line, index) => (
                <li key={index}>{line}</li>
              ))}
            </ul>
          )}
          {check.explanation && (
            <p className="jp-EnvMod-checkExplanation">{check.explanation}</p>
          )}
        </div>
      )}
    </li>
  );
}

/**
 * The body of the fix confirmation: each fix's text exactly as the server
 * wrote it.
 */
function FixPreview(props: {
  checks: ReadonlyArray<IDoctorCheck>;
  trans: TranslationBundle;
}): JSX.Element {
  const { checks, trans } = props;
  if (checks.length === 1) {
    return (
      <div className="jp-EnvMod-fixPreview">
        <p className="jp-EnvMod-fixText" data-check-id={checks[0].id}>
          {checks[0].fix}
        </p>
      </div>
    );
  }
  return (
    <div className="jp-EnvMod-fixPreview">
      <p>{trans.__('These fixes are applied:')}</p>
      <ul className="jp-EnvMod-fixList">
        {checks.map(check => (
          <li key={check.id} data-check-id={check.id}>
            <span className="jp-EnvMod-fixTitle">{check.title}</span>
            <p className="jp-EnvMod-fixText">{check.fix}</p>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * What the last fixes did, each in full with the paths it changed.
 */
function FixResults(props: {
  results: ReadonlyArray<IDoctorFixResult>;
  titles: Map<string, string>;
  trans: TranslationBundle;
}): JSX.Element {
  const { results, titles, trans } = props;
  return (
    <section
      className="jp-EnvMod-fixResults"
      aria-label={trans.__('Fixes applied')}
    >
      <ul className="jp-EnvMod-fixResultList" role="list">
        {results.map(result => {
          const changed = Array.isArray(result.changed) ? result.changed : [];
          return (
            <li
              key={result.id}
              className="jp-EnvMod-fixResult"
              data-check-id={result.id}
              data-fixed={result.fixed ? 'true' : 'false'}
            >
              <span className="jp-EnvMod-fixTitle">
                {result.fixed
                  ? trans.__('%1: fixed', titles.get(result.id) ?? result.id)
                  : trans.__(
                      '%1: not fixed',
                      titles.get(result.id) ?? result.id
                    )}
              </span>{' '}
              <span className="jp-EnvMod-fixMessage">{result.message}</span>
              {changed.length > 0 && (
                <details className="jp-EnvMod-fixChanged">
                  <summary>
                    {trans._n(
                      '%1 path changed',
                      '%1 paths changed',
                      changed.length
                    )}
                  </summary>
                  <ul>
                    {changed.map(path => (
                      <li key={path}>
                        <code className="jp-EnvMod-path">{path}</code>
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/**
 * A namespace for private module data.
 */
namespace Private {
  let count = 0;

  /**
   * A new prefix for the element ids of a view.
   */
  export function uid(): string {
    count += 1;
    return `jp-EnvMod-doctor-${count}`;
  }

  /**
   * The checks by severity, in the server's order within one severity.
   */
  export function sorted(
    checks: ReadonlyArray<IDoctorCheck>
  ): ReadonlyArray<IDoctorCheck> {
    const rank = (check: IDoctorCheck): number => SEVERITY[check.status] ?? 1;
    return checks
      .map((check, index) => ({ check, index }))
      .sort((a, b) => rank(a.check) - rank(b.check) || a.index - b.index)
      .map(item => item.check);
  }

  /**
   * A report read tolerantly: counts from the checks when they are missing.
   */
  export function tidy(report: IDoctorReport): IDoctorReport {
    const checks = Array.isArray(report?.checks) ? report.checks : [];
    const counted: IDoctorCounts = { ok: 0, warning: 0, problem: 0 };
    for (const check of checks) {
      if (check.status in counted) {
        counted[check.status] += 1;
      }
    }
    const counts = report?.counts;
    return {
      checks,
      counts:
        counts &&
        typeof counts.ok === 'number' &&
        typeof counts.warning === 'number' &&
        typeof counts.problem === 'number'
          ? { ok: counts.ok, warning: counts.warning, problem: counts.problem }
          : counted
    };
  }
}
