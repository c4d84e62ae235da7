import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import {
  ReactWidget,
  refreshIcon,
  SidePanel,
  ToolbarButton
} from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { AccordionPanel, Widget } from '@lumino/widgets';
import * as React from 'react';

import { EnvModAPIError } from '../api';
import { environmentsIcon } from '../icons';
import { SiteModel } from '../model';
import { DoctorView } from './DoctorView';
import {
  ENGINE_NAMES,
  IEngineInfo,
  IModuleSystemInfo,
  ISiteConfig,
  ISiteInfo,
  PANEL_ID,
  TRANSLATION_DOMAIN
} from '../tokens';

/**
 * The configuration keys shown in "Where environments go" rather than in
 * "Configuration".
 */
const LOCATION_KEYS: ReadonlyArray<keyof ISiteConfig> = [
  'env_dirs',
  'module_dir',
  'kernel_dir'
];

/**
 * The Environments side panel.
 */
export class EnvironmentsPanel extends SidePanel {
  constructor(options: EnvironmentsPanel.IOptions) {
    const translator = options.translator ?? nullTranslator;
    super({ translator });
    const trans = translator.load(TRANSLATION_DOMAIN);
    this._model = options.model;

    this.id = PANEL_ID;
    this.addClass('jp-EnvMod-panel');
    this.title.icon = environmentsIcon;
    this.title.caption = trans.__('Environments');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('Environments'));

    const heading = document.createElement('h2');
    heading.className = 'jp-EnvMod-title';
    heading.textContent = trans.__('Environments');
    this.header.addWidget(new Widget({ node: heading }));

    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        onClick: () => {
          void this._model.refresh(true);
        },
        tooltip: trans.__('Refresh site information')
      })
    );

    if (options.environments) {
      this.addWidget(options.environments);
    }
    this._view = new SiteInfoView({
      model: this._model,
      trans,
      showConfiguration: options.showConfiguration ?? true
    });
    this.addWidget(this._view);
    this._doctor = options.doctor ?? null;
    if (this._doctor) {
      // Collapsed until asked for: its checks run when it is first expanded.
      this.addWidget(this._doctor);
      this._accordion.collapse(this.widgets.indexOf(this._doctor));
      this._accordion.expansionToggled.connect(this._onExpansionToggled, this);
    }
    this._sized = !options.environments;
  }

  /**
   * The setup checks section, if the panel has one.
   */
  get doctor(): DoctorView | null {
    return this._doctor;
  }

  /**
   * Expand the setup checks section; run the checks again when they ran
   * before (expanding runs them the first time).
   */
  showDoctor(): void {
    const doctor = this._doctor;
    if (!doctor) {
      return;
    }
    const started = doctor.started;
    this._accordion.expand(this.widgets.indexOf(doctor));
    if (started) {
      void doctor.run();
    }
  }

  private get _accordion(): AccordionPanel {
    return this.content as AccordionPanel;
  }

  /**
   * The first time the setup checks are expanded, give them as much room as
   * the environments (the accordion alone would leave them a sliver); later
   * the user's own split stays.
   */
  private _onExpansionToggled(sender: AccordionPanel, index: number): void {
    const doctor = this._doctor;
    if (
      this._doctorSized ||
      !doctor ||
      sender.widgets[index] !== doctor ||
      doctor.isHidden
    ) {
      return;
    }
    this._doctorSized = true;
    sender.setRelativeSizes(
      sender.widgets.map((widget, i) =>
        widget === doctor ? 2 : i === 0 ? 2 : 1
      )
    );
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!this._sized) {
      // The environments get most of the height, the site section the rest
      // (once: later the user's own split stays).
      this._sized = true;
      this._accordion.setRelativeSizes(this._doctor ? [3, 1, 1] : [3, 1]);
    }
  }

  /**
   * The model shown.
   */
  get model(): SiteModel {
    return this._model;
  }

  /**
   * The view of the site information.
   */
  get view(): SiteInfoView {
    return this._view;
  }

  /**
   * Whether to show the "Configuration" section.
   */
  get showConfiguration(): boolean {
    return this._view.showConfiguration;
  }
  set showConfiguration(value: boolean) {
    this._view.showConfiguration = value;
  }

  private _doctor: DoctorView | null;
  private _doctorSized = false;
  private _model: SiteModel;
  private _sized: boolean;
  private _view: SiteInfoView;
}

