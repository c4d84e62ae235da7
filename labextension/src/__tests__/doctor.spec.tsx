import { Dialog, Notification } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { EnvModClient } from '../api';
import { SiteModel } from '../model';
import {
  DOCTOR_CHECK_IDS,
  IDoctorCheck,
  IDoctorCounts,
  TRANSLATION_DOMAIN
} from '../tokens';
import { countsText, DoctorView } from '../widgets/DoctorView';
import { EnvironmentsPanel } from '../widgets/EnvironmentsPanel';
import {
  BASE_URL,
  dialogButton,
  jsonResponse,
  makeSettings,
  makeSiteInfo,
  openDialog,
  waitFor
} from './fixtures';

const trans = nullTranslator.load(TRANSLATION_DOMAIN);

/**
 * A check as the server sends it.
 */
function check(
  id: string,
  status: IDoctorCheck['status'],
  overrides: Partial<IDoctorCheck> = {}
): IDoctorCheck {
  return {
    id,
    title: id,
    status,
    summary: `${id} summary`,
    explanation: '',
    details: [],
    fix: null,
    ...overrides
  };
}

/**
 * The eleven checks: 1 problem, 3 warnings, 7 ok.
 */
function makeChecks(): IDoctorCheck[] {
  return [
    check('user-site', 'warning', {
      title: 'User site-packages',
      summary: '12 packages in ~/.local/lib/python3.11/site-packages',
      explanation:
        'Packages there are imported by every environment and can shadow its own. Move them aside.',
      details: [
        '/home/alice/.local/lib/python3.11/site-packages/numpy',
        '/home/alice/.local/lib/python3.11/site-packages/scipy'
      ],
      fix: 'Move /home/alice/.local/lib/python3.11/site-packages to /home/alice/.local/lib/python3.11/site-packages.envmod-moved-20240101.'
    }),
    check('pythonpath', 'ok', { title: 'PYTHONPATH' }),
    check('pip-user', 'ok', { title: 'pip --user' }),
    check('caches', 'warning', {
      title: 'Package caches',
      summary: 'Caches use 3.2 GB',
      explanation: 'Caches can be removed: packages are downloaded again.',
      details: ['/home/alice/.cache/pip: 3.2 GB'],
      fix: 'Delete /home/alice/.cache/pip (3.2 GB).'
    }),
    check('disk-space', 'ok', { title: 'Disk space' }),
    check('orphan-kernels', 'problem', {
      title: 'Orphan kernels',
      summary: '1 kernel whose environment is gone',
      explanation: 'It shows in the Launcher but cannot start.',
      details: ['envmod-old: /home/alice/envs/old is missing'],
      fix: 'Remove the kernelspec /home/alice/.local/share/jupyter/kernels/envmod-old.'
    }),
    check('orphan-modules', 'ok', { title: 'Orphan module files' }),
    check('interrupted', 'ok', { title: 'Interrupted operations' }),
    check('environments-txt', 'warning', {
      title: 'environments.txt',
      summary: '2 entries point nowhere',
      explanation: 'conda lists them as environments.',
      details: ['/gone/a', '/gone/b']
    }),
    check('module-system', 'ok', { title: 'Module system' }),
    check('condarc-channels', 'ok', { title: 'Channels in .condarc' })
  ];
}

function countsOf(checks: IDoctorCheck[]): IDoctorCounts {
  const counts: IDoctorCounts = { ok: 0, warning: 0, problem: 0 };
  for (const c of checks) {
    counts[c.status] += 1;
  }
  return counts;
}

interface IRecorded {
  method: string;
  path: string;
  body: unknown;
}

/**
 * A fake server extension that answers the doctor endpoints as the REST
 * contract says: GET runs the checks, POST applies fixes (a fixed check
 * becomes ok with no fix) and answers the checks run again; a 400 for an
 * empty or unknown id.
 */
class FakeDoctorServer {
  checks = makeChecks();
  requests: IRecorded[] = [];
  /**
   * The next answers to give instead of the real ones.
   */
  failures: Response[] = [];
  /**
   * When set, GET answers only once it resolves.
   */
  gate: Promise<void> | null = null;
  /**
   * Ids whose fix reports it did not work.
   */
  broken = new Set<string>();

  readonly fetch = jest.fn(async (request: Request) => this._answer(request));

