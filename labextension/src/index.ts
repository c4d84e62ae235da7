import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { PartialJSONValue } from '@lumino/coreutils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { EnvModClient } from './api';
import { EnvironmentsModel } from './environments';
import { environmentsIcon } from './icons';
import { SiteModel } from './model';
import {
  EngineName,
  ITask,
  PANEL_ID,
  PLUGIN_ID,
  TRANSLATION_DOMAIN
} from './tokens';
import { showCreateDialog } from './widgets/CreateDialog';
import { DoctorView } from './widgets/DoctorView';
import { EnvironmentsPanel } from './widgets/EnvironmentsPanel';
import { EnvironmentsView, kernelName } from './widgets/EnvironmentsView';
import { IFirstRunChoices } from './widgets/FirstRun';
import { taskTitle } from './widgets/TaskView';

/**
 * The command ids of the extension.
 */
export namespace CommandIDs {
  export const create = 'envmod:new-environment';
  export const createFromFile = 'envmod:create-from-file';
  export const open = 'envmod:open-panel';
  export const doctor = 'envmod:check-setup';
}

/**
 * The files "Create environment from this file" is offered for.
 */
const SPEC_FILE = /\.(ya?ml|txt|lock)$/i;

/**
 * The user settings the panel reads, with their defaults.
 */
interface IUserSettings {
  defaultEngine: EngineName | '';
  defaultPython: string;
  createKernel: boolean;
  createModules: boolean;
  environmentRoot: string;
  taskPollSeconds: number;
  firstRunDone: boolean;
}