/**
 * The namespace for `EnvironmentsPanel` statics.
 */
export namespace EnvironmentsPanel {
  /**
   * The options to create the panel.
   */
  export interface IOptions {
    model: SiteModel;
    translator?: ITranslator;
    /**
     * The environments section, shown above the site information.
     */
    environments?: Widget;
    /**
     * Whether to show the "Configuration" section; defaults to true.
     */
    showConfiguration?: boolean;
    /**
     * The setup checks section, shown (collapsed) below the site information.
     */
    doctor?: DoctorView;
  }
}

/**
 * The section of the panel showing the site information.
 */
export class SiteInfoView extends ReactWidget {
  constructor(options: SiteInfoView.IOptions) {
    super();
    this.addClass('jp-EnvMod-site');
    this.title.label = options.trans.__('Site');
    this._model = options.model;
    this._trans = options.trans;
    this._showConfiguration = options.showConfiguration;
    this._model.changed.connect(this._onModelChanged, this);
  }

  /**
   * Whether to show the "Configuration" section.
   */
  get showConfiguration(): boolean {
    return this._showConfiguration;
  }
  set showConfiguration(value: boolean) {
    if (value !== this._showConfiguration) {
      this._showConfiguration = value;
      this.update();
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._onModelChanged, this);
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <SiteInfoComponent
        model={this._model}
        trans={this._trans}
        showConfiguration={this._showConfiguration}
      />
    );
  }

  private _onModelChanged(): void {
    this.update();
  }

  private _model: SiteModel;
  private _showConfiguration: boolean;
  private _trans: TranslationBundle;
}

/**
 * The namespace for `SiteInfoView` statics.
 */
export namespace SiteInfoView {
  /**
   * The options to create the view.
   */
  export interface IOptions {
    model: SiteModel;
    trans: TranslationBundle;
    showConfiguration: boolean;
  }
}

/**
 * The properties of the site information component.
 */
interface ISiteInfoProps {
  model: SiteModel;
  trans: TranslationBundle;
  showConfiguration: boolean;
}

/**
 * Everything the panel shows below its toolbar.
 */
function SiteInfoComponent(props: ISiteInfoProps): JSX.Element {
  const { model, trans, showConfiguration } = props;
  const info = model.info;
  let notice: JSX.Element | null = null;
  switch (model.state) {
    case 'loading':
      notice = (
        <p className="jp-EnvMod-status">
          {trans.__('Loading site information…')}
        </p>
      );
      break;
    case 'server-missing':
      notice = <ServerMissingNotice trans={trans} error={model.error} />;
      break;
    case 'error':
      notice = <ErrorNotice trans={trans} error={model.error} />;
      break;
    case 'version-mismatch':
      notice = (
        <VersionMismatchNotice
          trans={trans}
          frontendVersion={model.frontendVersion}
          serverVersion={model.serverVersion ?? trans.__('unknown')}
        />
      );
      break;
    default:
      break;
  }
  return (
    <div
      className="jp-EnvMod-siteInfo"
      aria-busy={model.busy ? 'true' : 'false'}
      data-state={model.state}
      data-show-configuration={showConfiguration ? 'true' : 'false'}
    >
      {notice}
      {info && (
        <SiteDetails
          info={info}
          trans={trans}
          showConfiguration={showConfiguration}
        />
      )}
    </div>
  );
}

/**
 * Shown when the server extension does not answer.
 */