  find(method: string, path: string): IRecorded[] {
    return this.requests.filter(r => r.method === method && r.path === path);
  }

  private async _answer(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const prefix = new URL(BASE_URL).pathname + 'envmod/';
    const path = url.pathname.slice(prefix.length);
    const text = await request.text();
    const body = text ? JSON.parse(text) : undefined;
    this.requests.push({ method: request.method, path, body });
    if (this.failures.length > 0) {
      return this.failures.shift()!;
    }
    const route = `${request.method} ${path}`;
    if (route === 'GET doctor') {
      if (this.gate) {
        await this.gate;
      }
      return jsonResponse({
        checks: this.checks,
        counts: countsOf(this.checks)
      });
    }
    if (route === 'POST doctor/fix') {
      const ids = (body?.checks ?? []) as string[];
      const unknown = ids.filter(id => !DOCTOR_CHECK_IDS.includes(id));
      if (ids.length === 0 || unknown.length > 0) {
        return jsonResponse(
          {
            message:
              ids.length === 0
                ? "'checks' must name at least one check"
                : `'checks': unknown check ${unknown[0]}`,
            reason: 'invalid-request',
            details: { field: 'checks' }
          },
          400
        );
      }
      const results = ids.map(id => {
        const fixed = !this.broken.has(id);
        if (fixed) {
          this.checks = this.checks.map(c =>
            c.id === id
              ? { ...c, status: 'ok', summary: 'fixed', details: [], fix: null }
              : c
          );
        }
        return {
          id,
          fixed,
          message: fixed
            ? `Fixed ${id}.`
            : `Could not fix ${id}: permission denied.`,
          changed: fixed ? [`/home/alice/${id}`] : []
        };
      });
      return jsonResponse({
        results,
        checks: this.checks,
        counts: countsOf(this.checks)
      });
    }
    return jsonResponse({ message: 'no route', reason: 'not-found' }, 404);
  }
}

/**
 * The one button below `root` whose accessible name (aria-label, else its
 * text) is `name`.
 */
function button(root: ParentNode, name: string): HTMLButtonElement {
  const found = Array.from(
    root.querySelectorAll<HTMLButtonElement>('button')
  ).filter(
    b => (b.getAttribute('aria-label') ?? b.textContent?.trim()) === name
  );
  if (found.length !== 1) {
    throw new Error(`${found.length} buttons named "${name}"`);
  }
  return found[0];
}

function row(root: ParentNode, id: string): HTMLElement {
  const found = root.querySelector<HTMLElement>(
    `.jp-EnvMod-doctorCheck[data-check-id="${id}"]`
  );
  if (!found) {
    throw new Error(`No row ${id}`);
  }
  return found;
}

function dialogClosed(): Promise<boolean> {
  return waitFor(
    () => document.querySelector('.jp-Dialog') === null,
    'the dialog to close'
  );
}

function countsLine(view: DoctorView): string {
  return view.node.querySelector('.jp-EnvMod-doctorCounts')?.textContent ?? '';
}

/**
 * A view over the fake server, attached (so it runs the checks) and shown.
 */
async function renderView(server: FakeDoctorServer): Promise<DoctorView> {
  const view = new DoctorView({
    client: new EnvModClient(makeSettings(server.fetch)),
    trans
  });
  Widget.attach(view, document.body);
  await waitFor(
    () => !view.busy && view.node.querySelector('.jp-EnvMod-doctorBody'),
    'the checks'
  );
  return view;
}

