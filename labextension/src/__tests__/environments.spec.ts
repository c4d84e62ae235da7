import { EnvModClient } from '../api';
import { EnvironmentsModel } from '../environments';
import { IEnvironment, ITask } from '../tokens';
import { fakeFetch, jsonResponse, makeSettings } from './fixtures';

function makeEnv(overrides: Partial<IEnvironment> = {}): IEnvironment {
  return {
    id: 'abc123',
    name: 'demo',
    path: '/home/alice/envs/demo',
    engine: 'venv',
    type: 'venv',
    python_version: '3.11.4',
    managed: true,
    created: 1,
    modified: 1,
    state: 'ready',
    operation: null,
    kernel: '/home/alice/.local/share/jupyter/kernels/envmod-demo',
    modules: [],
    module: null,
    module_deps: [],
    ...overrides
  };
}

function makeTask(overrides: Partial<ITask> = {}): ITask {
  return {
    id: 't1',
    kind: 'create',
    environment: { path: '/home/alice/envs/demo', name: 'demo', id: 'abc123' },
    state: 'running',
    phase: 'solving',
    progress: null,
    created: 1,
    started: 1,
    finished: null,
    log: [],
    next_offset: 0,
    result: null,
    error: null,
    ...overrides
  };
}

function line(offset: number, text: string): ITask['log'][number] {
  return { offset, time: offset, line: text };
}

/**
 * A fake server: `GET environments`, `GET tasks` and `GET tasks/t1?since=N`
 * answering from `script`, which the test changes between polls.
 */
function fakeServer(script: {
  environments: IEnvironment[];
  tasks: ITask[];
  task: (since: number) => ITask | Response;
}) {
  const fetch = fakeFetch(request => {
    const url = new URL(request.url);
    const path = url.pathname.replace('/user/alice/envmod/', '');
    if (path === 'environments') {
      return jsonResponse(script.environments);
    }
    if (path === 'tasks') {
      return jsonResponse(script.tasks);
    }
    if (path === 'tasks/t1' && request.method === 'DELETE') {
      return jsonResponse(makeTask({ phase: 'cancelling' }), 202);
    }
    if (path === 'tasks/t1') {
      const answer = script.task(Number(url.searchParams.get('since')));
      return answer instanceof Response ? answer : jsonResponse(answer);
    }
    return jsonResponse({ message: 'no', reason: 'not-found' }, 404);
  });
  const model = new EnvironmentsModel({
    client: new EnvModClient(makeSettings(fetch)),
    taskInterval: 200
  });
  return { fetch, model };
}

/**
 * Wait until `check` holds (the model polls on timers).
 */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('timed out');
    }
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

describe('EnvironmentsModel', () => {
  it('lists the environments', async () => {
    const { model } = fakeServer({
      environments: [makeEnv(), makeEnv({ id: 'b', name: 'other' })],
      tasks: [],
      task: () => makeTask()
    });
    expect(model.state).toBe('loading');
    await model.refresh();
    expect(model.state).toBe('ready');
    expect(model.environments.map(env => env.name)).toEqual(['demo', 'other']);
    expect(model.environment('b')?.name).toBe('other');
    model.dispose();
  });

  it('turns a failed listing into the error state', async () => {
    const fetch = fakeFetch(() =>
      jsonResponse(
        { message: 'bad config', reason: 'invalid-configuration' },
        500
      )
    );
    const model = new EnvironmentsModel({
      client: new EnvModClient(makeSettings(fetch))
    });
    await model.refresh();
    expect(model.state).toBe('error');
    expect(model.error?.message).toBe('bad config');
    expect(model.error?.reason).toBe('invalid-configuration');
    model.dispose();
  });

  it('reads a task log incrementally by offset and reports the end once', async () => {
    const sinces: number[] = [];
    let finished = false;
    const { model } = fakeServer({
      environments: [],
      tasks: [],
      task: since => {
        sinces.push(since);
        if (!finished) {
          finished = true;
          return makeTask({
            log: [line(0, 'solving'), line(1, 'installing')],
            next_offset: 2,
            phase: 'installing',
            progress: 0.5
          });
        }
        return makeTask({
          state: 'succeeded',
          log: [line(2, 'done')].filter(l => l.offset >= since),
          next_offset: 3,
          finished: 2,
          result: { summary: '3 to add' }
        });
      }
    });
    const ended: ITask[] = [];
    model.taskFinished.connect((_, task) => ended.push(task));
    model.track(makeTask());
    expect(model.hasRunningTasks).toBe(true);
    await until(() => ended.length === 1);
    expect(sinces.slice(0, 2)).toEqual([0, 2]);
    const task = model.task('t1')!;
    expect(task.state).toBe('succeeded');
    expect(task.log.map(l => l.line)).toEqual([
      'solving',
      'installing',
      'done'
    ]);
    expect(ended[0].log).toHaveLength(3);
    expect(model.hasRunningTasks).toBe(false);
    // Polling stopped: no more reads after the end.
    const reads = sinces.length;
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(sinces.length).toBe(reads);
    model.dispose();
  });

  it('picks up the running tasks of the server after a reload', async () => {
    const { model } = fakeServer({
      environments: [makeEnv({ state: 'busy' })],
      tasks: [
        makeTask({ log: [], next_offset: 4 }),
        makeTask({ id: 'old', state: 'succeeded', finished: 1 })
      ],
      task: () => makeTask({ next_offset: 4 })
    });
    await model.refresh();
    expect(model.tasks.map(task => task.id)).toEqual(['t1']);
    expect(model.tasksOf('abc123').map(task => task.id)).toEqual(['t1']);
    model.dispose();
  });

  it('cancels a task through the server', async () => {
    const { fetch, model } = fakeServer({
      environments: [],
      tasks: [],
      task: () => makeTask()
    });
    model.track(makeTask());
    await model.cancel('t1');
    const call = fetch.mock.calls.find(c => c[0].method === 'DELETE');
    expect(call).toBeDefined();
    expect(new URL(call![0].url).pathname).toBe('/user/alice/envmod/tasks/t1');
    expect(model.task('t1')?.phase).toBe('cancelling');
    model.dispose();
  });

  it('ends a task the server no longer knows', async () => {
    const { model } = fakeServer({
      environments: [],
      tasks: [],
      task: () =>
        jsonResponse({ message: 'no task t1', reason: 'not-found' }, 404)
    });
    const ended: ITask[] = [];
    model.taskFinished.connect((_, task) => ended.push(task));
    model.track(makeTask());
    await until(() => ended.length === 1);
    expect(ended[0].state).toBe('failed');
    expect(ended[0].error?.reason).toBe('task-lost');
    model.dispose();
  });

  it('dismisses only finished tasks', () => {
    const { model } = fakeServer({
      environments: [],
      tasks: [],
      task: () => makeTask()
    });
    model.track(makeTask({ id: 'done', state: 'failed', finished: 1 }));
    model.track(makeTask({ id: 'run' }));
    model.dismiss('run');
    model.dismiss('done');
    expect(model.tasks.map(task => task.id)).toEqual(['run']);
    model.dispose();
  });
});