function ServerMissingNotice(props: {
  trans: TranslationBundle;
  error: EnvModAPIError | null;
}): JSX.Element {
  const { trans, error } = props;
  return (
    <Notice
      kind="error"
      title={trans.__('The jupyter_envmod server extension is not available')}
    >
      <p>
        {trans.__(
          'The jupyter_envmod server extension is not installed or not enabled in the Jupyter Server that runs JupyterLab, so this panel has nothing to show.'
        )}
      </p>
      <p>{trans.__('To fix it, in the environment that runs JupyterLab:')}</p>
      <ol className="jp-EnvMod-steps">
        <li>
          {trans.__('install it:')} <code>pip install jupyter_envmod</code>
        </li>
        <li>
          {trans.__('enable it:')}{' '}
          <code>jupyter server extension enable jupyter_envmod</code>
        </li>
        <li>{trans.__('restart the Jupyter Server and reload this page.')}</li>
      </ol>
      {error?.status === null && (
        <p className="jp-EnvMod-errorDetail">
          {trans.__('The request failed: %1', error.message)}
        </p>
      )}
    </Notice>
  );
}

/**
 * Shown when the server extension answers with an error.
 */
function ErrorNotice(props: {
  trans: TranslationBundle;
  error: EnvModAPIError | null;
}): JSX.Element {
  const { trans, error } = props;
  let message = error?.message ?? trans.__('Unknown error.');
  let hint: string | null = null;
  switch (error?.reason) {
    case 'invalid-configuration':
      hint = trans.__(
        'Fix the jupyter_envmod configuration of the Jupyter Server, restart it and refresh this panel.'
      );
      break;
    case 'invalid-response':
      message = trans.__(
        'The server answered with something that is not site information.'
      );
      break;
    case 'http-error':
      message = trans.__('The server answered: %1', error.message);
      break;
    default:
      break;
  }
  return (
    <Notice
      kind="error"
      title={trans.__('Could not read the site information')}
    >
      <p className="jp-EnvMod-errorMessage">{message}</p>
      {hint && <p>{hint}</p>}
      {error?.reason && (
        <p className="jp-EnvMod-errorDetail">
          {trans.__('Reason: %1', error.reason)}
        </p>
      )}
    </Notice>
  );
}

/**
 * Shown when the server extension and the front end differ in version.
 */
function VersionMismatchNotice(props: {
  trans: TranslationBundle;
  frontendVersion: string;
  serverVersion: string;
}): JSX.Element {
  const { trans, frontendVersion, serverVersion } = props;
  return (
    <Notice kind="warning" title={trans.__('Version mismatch')}>
      <p>
        {trans.__(
          'The jupyter_envmod extension of JupyterLab is version %1 but the jupyter_envmod server extension is version %2.',
          frontendVersion,
          serverVersion
        )}
      </p>
      <p>
        {trans.__(
          'Install a single version of jupyter_envmod for both in the environment that runs JupyterLab, then restart the Jupyter Server and reload this page.'
        )}
      </p>
    </Notice>
  );
}

/**
 * The frame of every notice: an alert with a title.
 */
function Notice(props: {
  kind: 'error' | 'warning';
  title: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div
      className={`jp-EnvMod-notice jp-EnvMod-notice-${props.kind}`}
      role="alert"
    >
      <h3 className="jp-EnvMod-noticeTitle">{props.title}</h3>
      {props.children}
    </div>
  );
}

/**
 * The sections describing the site.
 */
function SiteDetails(props: {
  info: ISiteInfo;
  trans: TranslationBundle;
  showConfiguration: boolean;
}): JSX.Element {
  const { info, trans, showConfiguration } = props;
  return (
    <div className="jp-EnvMod-details">
      <p className="jp-EnvMod-identity">
        {trans.__('User %1 on %2', info.user, info.arch)}
      </p>
      <EnginesSection info={info} trans={trans} />
      <LocationsSection config={info.config} trans={trans} />
      <ModuleSystemSection moduleSystem={info.module_system} trans={trans} />
      {showConfiguration && (
        <ConfigurationSection config={info.config} trans={trans} />
      )}
      <p className="jp-EnvMod-serverVersion">
        {trans.__('jupyter_envmod %1', info.version)}
      </p>
    </div>
  );
}

/**
 * The "Engines" section.
 */