describe('DoctorView', () => {
  let view: DoctorView | null = null;

  afterEach(() => {
    Dialog.flush();
    Notification.dismiss();
    view?.dispose();
    view = null;
  });

  it('lists the checks of the server, problems first, with the counts', async () => {
    const server = new FakeDoctorServer();
    view = await renderView(server);
    expect(server.find('GET', 'doctor')).toHaveLength(1);

    const list = view.node.querySelector('[role="list"]');
    expect(list?.getAttribute('aria-label')).toBe('Setup checks');
    const rows = Array.from(list!.querySelectorAll<HTMLElement>(':scope > li'));
    expect(rows).toHaveLength(11);
    expect(rows.map(r => r.dataset.checkId)).toEqual([
      'orphan-kernels',
      'user-site',
      'caches',
      'environments-txt',
      'pythonpath',
      'pip-user',
      'disk-space',
      'orphan-modules',
      'interrupted',
      'module-system',
      'condarc-channels'
    ]);
    expect(rows.map(r => r.dataset.status)).toEqual([
      'problem',
      'warning',
      'warning',
      'warning',
      ...Array(7).fill('ok')
    ]);
    expect(countsLine(view)).toBe('1 problem, 3 warnings, 7 ok');

    const userSite = row(view.node, 'user-site');
    expect(userSite.textContent).toContain('Warning');
    expect(userSite.textContent).toContain('User site-packages');
    expect(userSite.textContent).toContain(
      '12 packages in ~/.local/lib/python3.11/site-packages'
    );
    expect(row(view.node, 'orphan-kernels').textContent).toContain('Problem');
    expect(row(view.node, 'disk-space').textContent).toContain('OK');

    // A "Fix…" button exactly for the checks with a fix.
    expect(button(view.node, 'Fix User site-packages…').textContent).toBe(
      'Fix…'
    );
    button(view.node, 'Fix Package caches…');
    button(view.node, 'Fix Orphan kernels…');
    expect(
      row(view.node, 'environments-txt').querySelector('.jp-EnvMod-checkFix')
    ).toBeNull();
    expect(view.node.querySelectorAll('.jp-EnvMod-checkFix')).toHaveLength(3);
    button(view.node, 'Run checks again');
    button(view.node, 'Fix all…');
  });

  it('expands a row that is not ok to its findings and explanation', async () => {
    view = await renderView(new FakeDoctorServer());
    const userSite = row(view.node, 'user-site');
    const toggle = userSite.querySelector<HTMLButtonElement>(
      'button[aria-expanded]'
    )!;
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    const more = document.getElementById(
      toggle.getAttribute('aria-controls')!
    )!;
    expect(userSite.contains(more)).toBe(true);
    expect(more.hidden).toBe(true);

    toggle.click();
    await waitFor(
      () => toggle.getAttribute('aria-expanded') === 'true',
      'the row to expand'
    );
    expect(more.hidden).toBe(false);
    const findings = Array.from(more.querySelectorAll('li')).map(
      li => li.textContent
    );
    expect(findings).toEqual([
      '/home/alice/.local/lib/python3.11/site-packages/numpy',
      '/home/alice/.local/lib/python3.11/site-packages/scipy'
    ]);
    expect(more.textContent).toContain(
      'Packages there are imported by every environment'
    );

    toggle.click();
    await waitFor(() => more.hidden, 'the row to collapse');

    // An ok row has nothing to expand.
    expect(
      row(view.node, 'disk-space').querySelector('button[aria-expanded]')
    ).toBeNull();
  });

  it('asks before a fix and posts it only on "Fix"', async () => {
    const server = new FakeDoctorServer();
    view = await renderView(server);

    button(view.node, 'Fix User site-packages…').click();
    let dialog = await openDialog();
    expect(dialog.querySelector('.jp-Dialog-header')?.textContent).toContain(
      'Fix User site-packages?'
    );
    expect(dialog.querySelector('.jp-EnvMod-fixText')?.textContent).toBe(
      makeChecks()[0].fix
    );
    expect(
      Array.from(dialog.querySelectorAll('.jp-Dialog-buttonLabel')).map(l =>
        l.textContent?.trim()
      )
    ).toEqual(['Cancel', 'Fix']);
    dialogButton(dialog, 'Cancel').click();
    await dialogClosed();
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(server.find('POST', 'doctor/fix')).toHaveLength(0);
    expect(row(view.node, 'user-site').dataset.status).toBe('warning');

    button(view.node, 'Fix User site-packages…').click();
    dialog = await openDialog();
    dialogButton(dialog, 'Fix').click();
    await dialogClosed();
    await waitFor(
      () => row(view!.node, 'user-site').dataset.status === 'ok',
      'the check to be ok'
    );
    const posts = server.find('POST', 'doctor/fix');
    expect(posts).toHaveLength(1);
    expect(posts[0].body).toEqual({ checks: ['user-site'] });
    // The list is the one the POST answered: no new GET.
    expect(server.find('GET', 'doctor')).toHaveLength(1);
    expect(countsLine(view)).toBe('1 problem, 2 warnings, 8 ok');
    expect(
      row(view.node, 'user-site').querySelector('.jp-EnvMod-checkFix')
    ).toBeNull();

    const notes = Notification.manager.notifications;
    expect(notes.map(n => [n.type, n.message])).toEqual([
      ['success', 'Fixed user-site.']
    ]);
    const result = view.node.querySelector(
      '.jp-EnvMod-fixResult[data-check-id="user-site"]'
    );
    expect(result?.getAttribute('data-fixed')).toBe('true');
    expect(result?.textContent).toContain('Fixed user-site.');
    expect(result?.textContent).toContain('/home/alice/user-site');
  });

  it('tells a fix that did not work as an error', async () => {
    const server = new FakeDoctorServer();
    server.broken.add('caches');
    view = await renderView(server);
    button(view.node, 'Fix Package caches…').click();
    dialogButton(await openDialog(), 'Fix').click();
    await waitFor(
      () => Notification.manager.notifications.length > 0,
      'a notification'
    );
    expect(
      Notification.manager.notifications.map(n => [n.type, n.message])
    ).toEqual([['error', 'Could not fix caches: permission denied.']]);
    expect(row(view.node, 'caches').dataset.status).toBe('warning');
  });

  it('applies every fix after one confirmation listing them', async () => {
    const server = new FakeDoctorServer();
    view = await renderView(server);
    button(view.node, 'Fix all…').click();
    const dialog = await openDialog();
    const listed = Array.from(
      dialog.querySelectorAll<HTMLElement>('.jp-EnvMod-fixList > li')
    );
    expect(listed.map(li => li.dataset.checkId)).toEqual([
      'orphan-kernels',
      'user-site',
      'caches'
    ]);
    expect(listed[2].querySelector('.jp-EnvMod-fixText')?.textContent).toBe(
      'Delete /home/alice/.cache/pip (3.2 GB).'
    );
    dialogButton(dialog, 'Fix all').click();
    await dialogClosed();
    await waitFor(
      () => countsLine(view!) === '1 warning, 10 ok',
      'the fixed checks'
    );
    expect(server.find('POST', 'doctor/fix')[0].body).toEqual({
      checks: ['orphan-kernels', 'user-site', 'caches']
    });
    expect(
      Notification.manager.notifications.map(n => [n.type, n.message])
    ).toEqual([['success', 'Applied 3 fixes.']]);
    // Nothing left to fix: no "Fix all…".
    expect(view.node.querySelector('.jp-EnvMod-doctorFixAll')).toBeNull();
  });

  it('shows a refused fix inline and keeps the list', async () => {
    const server = new FakeDoctorServer();
    view = await renderView(server);
    // The server no longer knows the check (e.g. an older server).
    server.failures.push(
      jsonResponse(
        {
          message: "'checks': unknown check user-site",
          reason: 'invalid-request',
          details: { field: 'checks' }
        },
        400
      )
    );
    button(view.node, 'Fix User site-packages…').click();
    dialogButton(await openDialog(), 'Fix').click();
    const alert = await waitFor(
      () => view!.node.querySelector('[role="alert"]'),
      'the error'
    );
    expect(alert.textContent).toBe(
      "Could not apply the fix: 'checks': unknown check user-site"
    );
    expect(view.node.querySelectorAll('.jp-EnvMod-doctorCheck')).toHaveLength(
      11
    );
    expect(row(view.node, 'user-site').dataset.status).toBe('warning');
    expect(Notification.manager.notifications).toHaveLength(0);
    expect(button(view.node, 'Fix User site-packages…').disabled).toBe(false);
  });

  it('shows a failed run inline, keeps the list and clears the error on success', async () => {
    const server = new FakeDoctorServer();
    view = await renderView(server);
    server.failures.push(
      jsonResponse(
        { message: 'Internal error', reason: 'http-error', details: {} },
        500
      )
    );
    button(view.node, 'Run checks again').click();
    const alert = await waitFor(
      () => view!.node.querySelector('[role="alert"]'),
      'the error'
    );
    expect(alert.textContent).toBe('Could not run the checks: Internal error');
    expect(view.node.querySelectorAll('.jp-EnvMod-doctorCheck')).toHaveLength(
      11
    );
    expect(countsLine(view)).toBe('1 problem, 3 warnings, 7 ok');

    server.checks = server.checks.map(c => ({ ...c, status: 'ok', fix: null }));
    button(view.node, 'Run checks again').click();
    await waitFor(() => countsLine(view!) === '11 ok', 'the new checks');
    expect(view.node.querySelector('[role="alert"]')).toBeNull();
    expect(server.find('GET', 'doctor')).toHaveLength(3);
  });

  it('shows an unreachable server inline', async () => {
    const server = new FakeDoctorServer();
    server.fetch.mockImplementationOnce(async () => {
      throw new TypeError('Failed to fetch');
    });
    view = await renderView(server);
    const alert = view.node.querySelector('[role="alert"]');
    expect(alert?.textContent).toContain('Could not run the checks: ');
    expect(alert?.textContent).toContain('Failed to fetch');
    expect(view.node.querySelector('[role="list"]')).toBeNull();
  });

  it('is busy while the checks run', async () => {
    const server = new FakeDoctorServer();
    let open: () => void = () => undefined;
    server.gate = new Promise(resolve => {
      open = resolve;
    });
    view = new DoctorView({
      client: new EnvModClient(makeSettings(server.fetch)),
      trans
    });
    Widget.attach(view, document.body);
    const body = await waitFor(
      () => view!.node.querySelector<HTMLElement>('.jp-EnvMod-doctorBody'),
      'the section'
    );
    expect(body.getAttribute('aria-busy')).toBe('true');
    expect(view.node.querySelector('[role="status"]')?.textContent).toContain(
      'Checking your setup'
    );
    expect(button(view.node, 'Run checks again').disabled).toBe(true);
    // Asking again while they run sends no second request.
    void view.run();
    open();
    await waitFor(() => countsLine(view!) !== '', 'the counts');
    expect(body.getAttribute('aria-busy')).toBe('false');
    expect(view.node.querySelector('[role="status"]')).toBeNull();
    expect(button(view.node, 'Run checks again').disabled).toBe(false);
    expect(server.find('GET', 'doctor')).toHaveLength(1);
  });

  it('writes the counts line', () => {
    expect(countsText({ problem: 1, warning: 3, ok: 7 }, trans)).toBe(
      '1 problem, 3 warnings, 7 ok'
    );
    expect(countsText({ problem: 2, warning: 1, ok: 8 }, trans)).toBe(
      '2 problems, 1 warning, 8 ok'
    );
    expect(countsText({ problem: 0, warning: 0, ok: 11 }, trans)).toBe('11 ok');
  });
});

