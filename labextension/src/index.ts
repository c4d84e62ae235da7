import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { SiteModel } from './model';
import { PANEL_ID, PLUGIN_ID } from './tokens';
import { EnvironmentsPanel } from './widgets/EnvironmentsPanel';

/**
 * The Environments side panel.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'A side panel showing what the jupyter_envmod server extension found on this site.',
  autoStart: true,
  optional: [ILayoutRestorer, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    const model = new SiteModel({
      serverSettings: app.serviceManager.serverSettings
    });
    const panel = new EnvironmentsPanel({
      model,
      translator: translator ?? nullTranslator
    });
    app.shell.add(panel, 'left', { rank: 200 });
    restorer?.add(panel, PANEL_ID);
    void model.refresh();

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = (): void => {
            panel.showConfiguration =
              settings.get('showConfiguration').composite !== false;
            const seconds = settings.get('autoRefreshSeconds').composite;
            model.autoRefreshSeconds =
              typeof seconds === 'number' ? seconds : 0;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(`Failed to load the settings of ${PLUGIN_ID}.`, reason);
        });
    }
  }
};

export default plugin;