function EnginesSection(props: {
  info: ISiteInfo;
  trans: TranslationBundle;
}): JSX.Element {
  const { info, trans } = props;
  const engines = info.engines ?? {};
  const names = [
    ...ENGINE_NAMES.filter(name => name in engines),
    ...Object.keys(engines).filter(
      name => !(ENGINE_NAMES as ReadonlyArray<string>).includes(name)
    )
  ];
  return (
    <section className="jp-EnvMod-section" aria-labelledby="jp-EnvMod-engines">
      <h3 id="jp-EnvMod-engines" className="jp-EnvMod-sectionTitle">
        {trans.__('Engines')}
      </h3>
      <ul className="jp-EnvMod-engines">
        {names.map(name => (
          <EngineRow
            key={name}
            name={name}
            engine={(engines as { [name: string]: IEngineInfo })[name]}
            isDefault={info.config?.default_engine === name}
            trans={trans}
          />
        ))}
      </ul>
    </section>
  );
}

/**
 * One engine.
 */
function EngineRow(props: {
  name: string;
  engine: IEngineInfo;
  isDefault: boolean;
  trans: TranslationBundle;
}): JSX.Element {
  const { name, engine, isDefault, trans } = props;
  const available = engine.available === true;
  return (
    <li
      className={`jp-EnvMod-engine ${
        available ? 'jp-mod-available' : 'jp-mod-unavailable'
      }`}
      data-engine={name}
      data-available={available ? 'true' : 'false'}
    >
      <div className="jp-EnvMod-engineHeader">
        <span className="jp-EnvMod-engineName">{name}</span>
        {isDefault && (
          <span className="jp-EnvMod-engineDefault">
            {trans.__('(default)')}
          </span>
        )}
        <span className="jp-EnvMod-engineStatus">
          {available ? trans.__('available') : trans.__('not available')}
        </span>
        {engine.version && (
          <span className="jp-EnvMod-engineVersion">
            {trans.__('version %1', engine.version)}
          </span>
        )}
      </div>
      {engine.detail && (
        <div className="jp-EnvMod-engineDetail">{engine.detail}</div>
      )}
    </li>
  );
}

/**
 * The "Where environments go" section.
 */
function LocationsSection(props: {
  config: ISiteConfig;
  trans: TranslationBundle;
}): JSX.Element {
  const { config, trans } = props;
  const envDirs = config.env_dirs ?? [];
  return (
    <section
      className="jp-EnvMod-section"
      aria-labelledby="jp-EnvMod-locations"
    >
      <h3 id="jp-EnvMod-locations" className="jp-EnvMod-sectionTitle">
        {trans.__('Where environments go')}
      </h3>
      <h4 className="jp-EnvMod-subTitle">
        {trans.__('Environment directories')}
      </h4>
      {envDirs.length > 0 ? (
        <ol className="jp-EnvMod-paths jp-EnvMod-envDirs">
          {envDirs.map((dir, index) => (
            <li key={`${index}:${dir}`} className="jp-EnvMod-envDir">
              <code className="jp-EnvMod-path">{dir}</code>
              {index === 0 && (
                <span className="jp-EnvMod-mark">
                  {trans.__('(new environments go here)')}
                </span>
              )}
            </li>
          ))}
        </ol>
      ) : (
        <p className="jp-EnvMod-empty">
          {trans.__('No environment directory is configured.')}
        </p>
      )}
      <dl className="jp-EnvMod-fields">
        <dt>{trans.__('Module files')}</dt>
        <dd>
          <PathOrUnset path={config.module_dir} trans={trans} />
        </dd>
        <dt>{trans.__('Kernel specs')}</dt>
        <dd>
          <PathOrUnset path={config.kernel_dir} trans={trans} />
        </dd>
      </dl>
    </section>
  );
}

/**
 * A path, or a note that it is not set.
 */
function PathOrUnset(props: {
  path: string | undefined;
  trans: TranslationBundle;
}): JSX.Element {
  return props.path ? (
    <code className="jp-EnvMod-path">{props.path}</code>
  ) : (
    <span className="jp-EnvMod-empty">{props.trans.__('not set')}</span>
  );
}