describe('EnvironmentsPanel with the doctor', () => {
  let panel: EnvironmentsPanel | null = null;

  afterEach(() => {
    panel?.model.dispose();
    panel?.dispose();
    panel = null;
  });

  it('runs the checks when the collapsed section is first expanded', async () => {
    const server = new FakeDoctorServer();
    const doctor = new DoctorView({
      client: new EnvModClient(makeSettings(server.fetch)),
      trans
    });
    const model = new SiteModel({
      fetchSite: async () => makeSiteInfo({ version: '0.1.0' }),
      frontendVersion: '0.1.0'
    });
    panel = new EnvironmentsPanel({ model, doctor });
    Widget.attach(panel, document.body);
    await model.refresh();

    expect(panel.doctor).toBe(doctor);
    const title = Array.from(
      panel.node.querySelectorAll<HTMLElement>('.lm-AccordionPanel-title')
    ).find(t => t.textContent === 'Check my setup')!;
    expect(title).toBeTruthy();
    expect(title.getAttribute('aria-expanded')).toBe('false');
    expect(doctor.isHidden).toBe(true);
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(server.requests).toHaveLength(0);

    title.click();
    expect(title.getAttribute('aria-expanded')).toBe('true');
    await waitFor(() => countsLine(doctor) !== '', 'the checks');
    expect(server.find('GET', 'doctor')).toHaveLength(1);

    // Collapsing and expanding again does not run them again ...
    title.click();
    title.click();
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(server.find('GET', 'doctor')).toHaveLength(1);

    // ... the command "Check my setup" does.
    panel.showDoctor();
    await waitFor(
      () => server.find('GET', 'doctor').length === 2 && !doctor.busy,
      'the checks to run again'
    );
  });
});
