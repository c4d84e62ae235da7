import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { EnvModAPIError, EnvModClient } from './api';
import { IEnvironment, isFinished, ITask } from './tokens';

/**
 * The default interval, in milliseconds, between two reads of running tasks.
 */
export const DEFAULT_TASK_INTERVAL = 1000;

/**
 * The environments of the server and the tasks running on them, as the panel
 * shows them.
 *
 * Tasks are read incrementally: each poll asks only for the log lines after
 * the last offset seen, and the model keeps the whole log. On `refresh` the
 * server's running tasks are picked up again, so a reloaded page shows them.
 */
export class EnvironmentsModel implements IDisposable {
  constructor(options: EnvironmentsModel.IOptions) {
    this.client = options.client;
    this._interval = options.taskInterval ?? DEFAULT_TASK_INTERVAL;
    this._poll = new Poll({
      auto: false,
      factory: () => this._readTasks(),
      frequency: { interval: this._interval, backoff: true, max: 30_000 },
      name: 'jupyter-envmod:tasks',
      standby: 'when-hidden'
    });
  }

  /**
   * The REST client.
   */
  readonly client: EnvModClient;

  /**
   * Emitted when the environments, the tasks or the state change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Emitted once for each followed task when it ends (succeeded, failed or
   * cancelled), with its full log.
   */
  get taskFinished(): ISignal<this, ITask> {
    return this._taskFinished;
  }

  /**
   * `loading` until the first answer, then `ready` or `error`.
   */
  get state(): 'loading' | 'ready' | 'error' {
    return this._state;
  }

  /**
   * The error of the last refresh.
   */
  get error(): EnvModAPIError | null {
    return this._error;
  }

  /**
   * The environments, in the server's order.
   */
  get environments(): ReadonlyArray<IEnvironment> {
    return this._environments;
  }

  /**
   * The tasks followed, oldest first: running ones and those that ended
   * while the page was open.
   */
  get tasks(): ReadonlyArray<ITask> {
    return [...this._tasks.values()];
  }

  /**
   * Whether any followed task is still running.
   */
  get hasRunningTasks(): boolean {
    return this.tasks.some(task => !isFinished(task.state));
  }

  /**
   * The interval between two reads of running tasks, in milliseconds.
   */
  get taskInterval(): number {
    return this._interval;
  }
  set taskInterval(value: number) {
    const interval = Number.isFinite(value) && value >= 200 ? value : 200;
    if (interval === this._interval || this.isDisposed) {
      return;
    }
    this._interval = interval;
    this._poll.frequency = { interval, backoff: true, max: 30_000 };
  }

  /**
   * One environment by id.
   */
  environment(id: string): IEnvironment | undefined {
    return this._environments.find(env => env.id === id);
  }

  /**
   * One followed task by id.
   */
  task(id: string): ITask | undefined {
    return this._tasks.get(id);
  }

  /**
   * The followed tasks of one environment, newest first.
   */
  tasksOf(envId: string): ITask[] {
    return this.tasks.filter(task => task.environment.id === envId).reverse();
  }

  /**
   * Read the environments and the server's tasks.
   *
   * Never rejects: a failure becomes the `error` state.
   */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    const request = ++this._requests;
    try {
      const [environments, tasks] = await Promise.all([
        this.client.environments(),
        this.client.tasks()
      ]);
      if (this.isDisposed || request !== this._requests) {
        return;
      }
      this._environments = environments;
      this._state = 'ready';
      this._error = null;
      for (const task of tasks) {
        // Running tasks come back after a reload; finished ones only if they
        // were followed already (their log is then complete).
        if (!isFinished(task.state) && !this._tasks.has(task.id)) {
          this.track(task);
        }
      }
    } catch (reason) {
      if (this.isDisposed || request !== this._requests) {
        return;
      }
      this._state = 'error';
      this._error =
        reason instanceof EnvModAPIError
          ? reason
          : new EnvModAPIError({
              message: String(reason),
              status: null,
              reason: 'unexpected-error'
            });
    }
    this._changed.emit();
  }

  /**
   * Follow a task (the answer of a 202) until it ends.
   */
  track(task: ITask): void {
    if (this.isDisposed) {
      return;
    }
    const known = this._tasks.get(task.id);
    const merged = known ? Private.merge(known, task) : { ...task };
    this._tasks.set(task.id, merged);
    this._changed.emit();
    if (isFinished(merged.state)) {
      this._finish(merged);
    } else {
      void this._poll.start();
      void this._poll.refresh();
    }
  }

  /**
   * Ask the server to cancel a task; the task ends as `cancelled` once its
   * commands stopped and the environment is put back.
   */
  async cancel(id: string): Promise<void> {
    const task = await this.client.cancel(id);
    this.track(task);
  }

  /**
   * Forget a finished task.
   */
  dismiss(id: string): void {
    const task = this._tasks.get(id);
    if (task && isFinished(task.state)) {
      this._tasks.delete(id);
      this._changed.emit();
    }
  }

  /**
   * Whether the model is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _readTasks(): Promise<void> {
    const running = this.tasks.filter(task => !isFinished(task.state));
    if (running.length === 0) {
      void this._poll.stop();
      return;
    }
    await Promise.all(
      running.map(async task => {
        let fresh: ITask;
        try {
          fresh = await this.client.task(task.id, task.next_offset);
        } catch (reason) {
          if (reason instanceof EnvModAPIError && reason.status === 404) {
            // Dropped by the server (it restarted): the task is over.
            this._tasks.set(task.id, {
              ...task,
              state: 'failed',
              error: {
                message: reason.message,
                reason: 'task-lost',
                details: {}
              }
            });
            this._finish(this._tasks.get(task.id)!);
            return;
          }
          throw reason;
        }
        if (this.isDisposed) {
          return;
        }
        const merged = Private.merge(this._tasks.get(task.id) ?? task, fresh);
        this._tasks.set(task.id, merged);
        if (isFinished(merged.state)) {
          this._finish(merged);
        }
      })
    );
    this._changed.emit();
  }

  private _finish(task: ITask): void {
    if (this._finished.has(task.id)) {
      return;
    }
    this._finished.add(task.id);
    this._taskFinished.emit(task);
    // A create, delete, clone or change alters the list (state, python, kernel).
    void this.refresh();
  }

  private _changed = new Signal<this, void>(this);
  private _environments: IEnvironment[] = [];
  private _error: EnvModAPIError | null = null;
  private _finished = new Set<string>();
  private _interval: number;
  private _isDisposed = false;
  private _poll: Poll;
  private _requests = 0;
  private _state: 'loading' | 'ready' | 'error' = 'loading';
  private _taskFinished = new Signal<this, ITask>(this);
  private _tasks = new Map<string, ITask>();
}

/**
 * The namespace for `EnvironmentsModel` statics.
 */
export namespace EnvironmentsModel {
  export interface IOptions {
    client: EnvModClient;
    /**
     * Milliseconds between two reads of running tasks (default 1000).
     */
    taskInterval?: number;
  }
}

namespace Private {
  /**
   * A task's newer state with the log lines of both, each offset once.
   */
  export function merge(known: ITask, fresh: ITask): ITask {
    const seen = new Set(known.log.map(line => line.offset));
    const log = [...known.log, ...fresh.log.filter(l => !seen.has(l.offset))];
    log.sort((a, b) => a.offset - b.offset);
    return {
      ...fresh,
      log,
      next_offset: Math.max(known.next_offset, fresh.next_offset)
    };
  }
}