/**
 * The "Module system" section.
 */
function ModuleSystemSection(props: {
  moduleSystem: IModuleSystemInfo;
  trans: TranslationBundle;
}): JSX.Element {
  const { moduleSystem, trans } = props;
  let summary: string;
  switch (moduleSystem.kind) {
    case 'lmod':
      summary = moduleSystem.version
        ? trans.__('Lmod %1', moduleSystem.version)
        : trans.__('Lmod');
      break;
    case 'environment-modules':
      summary = moduleSystem.version
        ? trans.__('Environment Modules %1', moduleSystem.version)
        : trans.__('Environment Modules');
      break;
    default:
      summary = trans.__('No module system found');
      break;
  }
  return (
    <section
      className="jp-EnvMod-section"
      aria-labelledby="jp-EnvMod-moduleSystem"
    >
      <h3 id="jp-EnvMod-moduleSystem" className="jp-EnvMod-sectionTitle">
        {trans.__('Module system')}
      </h3>
      <p
        className="jp-EnvMod-moduleSummary"
        data-module-system={moduleSystem.kind ?? 'none'}
      >
        {summary}
      </p>
      {moduleSystem.command && (
        <p className="jp-EnvMod-moduleCommand">
          {trans.__('Command:')} <code>{moduleSystem.command}</code>
        </p>
      )}
      {moduleSystem.detail && (
        <p className="jp-EnvMod-moduleDetail">{moduleSystem.detail}</p>
      )}
    </section>
  );
}

/**
 * The "Configuration" section: every configuration value not shown above.
 */
function ConfigurationSection(props: {
  config: ISiteConfig;
  trans: TranslationBundle;
}): JSX.Element {
  const { config, trans } = props;
  const keys = Object.keys(config).filter(
    key => !(LOCATION_KEYS as ReadonlyArray<string>).includes(key)
  );
  return (
    <section
      className="jp-EnvMod-section"
      aria-labelledby="jp-EnvMod-configuration"
    >
      <h3 id="jp-EnvMod-configuration" className="jp-EnvMod-sectionTitle">
        {trans.__('Configuration')}
      </h3>
      <p className="jp-EnvMod-hint">
        {trans.__(
          'The effective settings of the server extension (EnvMod options of the Jupyter Server configuration).'
        )}
      </p>
      <dl className="jp-EnvMod-fields jp-EnvMod-config">
        {keys.map(key => (
          <React.Fragment key={key}>
            <dt>
              <code>{key}</code>
            </dt>
            <dd data-config-key={key}>
              <ConfigValue
                value={(config as unknown as { [key: string]: unknown })[key]}
                trans={trans}
              />
            </dd>
          </React.Fragment>
        ))}
      </dl>
    </section>
  );
}

/**
 * One configuration value, whatever its type.
 */
function ConfigValue(props: {
  value: unknown;
  trans: TranslationBundle;
}): JSX.Element {
  const { value, trans } = props;
  if (value === null || value === undefined || value === '') {
    return <span className="jp-EnvMod-empty">{trans.__('not set')}</span>;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return <span className="jp-EnvMod-empty">{trans.__('none')}</span>;
    }
    return (
      <ul className="jp-EnvMod-values">
        {value.map((item, index) => (
          <li key={index}>
            <code>{String(item)}</code>
          </li>
        ))}
      </ul>
    );
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as { [key: string]: unknown });
    if (entries.length === 0) {
      return <span className="jp-EnvMod-empty">{trans.__('none')}</span>;
    }
    return (
      <ul className="jp-EnvMod-values">
        {entries.map(([key, item]) => (
          <li key={key}>
            <code>{`${key}=${String(item)}`}</code>
          </li>
        ))}
      </ul>
    );
  }
  if (typeof value === 'boolean') {
    return <span>{value ? trans.__('yes') : trans.__('no')}</span>;
  }
  return <code>{String(value)}</code>;
}