/**
 * The Environments side panel, its commands and its notifications.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Create and manage conda and venv environments, their kernels and module files.',
  autoStart: true,
  optional: [
    ILayoutRestorer,
    ISettingRegistry,
    ITranslator,
    ICommandPalette,
    ILauncher,
    IDefaultFileBrowser
  ],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    fileBrowser: IDefaultFileBrowser | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load(TRANSLATION_DOMAIN);
    const serverSettings = app.serviceManager.serverSettings;
    const client = new EnvModClient(serverSettings);
    const site = new SiteModel({ serverSettings });
    const model = new EnvironmentsModel({ client });
    const user: IUserSettings = {
      defaultEngine: '',
      defaultPython: '',
      createKernel: true,
      createModules: false,
      environmentRoot: '',
      taskPollSeconds: 1,
      firstRunDone: true
    };
    let settings: ISettingRegistry.ISettings | null = null;

    const openNotebook = (name: string): void => {
      void app.commands.execute('notebook:create-new', { kernelName: name });
    };

    const saveSettings = async (
      values: Partial<IUserSettings>
    ): Promise<void> => {
      Object.assign(user, values);
      view.showFirstRun = !user.firstRunDone;
      if (settings) {
        for (const [key, value] of Object.entries(values)) {
          await settings.set(key, value as PartialJSONValue);
        }
      }
    };

    const view = new EnvironmentsView({
      model,
      site,
      trans,
      onNew: () => void app.commands.execute(CommandIDs.create),
      openNotebook,
      onFirstRunSave: (choices: IFirstRunChoices) =>
        void saveSettings({ ...choices, firstRunDone: true }),
      onFirstRunSkip: () => void saveSettings({ firstRunDone: true })
    });
    const panel = new EnvironmentsPanel({
      model: site,
      translator,
      environments: view,
      doctor: new DoctorView({ client, trans })
    });
    app.shell.add(panel, 'left', { rank: 200 });
    restorer?.add(panel, PANEL_ID);
    void site.refresh();
    void model.refresh();

    const newEnvironment = async (spec?: {
      filename: string;
      content: string;
    }): Promise<void> => {
      if (!site.info) {
        await site.refresh();
      }
      const task = await showCreateDialog({
        client,
        site: site.info,
        trans,
        existingNames: model.environments.map(env => env.name),
        existingPaths: model.environments.map(env => env.path),
        defaults: {
          engine: user.defaultEngine,
          python: user.defaultPython,
          kernel: user.createKernel,
          modules: user.createModules,
          root: user.environmentRoot
        },
        spec
      });
      if (task) {
        model.track(task);
        app.shell.activateById(panel.id);
      }
    };

    app.commands.addCommand(CommandIDs.create, {
      label: trans.__('New environment'),
      caption: trans.__(
        'Create a conda or venv environment with a Jupyter kernel and module files'
      ),
      icon: args => (args['isPalette'] ? undefined : environmentsIcon),
      execute: () => newEnvironment()
    });

    const selectedSpecFile = (): string | null => {
      const item = fileBrowser?.selectedItems().next();
      if (!item || item.done || item.value.type === 'directory') {
        return null;
      }
      return SPEC_FILE.test(item.value.name) ? item.value.path : null;
    };
    app.commands.addCommand(CommandIDs.createFromFile, {
      label: trans.__('Create environment from this file'),
      caption: trans.__(
        'Create an environment from an environment.yml or requirements.txt file'
      ),
      icon: environmentsIcon,
      isVisible: args =>
        typeof args['path'] === 'string' || selectedSpecFile() !== null,
      execute: async args => {
        const path =
          typeof args['path'] === 'string' ? args['path'] : selectedSpecFile();
        if (!path) {
          return;
        }
        const file = await app.serviceManager.contents.get(path, {
          content: true,
          type: 'file',
          format: 'text'
        });
        await newEnvironment({
          filename: PathExt.basename(path),
          content: String(file.content)
        });
      }
    });
    app.contextMenu.addItem({
      command: CommandIDs.createFromFile,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 60
    });

    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('Show Environments'),
      execute: () => app.shell.activateById(panel.id)
    });

    app.commands.addCommand(CommandIDs.doctor, {
      label: trans.__('Check my setup (doctor)'),
      caption: trans.__(
        'Look for common problems of Python environments and kernels, with fixes'
      ),
      execute: () => {
        app.shell.activateById(panel.id);
        panel.showDoctor();
      }
    });

    if (palette) {
      const category = trans.__('Environments');
      palette.addItem({ command: CommandIDs.create, category });
      palette.addItem({ command: CommandIDs.open, category });
      palette.addItem({ command: CommandIDs.doctor, category });
    }
    if (launcher) {
      launcher.add({
        command: CommandIDs.create,
        category: trans.__('Other'),
        rank: 50
      });
    }

    // When a task ends: refresh the kernelspecs (the Launcher shows a new
    // kernel or drops a deleted one at once) and tell the user.
    model.taskFinished.connect((_, task: ITask) => {
      void app.serviceManager.kernelspecs.refreshSpecs();
      notify(task);
    });

    const notify = (task: ITask): void => {
      const title = taskTitle(task, trans);
      if (task.state === 'succeeded') {
        const kernel = task.result?.kernel as { name?: string } | undefined;
        const env = model.environment(task.environment.id);
        const name =
          kernel?.name ??
          (env?.kernel && task.kind === 'create'
            ? kernelName(env.kernel)
            : null);
        const actions =
          name && ['create', 'clone', 'kernel', 'adopt'].includes(task.kind)
            ? [
                {
                  label: trans.__('Open notebook with this kernel'),
                  callback: () => openNotebook(name)
                }
              ]
            : [];
        Notification.success(trans.__('%1: done', title), {
          autoClose: actions.length > 0 ? 10000 : 5000,
          actions
        });
      } else if (task.state === 'failed') {
        Notification.error(
          trans.__('%1 failed: %2', title, task.error?.message ?? ''),
          {
            autoClose: false,
            actions: [
              {
                label: trans.__('Show log'),
                callback: () => {
                  app.shell.activateById(panel.id);
                  view.showTask(task.id);
                }
              }
            ]
          }
        );
      } else if (task.state === 'cancelled') {
        Notification.info(trans.__('%1: cancelled', title), {
          autoClose: 5000
        });
      }
    };

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          settings = loaded;
          const apply = (): void => {
            panel.showConfiguration =
              loaded.get('showConfiguration').composite !== false;
            const seconds = loaded.get('autoRefreshSeconds').composite;
            site.autoRefreshSeconds = typeof seconds === 'number' ? seconds : 0;
            const read = <K extends keyof IUserSettings>(key: K): void => {
              const value = loaded.get(key).composite;
              if (typeof value === typeof user[key]) {
                user[key] = value as IUserSettings[K];
              }
            };
            (Object.keys(user) as (keyof IUserSettings)[]).forEach(read);
            model.taskInterval = user.taskPollSeconds * 1000;
            view.showFirstRun = !user.firstRunDone;
          };
          apply();
          loaded.changed.connect(apply);
        })
        .catch(reason => {
          console.error(`Failed to load the settings of ${PLUGIN_ID}.`, reason);
        });
    }
  }
};

export default plugin;