describe('EnvModClient', () => {
  function client(
    answer: (request: Request) => Response = () => jsonResponse({})
  ) {
    const fetch = fakeFetch(answer);
    return { fetch, client: new EnvModClient(makeSettings(fetch)) };
  }

  async function sent(
    call: (c: EnvModClient) => Promise<unknown>
  ): Promise<{ method: string; path: string; search: string; body: unknown }> {
    const { fetch, client: c } = client();
    await call(c);
    const request = fetch.mock.calls[0][0];
    const url = new URL(request.url);
    const text = await request.text();
    // ServerConnection adds a cache-busting timestamp parameter.
    [...url.searchParams.keys()]
      .filter(key => /^\d+$/.test(key))
      .forEach(key => url.searchParams.delete(key));
    return {
      method: request.method,
      path: url.pathname.replace('/user/alice/envmod/', ''),
      search: url.search,
      body: text ? JSON.parse(text) : undefined
    };
  }

  it('maps each operation to its endpoint', async () => {
    expect(await sent(c => c.create({ name: 'x', dry_run: true }))).toEqual({
      method: 'POST',
      path: 'environments',
      search: '',
      body: { name: 'x', dry_run: true }
    });
    expect(await sent(c => c.remove('a b'))).toMatchObject({
      method: 'DELETE',
      path: 'environments/a%20b'
    });
    expect(
      await sent(c =>
        c.changePackages('e', { install: ['numpy'], dry_run: true })
      )
    ).toMatchObject({
      method: 'POST',
      path: 'environments/e/packages',
      body: { install: ['numpy'], dry_run: true }
    });
    expect(await sent(c => c.restore('e', 3, true))).toMatchObject({
      method: 'POST',
      path: 'environments/e/history/3/restore',
      body: { dry_run: true }
    });
    expect(
      await sent(c => c.writeKernel('e', { display_name: 'D' }))
    ).toMatchObject({
      method: 'PUT',
      path: 'environments/e/kernel',
      body: { display_name: 'D' }
    });
    expect(await sent(c => c.removeModule('e'))).toMatchObject({
      method: 'DELETE',
      path: 'environments/e/module'
    });
    expect(await sent(c => c.clone('e', { name: 'copy' }))).toMatchObject({
      method: 'POST',
      path: 'environments/e/clone',
      body: { name: 'copy' }
    });
    expect(await sent(c => c.task('t', 7))).toMatchObject({
      method: 'GET',
      path: 'tasks/t',
      search: '?since=7'
    });
    expect(await sent(c => c.outdated('e'))).toMatchObject({
      path: 'environments/e/outdated'
    });
    expect(await sent(c => c.share('e'))).toMatchObject({
      path: 'environments/e/share'
    });
    expect(await sent(c => c.history('e'))).toMatchObject({
      path: 'environments/e/history'
    });
    expect(
      await sent(c =>
        c.search('num', { engine: 'rattler', channels: ['a', 'b'] })
      )
    ).toMatchObject({
      path: 'packages/search',
      search: '?q=num&engine=rattler&channel=a&channel=b'
    });
  });

  it('reads an export with the file name the server gives', async () => {
    const { client: c } = client(
      () =>
        new Response('name: demo\n', {
          status: 200,
          headers: {
            'Content-Type': 'application/x-yaml',
            'Content-Disposition': 'attachment; filename="demo-environment.yml"'
          }
        })
    );
    expect(await c.exportText('e', 'yml')).toEqual({
      filename: 'demo-environment.yml',
      text: 'name: demo\n'
    });
  });

  it('turns an export error into an API error with its field', async () => {
    const { client: c } = client(() =>
      jsonResponse(
        {
          message: 'explicit needs a conda environment',
          reason: 'invalid-input',
          details: { field: 'format' }
        },
        400
      )
    );
    await expect(c.exportText('e', 'explicit')).rejects.toMatchObject({
      status: 400,
      reason: 'invalid-input',
      details: { field: 'format' }
    });
  });
});
