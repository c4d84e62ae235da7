import { LabIcon } from '@jupyterlab/ui-components';

/**
 * Three stacked layers with a small box on top: environments built one on
 * top of another. The `jp-icon3` class lets the theme choose the colour.
 */
const ENVIRONMENTS_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 3.2 21 7.6l-9 4.4-9-4.4zm0 2.3L7.7 7.6 12 9.7l4.3-2.1z"/>
    <path d="m4.9 10.9 7.1 3.5 7.1-3.5 1.9.9-9 4.4-9-4.4z"/>
    <path d="m4.9 14.9 7.1 3.5 7.1-3.5 1.9.9-9 4.4-9-4.4z"/>
  </g>
</svg>`;

/**
 * The icon of the Environments panel.
 */
export const environmentsIcon = new LabIcon({
  name: 'jupyter-envmod:environments',
  svgstr: ENVIRONMENTS_SVG
});
